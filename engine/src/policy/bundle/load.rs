//! Bundle text → [`Bundle`]: parse with spans, detect the format version, walk every field,
//! collect every problem (located), and fail once with all of them.
//!
//! Stricter than anchore-engine on purpose (anchore-policy.md §9): regexes are compiled at load,
//! non-string param values are rejected, unreferenced policies are validated too. End-of-life
//! gates are accepted with a warning (§4.13).

use chrono::{DateTime, NaiveDateTime, Utc};
use miette::{NamedSource, SourceSpan};
use sha2::{Digest, Sha256};

use super::source::{Node, NodeKind, parse_json};
use super::{
    Allowlist, AllowlistItem, Bundle, BundleFormat, ImageRule, ImageSelector, Mapping, Rule,
    RuleSet,
};
use crate::policy::Action;
use crate::policy::error::{BundleProblem, PolicyError, ProblemKind};
use crate::policy::gates::{self, ParamKind, eol};

struct Cx {
    problems: Vec<BundleProblem>,
    warnings: Vec<String>,
    /// The text the spans point into (for `line:column` in warnings).
    text: String,
}

impl Cx {
    /// `line L, column C` (1-based) of a span, for warnings (which carry no source).
    fn position(&self, span: SourceSpan) -> String {
        let before = self.text.get(..span.offset()).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("line {line}, column {column}")
    }

    fn problem(
        &mut self,
        kind: ProblemKind,
        span: SourceSpan,
        message: String,
        help: Option<String>,
    ) {
        self.problems.push(BundleProblem {
            kind,
            message,
            span,
            help,
        });
    }

    /// A string member; reports when required and absent or when not a string.
    fn str_field(
        &mut self,
        obj: &Node,
        key: &str,
        required: bool,
        what: &str,
    ) -> Option<(String, SourceSpan)> {
        match obj.get(key) {
            Some(Node {
                kind: NodeKind::Str(s),
                span,
            }) => Some((s.clone(), *span)),
            Some(Node {
                kind: NodeKind::Null,
                ..
            })
            | None => {
                if required {
                    self.problem(
                        ProblemKind::BadField,
                        obj.span,
                        format!("{what} has no `{key}`"),
                        Some(format!("add a string `{key}` to {what}")),
                    );
                }
                None
            }
            Some(other) => {
                self.problem(
                    ProblemKind::BadField,
                    other.span,
                    format!(
                        "`{key}` of {what} must be a string, found {}",
                        other.kind_name()
                    ),
                    None,
                );
                None
            }
        }
    }

    fn array<'n>(&mut self, obj: &'n Node, key: &str, required: bool, what: &str) -> &'n [Node] {
        match obj.get(key) {
            Some(Node {
                kind: NodeKind::Array(items),
                ..
            }) => items,
            Some(Node {
                kind: NodeKind::Null,
                ..
            })
            | None => {
                if required {
                    self.problem(
                        ProblemKind::BadField,
                        obj.span,
                        format!("{what} has no `{key}` list"),
                        Some(format!("add `\"{key}\": []` to {what}")),
                    );
                }
                &[]
            }
            Some(other) => {
                self.problem(
                    ProblemKind::BadField,
                    other.span,
                    format!(
                        "`{key}` of {what} must be a list, found {}",
                        other.kind_name()
                    ),
                    None,
                );
                &[]
            }
        }
    }

    fn string_list(&mut self, obj: &Node, key: &str, what: &str) -> Vec<(String, SourceSpan)> {
        let mut out = Vec::new();
        for item in self.array(obj, key, false, what) {
            match &item.kind {
                NodeKind::Str(s) => out.push((s.clone(), item.span)),
                _ => self.problem(
                    ProblemKind::BadField,
                    item.span,
                    format!("entries of `{key}` in {what} must be strings"),
                    None,
                ),
            }
        }
        out
    }
}

#[allow(clippy::result_large_err)] // PolicyError carries the bundle text for located diagnostics
pub(super) fn load(name: &str, text: &str, yaml: bool) -> Result<Bundle, PolicyError> {
    let looks_json = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{');
    let (shown_name, shown_text, format) = if yaml || !looks_json {
        let value: serde_json::Value = yaml_serde::from_str(text).map_err(|e| {
            let offset = e.location().map_or(0, |l| l.index());
            PolicyError::Syntax {
                name: name.to_string(),
                format: "YAML",
                message: e.to_string(),
                src: NamedSource::new(name, text.to_string()),
                span: (offset.min(text.len()), 0).into(),
            }
        })?;
        let json = serde_json::to_string_pretty(&value)
            .map_err(|source| PolicyError::Serialize { source })?;
        (format!("{name} (as JSON)"), json, "YAML")
    } else {
        (name.to_string(), text.to_string(), "JSON")
    };
    let root = parse_json(&shown_text).map_err(|e| PolicyError::Syntax {
        name: name.to_string(),
        format,
        message: e.message.clone(),
        src: NamedSource::new(&shown_name, shown_text.clone()),
        span: (e.offset, 0).into(),
    })?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())));
    let src = || NamedSource::new(&shown_name, shown_text.clone());

    if !matches!(root.kind, NodeKind::Object(_)) {
        return Err(PolicyError::Invalid {
            name: name.to_string(),
            count: 1,
            src: src(),
            problems: vec![BundleProblem {
                kind: ProblemKind::BadField,
                message: format!("a bundle must be a JSON object, found {}", root.kind_name()),
                span: root.span,
                help: None,
            }],
        });
    }
    let format = match root.get("version") {
        Some(Node {
            kind: NodeKind::Str(v),
            ..
        }) if v == "1_0" => BundleFormat::V1,
        Some(Node {
            kind: NodeKind::Str(v),
            ..
        }) if v == "2" => BundleFormat::V2,
        Some(node) => {
            return Err(PolicyError::UnsupportedVersion {
                found: match &node.kind {
                    NodeKind::Str(s) => format!("`{s}`"),
                    _ => node.kind_name().to_string(),
                },
                src: src(),
                span: node.span,
            });
        }
        None => {
            return Err(PolicyError::UnsupportedVersion {
                found: "(missing)".into(),
                src: src(),
                span: (0, 1).into(),
            });
        }
    };
    let mut cx = Cx {
        problems: Vec::new(),
        warnings: Vec::new(),
        text: shown_text.clone(),
    };
    let bundle = walk(&mut cx, &root, format, digest);
    if cx.problems.is_empty() {
        let mut bundle = bundle;
        bundle.warnings = cx.warnings;
        Ok(bundle)
    } else {
        Err(PolicyError::Invalid {
            name: name.to_string(),
            count: cx.problems.len(),
            src: src(),
            problems: cx.problems,
        })
    }
}

fn walk(cx: &mut Cx, root: &Node, format: BundleFormat, digest: String) -> Bundle {
    let v2 = format == BundleFormat::V2;
    let (k_sets, k_lists, k_allow_img, k_deny_img, k_desc) = if v2 {
        (
            "rule_sets",
            "allowlists",
            "allowlisted_images",
            "denylisted_images",
            "description",
        )
    } else {
        (
            "policies",
            "whitelists",
            "whitelisted_images",
            "blacklisted_images",
            "comment",
        )
    };
    let id = cx.str_field(root, "id", false, "the bundle").map(|s| s.0);
    let name = cx
        .str_field(root, "name", false, "the bundle")
        .map(|s| s.0)
        .unwrap_or_default();
    let id = id.unwrap_or_else(|| {
        cx.warnings
            .push("the bundle has no `id`; using its digest".into());
        digest.clone()
    });
    let description = cx
        .str_field(root, k_desc, false, "the bundle")
        .map(|s| s.0)
        .unwrap_or_default();

    let mut rule_sets = Vec::new();
    let mut set_spans: Vec<(String, SourceSpan)> = Vec::new();
    for node in cx.array(root, k_sets, true, "the bundle") {
        if let Some((rs, span)) = rule_set(cx, node, v2) {
            set_spans.push((rs.id.clone(), span));
            rule_sets.push(rs);
        }
    }
    duplicates(cx, &set_spans, if v2 { "rule set" } else { "policy" });

    let mut allowlists = Vec::new();
    let mut list_spans = Vec::new();
    for node in cx.array(root, k_lists, false, "the bundle") {
        if let Some((al, span)) = allowlist(cx, node, v2) {
            list_spans.push((al.id.clone(), span));
            allowlists.push(al);
        }
    }
    duplicates(cx, &list_spans, if v2 { "allowlist" } else { "whitelist" });

    let mut mappings = Vec::new();
    for (i, node) in cx
        .array(root, "mappings", true, "the bundle")
        .iter()
        .enumerate()
    {
        if let Some(m) = mapping(cx, node, v2, i, &rule_sets, &allowlists) {
            mappings.push(m);
        }
    }
    let allowlisted_images = cx
        .array(root, k_allow_img, false, "the bundle")
        .iter()
        .filter_map(|n| image_rule(cx, n, k_allow_img))
        .collect();
    let denylisted_images = cx
        .array(root, k_deny_img, false, "the bundle")
        .iter()
        .filter_map(|n| image_rule(cx, n, k_deny_img))
        .collect();

    Bundle {
        id,
        name,
        description,
        format,
        rule_sets,
        allowlists,
        mappings,
        allowlisted_images,
        denylisted_images,
        digest,
        warnings: Vec::new(),
    }
}

fn duplicates(cx: &mut Cx, ids: &[(String, SourceSpan)], what: &str) {
    for (i, (id, span)) in ids.iter().enumerate() {
        if ids[..i].iter().any(|(other, _)| other == id) {
            cx.problem(
                ProblemKind::DuplicateId,
                *span,
                format!("duplicate {what} id `{id}`"),
                Some(format!("give each {what} a unique `id`")),
            );
        }
    }
}

/// The fields a rule set and an allowlist share: an object with a required `id`, a `version`,
/// an optional `name` and `description` (v2) / `comment` (v1).
struct Header {
    id: String,
    id_span: SourceSpan,
    /// `policy `ID`` / `allowlist `ID`` for messages.
    what: String,
    name: String,
    description: String,
}

fn header(cx: &mut Cx, node: &Node, v2: bool, kind: &str) -> Option<Header> {
    if !matches!(node.kind, NodeKind::Object(_)) {
        cx.problem(
            ProblemKind::BadField,
            node.span,
            format!("each {kind} must be an object"),
            None,
        );
        return None;
    }
    let (id, id_span) = cx.str_field(node, "id", true, &format!("a {kind}"))?;
    let what = format!("{kind} `{id}`");
    version_field(cx, node, v2, &what);
    let name = cx
        .str_field(node, "name", false, &what)
        .map(|s| s.0)
        .unwrap_or_default();
    let description = cx
        .str_field(
            node,
            if v2 { "description" } else { "comment" },
            false,
            &what,
        )
        .map(|s| s.0)
        .unwrap_or_default();
    Some(Header {
        id,
        id_span,
        what,
        name,
        description,
    })
}

fn rule_set(cx: &mut Cx, node: &Node, v2: bool) -> Option<(RuleSet, SourceSpan)> {
    let Header {
        id,
        id_span,
        what,
        name,
        description,
    } = header(cx, node, v2, if v2 { "rule set" } else { "policy" })?;
    let mut rules = Vec::new();
    for (i, r) in cx.array(node, "rules", true, &what).iter().enumerate() {
        if let Some(rule) = rule(cx, r, v2, &id, i) {
            rules.push(rule);
        }
    }
    Some((
        RuleSet {
            id,
            name,
            description,
            rules,
        },
        id_span,
    ))
}

fn version_field(cx: &mut Cx, node: &Node, v2: bool, what: &str) {
    if let Some((v, span)) = cx.str_field(node, "version", !v2, what) {
        {
            let ok = if v2 {
                v == "2" || v == "2_0"
            } else {
                v == "1_0"
            };
            if !ok {
                let want = if v2 { "\"2\"" } else { "\"1_0\"" };
                cx.problem(
                    ProblemKind::BadField,
                    span,
                    format!("{what} has unsupported version `{v}`"),
                    Some(format!("set its `version` to {want}")),
                );
            }
        }
    }
}

fn rule(cx: &mut Cx, node: &Node, v2: bool, set: &str, index: usize) -> Option<Rule> {
    if !matches!(node.kind, NodeKind::Object(_)) {
        cx.problem(
            ProblemKind::BadField,
            node.span,
            format!("rule {} of `{set}` must be an object", index + 1),
            None,
        );
        return None;
    }
    let id = cx
        .str_field(node, "id", v2, &format!("rule {} of `{set}`", index + 1))
        .map(|s| s.0)
        .unwrap_or_default();
    let what = if id.is_empty() {
        format!("rule {} of `{set}`", index + 1)
    } else {
        format!("rule `{id}` of `{set}`")
    };
    let gate_f = cx.str_field(node, "gate", true, &what);
    let trigger_f = cx.str_field(node, "trigger", true, &what);
    let action = match cx.str_field(node, "action", true, &what) {
        Some((a, span)) => match a.to_ascii_uppercase().as_str() {
            "GO" => Some(Action::Go),
            "WARN" => Some(Action::Warn),
            "STOP" => Some(Action::Stop),
            _ => {
                cx.problem(
                    ProblemKind::BadAction,
                    span,
                    format!("{what} has invalid action `{a}`"),
                    Some("use `GO`, `WARN` or `STOP`".into()),
                );
                None
            }
        },
        None => None,
    };
    let params_node = node.get("params");
    let mut given: Vec<(String, Option<String>, SourceSpan, SourceSpan)> = Vec::new();
    match params_node {
        Some(Node {
            kind: NodeKind::Array(items),
            ..
        }) => {
            for p in items {
                let Some((pname, pspan)) =
                    cx.str_field(p, "name", true, &format!("a param of {what}"))
                else {
                    continue;
                };
                match p.get("value") {
                    Some(Node {
                        kind: NodeKind::Str(s),
                        span,
                    }) => given.push((pname, Some(s.clone()), pspan, *span)),
                    Some(Node {
                        kind: NodeKind::Null,
                        span,
                    }) => given.push((pname, None, pspan, *span)),
                    None => given.push((pname, None, pspan, p.span)),
                    Some(other) => {
                        cx.problem(
                            ProblemKind::BadParamValue,
                            other.span,
                            format!(
                                "param `{pname}` of {what} must be a string, found {}",
                                other.kind_name()
                            ),
                            Some(format!("quote the value: \"{}\"", other.to_value())),
                        );
                    }
                }
            }
        }
        None
        | Some(Node {
            kind: NodeKind::Null,
            ..
        }) => {
            if v2 {
                cx.problem(
                    ProblemKind::BadField,
                    node.span,
                    format!("{what} has no `params` list"),
                    Some("add `\"params\": []`".into()),
                );
            }
        }
        Some(other) => cx.problem(
            ProblemKind::BadField,
            other.span,
            format!("`params` of {what} must be a list"),
            None,
        ),
    }
    let description = cx
        .str_field(node, "description", false, &what)
        .map(|s| s.0)
        .unwrap_or_default();
    let recommendation = cx
        .str_field(node, "recommendation", false, &what)
        .map(|s| s.0)
        .unwrap_or_default();
    let ((gate_name, gate_span), (trigger_name, trigger_span)) = (gate_f?, trigger_f?);

    let Some(gate) = gates::gate(&gate_name) else {
        if eol::eol_gate(&gate_name).is_some() {
            let g = gate_name.to_ascii_lowercase();
            let t = trigger_name.to_ascii_lowercase();
            cx.warnings
                .push(format!("{what}: {}", eol::eol_message(&g, &t)));
            return Some(Rule {
                id,
                gate: g,
                trigger: t,
                action: action.unwrap_or_default(),
                params: given
                    .into_iter()
                    .filter_map(|(n, v, _, _)| Some((n.to_ascii_lowercase(), v?)))
                    .collect(),
                recommendation,
                description,
                eol: true,
            });
        }
        let help = match eol::UNSUPPORTED_GATES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&gate_name))
        {
            Some((_, why)) => format!("gate `{gate_name}` is not supported by Tollgate: {why}"),
            None => format!(
                "known gates: {}",
                gates::GATES
                    .iter()
                    .map(|g| g.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        cx.problem(
            ProblemKind::UnknownGate,
            gate_span,
            format!("{what} uses unknown gate `{gate_name}`"),
            Some(help),
        );
        return None;
    };
    let Some(trigger) = gate.trigger(&trigger_name) else {
        let known: Vec<&str> = gate.triggers().iter().map(|t| t.name).collect();
        cx.problem(
            ProblemKind::UnknownTrigger,
            trigger_span,
            format!(
                "{what}: gate `{}` has no trigger `{trigger_name}`",
                gate.name()
            ),
            Some(format!(
                "triggers of `{}`: {}",
                gate.name(),
                known.join(", ")
            )),
        );
        return None;
    };
    let mut params: Vec<(String, String)> = Vec::new();
    for (pname, value, name_span, value_span) in &given {
        let Some(spec) = trigger.param(pname) else {
            let known: Vec<&str> = trigger.params.iter().map(|p| p.name).collect();
            let help = if known.is_empty() {
                format!("`{}/{}` takes no params", gate.name(), trigger.name)
            } else {
                format!(
                    "params of `{}/{}`: {}",
                    gate.name(),
                    trigger.name,
                    known.join(", ")
                )
            };
            cx.problem(
                ProblemKind::UnknownParam,
                *name_span,
                format!(
                    "{what}: unknown param `{pname}` for `{}/{}`",
                    gate.name(),
                    trigger.name
                ),
                Some(help),
            );
            continue;
        };
        let Some(value) = value else { continue };
        let normalised = check_value(cx, spec.kind, value, *value_span, &what, spec.name, &given);
        if let Some(v) = normalised {
            params.retain(|(n, _)| n != spec.name);
            params.push((spec.name.to_string(), v));
        }
    }
    for spec in trigger.params.iter().filter(|p| p.required) {
        let present = given.iter().any(|(n, v, _, _)| {
            v.is_some() && trigger.param(n).is_some_and(|s| s.name == spec.name)
        });
        if !present {
            let span = params_node.map_or(node.span, |p| p.span);
            cx.problem(
                ProblemKind::MissingParam,
                span,
                format!(
                    "{what}: `{}/{}` requires param `{}`",
                    gate.name(),
                    trigger.name,
                    spec.name
                ),
                Some(format!(
                    "add {{\"name\": \"{}\", \"value\": …}} ({})",
                    spec.name,
                    spec.kind.describe()
                )),
            );
        }
    }
    Some(Rule {
        id,
        gate: gate.name().to_string(),
        trigger: trigger.name.to_string(),
        action: action?,
        params,
        recommendation,
        description,
        eol: false,
    })
}

/// Validates one value; returns the normalised value.
fn check_value(
    cx: &mut Cx,
    kind: ParamKind,
    value: &str,
    span: SourceSpan,
    what: &str,
    name: &str,
    all: &[(String, Option<String>, SourceSpan, SourceSpan)],
) -> Option<String> {
    let bad = |cx: &mut Cx, expected: String| {
        cx.problem(
            ProblemKind::BadParamValue,
            span,
            format!("{what}: param `{name}` has invalid value `{value}`"),
            Some(format!("`{name}` takes a {expected}")),
        );
        None
    };
    let list_ok = |v: &str, item: &dyn Fn(&str) -> bool| {
        let parts: Vec<&str> = v.split(',').collect();
        !v.trim().is_empty() && parts.iter().all(|p| !p.trim().is_empty() && item(p.trim()))
    };
    match kind {
        ParamKind::Str => Some(value.to_string()),
        ParamKind::Enum(options) => {
            if options.contains(&value) {
                Some(value.to_string())
            } else {
                bad(cx, kind.describe())
            }
        }
        ParamKind::EnumNoCase(options) => match options
            .iter()
            .find(|o| o.eq_ignore_ascii_case(value.trim()))
        {
            Some(o) => Some((*o).to_string()),
            None => bad(cx, kind.describe()),
        },
        ParamKind::CommaList => {
            if list_ok(value, &|_| true) {
                Some(value.to_string())
            } else {
                bad(cx, kind.describe())
            }
        }
        ParamKind::NumberList => {
            if list_ok(value, &|p| p.chars().all(|c| c.is_ascii_digit())) {
                Some(value.to_string())
            } else {
                bad(cx, kind.describe())
            }
        }
        ParamKind::Integer => {
            let t = value.trim();
            if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
                Some(value.to_string())
            } else {
                bad(cx, kind.describe())
            }
        }
        ParamKind::Float => {
            let t = value.trim();
            if t.is_empty() || t == "-" || t.parse::<f64>().is_ok_and(f64::is_finite) {
                Some(value.to_string())
            } else {
                bad(cx, kind.describe())
            }
        }
        ParamKind::Boolean => {
            if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") {
                Some(value.to_ascii_lowercase())
            } else {
                bad(cx, kind.describe())
            }
        }
        // Anchore accepts any string here and fails only when the trigger runs (§9.11); so
        // does Tollgate: the bundle loads with a located warning, and evaluating the rule
        // reports an evaluation error (see `policy::evaluate`).
        ParamKind::Regex => {
            if let Some(last) = regex_error(value) {
                let at = cx.position(span);
                cx.warnings.push(format!(
                    "{what}: param `{name}` ({at}) is not a valid regular expression ({last}); the rule is kept as Anchore keeps it, and evaluating it is an error"
                ));
            }
            Some(value.to_string())
        }
        ParamKind::MetadataValue => {
            let attribute = all
                .iter()
                .find(|(n, _, _, _)| n.eq_ignore_ascii_case("attribute"))
                .and_then(|(_, v, _, _)| v.as_deref());
            match attribute {
                Some("size") => {
                    if crate::policy::gates::parse_size_param(value) {
                        Some(value.to_string())
                    } else {
                        bad(
                            cx,
                            "size: digits with an optional lower-case kb/mb/gb/tb unit".into(),
                        )
                    }
                }
                Some("layer_count") => {
                    let t = value.trim();
                    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
                        Some(value.to_string())
                    } else {
                        bad(cx, "integer string".into())
                    }
                }
                _ => Some(value.to_string()),
            }
        }
    }
}

/// The last line of the compile error of `pattern` (as the gates compile it), if it fails.
pub(crate) fn regex_error(pattern: &str) -> Option<String> {
    match regex::Regex::new(pattern) {
        Ok(_) => None,
        Err(e) => Some(
            e.to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string(),
        ),
    }
}

/// Parses an allowlist `expires_on` in the accepted UTC forms.
pub(crate) fn parse_expiry(v: &str, v2: bool) -> Option<DateTime<Utc>> {
    for f in [
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%S:%fZ",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t.and_utc());
        }
    }
    if v2 {
        return DateTime::parse_from_rfc3339(v)
            .ok()
            .map(|t| t.with_timezone(&Utc));
    }
    None
}

fn allowlist(cx: &mut Cx, node: &Node, v2: bool) -> Option<(Allowlist, SourceSpan)> {
    let Header {
        id,
        id_span: span,
        what,
        name,
        description,
    } = header(cx, node, v2, if v2 { "allowlist" } else { "whitelist" })?;
    let mut items = Vec::new();
    for item in cx.array(node, "items", true, &what) {
        let iwhat = format!("an item of {what}");
        let item_id = cx
            .str_field(item, "id", false, &iwhat)
            .map(|s| s.0)
            .unwrap_or_default();
        let gate = cx.str_field(item, "gate", true, &iwhat);
        let trigger_id = cx.str_field(item, "trigger_id", true, &iwhat);
        let expires_on = match item.get("expires_on") {
            Some(Node {
                kind: NodeKind::Str(s),
                span,
            }) if !s.is_empty() => {
                match parse_expiry(s, v2) {
                    Some(t) => Some(t),
                    None => {
                        cx.problem(ProblemKind::BadExpiresOn, *span, format!("item `{item_id}` of {what} has invalid `expires_on` `{s}`"), Some("use UTC `YYYY-MM-DDTHH:MM:SSZ` (optionally with `.ffffff` fraction)".into()));
                        None
                    }
                }
            }
            Some(Node {
                kind: NodeKind::Str(_) | NodeKind::Null,
                ..
            })
            | None => None,
            Some(other) => {
                cx.problem(
                    ProblemKind::BadExpiresOn,
                    other.span,
                    format!("`expires_on` of item `{item_id}` must be a string"),
                    None,
                );
                None
            }
        };
        if let Some((_, tspan)) = &trigger_id
            && let Some((t, _)) = &trigger_id
            && let Some(re) = t.strip_prefix("regexp:")
            && regex::Regex::new(re).is_err()
        {
            cx.problem(
                ProblemKind::BadRegex,
                *tspan,
                format!("item `{item_id}` of {what}: `trigger_id` regexp does not compile"),
                None,
            );
        }
        let item_desc = cx
            .str_field(
                item,
                if v2 { "description" } else { "comment" },
                false,
                &iwhat,
            )
            .map(|s| s.0)
            .unwrap_or_default();
        if let (Some((gate, _)), Some((trigger_id, _))) = (gate, trigger_id) {
            items.push(AllowlistItem {
                id: item_id,
                gate,
                trigger_id,
                expires_on,
                description: item_desc,
            });
        }
    }
    Some((
        Allowlist {
            id,
            name,
            description,
            items,
        },
        span,
    ))
}

fn selector(cx: &mut Cx, node: &Node, what: &str) -> Option<(String, String, ImageSelector)> {
    let registry = cx.str_field(node, "registry", true, what);
    let repository = cx.str_field(node, "repository", true, what);
    let image = match node.get("image") {
        Some(
            img @ Node {
                kind: NodeKind::Object(_),
                ..
            },
        ) => {
            let kind = cx.str_field(img, "type", true, &format!("`image` of {what}"));
            let value = cx.str_field(img, "value", true, &format!("`image` of {what}"));
            match (kind, value) {
                (Some((k, kspan)), Some((v, _))) => {
                    if !matches!(k.as_str(), "tag" | "digest" | "id") {
                        cx.problem(
                            ProblemKind::BadSelector,
                            kspan,
                            format!("`image.type` of {what} is `{k}`"),
                            Some("use `tag`, `digest` or `id`".into()),
                        );
                        None
                    } else {
                        Some(ImageSelector { kind: k, value: v })
                    }
                }
                _ => None,
            }
        }
        Some(other) => {
            cx.problem(
                ProblemKind::BadSelector,
                other.span,
                format!("`image` of {what} must be an object {{type, value}}"),
                None,
            );
            None
        }
        None => {
            cx.problem(
                ProblemKind::BadSelector,
                node.span,
                format!("{what} has no `image` selector"),
                Some("add `\"image\": {\"type\": \"tag\", \"value\": \"*\"}`".into()),
            );
            None
        }
    };
    for (field, value) in [("registry", &registry), ("repository", &repository)] {
        if let Some((v, span)) = value
            && let Some(re) = v.strip_prefix("regexp:")
            && regex::Regex::new(re).is_err()
        {
            cx.problem(
                ProblemKind::BadRegex,
                *span,
                format!("`{field}` of {what}: regexp does not compile"),
                None,
            );
        }
    }
    Some((registry?.0, repository?.0, image?))
}

fn mapping(
    cx: &mut Cx,
    node: &Node,
    v2: bool,
    index: usize,
    sets: &[RuleSet],
    lists: &[Allowlist],
) -> Option<Mapping> {
    let id = cx
        .str_field(node, "id", v2, &format!("mapping {}", index + 1))
        .map(|s| s.0)
        .unwrap_or_default();
    let name = cx
        .str_field(node, "name", false, &format!("mapping {}", index + 1))
        .map(|s| s.0)
        .unwrap_or_default();
    let what = if name.is_empty() {
        format!("mapping {}", index + 1)
    } else {
        format!("mapping `{name}`")
    };
    let sel = selector(cx, node, &what);
    let (set_key, list_key, set_kind, list_kind) = if v2 {
        ("rule_set_ids", "allowlist_ids", "rule set", "allowlist")
    } else {
        ("policy_ids", "whitelist_ids", "policy", "whitelist")
    };
    let mut set_ids = Vec::new();
    if v2 {
        if node.get(set_key).is_none() {
            cx.problem(
                ProblemKind::BadField,
                node.span,
                format!("{what} has no `{set_key}`"),
                Some(format!("add `\"{set_key}\": [...]`")),
            );
        }
        set_ids = cx.string_list(node, set_key, &what);
    } else {
        let single = cx.str_field(node, "policy_id", false, &what);
        let many = node
            .get("policy_ids")
            .map(|_| cx.string_list(node, "policy_ids", &what));
        match (single, many) {
            (Some(_), Some(_)) => cx.problem(
                ProblemKind::BadField,
                node.span,
                format!("{what} has both `policy_id` and `policy_ids`"),
                Some("keep only `policy_ids`".into()),
            ),
            (None, None) => cx.problem(
                ProblemKind::BadField,
                node.span,
                format!("{what} names no policy"),
                Some("add `\"policy_ids\": [\"…\"]`".into()),
            ),
            (Some(s), None) => set_ids = vec![s],
            (None, Some(m)) => set_ids = m,
        }
    }
    if node.get(list_key).is_none() {
        cx.problem(
            ProblemKind::BadField,
            node.span,
            format!("{what} has no `{list_key}`"),
            Some(format!("add `\"{list_key}\": []`")),
        );
    }
    let list_ids = cx.string_list(node, list_key, &what);
    for (sid, span) in &set_ids {
        if !sets.iter().any(|s| &s.id == sid) {
            let known: Vec<&str> = sets.iter().map(|s| s.id.as_str()).collect();
            cx.problem(
                ProblemKind::MissingReference,
                *span,
                format!("{what} references {set_kind} `{sid}`, which does not exist"),
                Some(format!("existing {set_kind} ids: {}", known.join(", "))),
            );
        }
    }
    for (lid, span) in &list_ids {
        if !lists.iter().any(|l| &l.id == lid) {
            cx.problem(
                ProblemKind::MissingReference,
                *span,
                format!("{what} references {list_kind} `{lid}`, which does not exist"),
                Some(format!(
                    "add the {list_kind} or remove the id from `{list_key}`"
                )),
            );
        }
    }
    let (registry, repository, image) = sel?;
    Some(Mapping {
        id,
        name,
        registry,
        repository,
        image,
        rule_set_ids: set_ids.into_iter().map(|s| s.0).collect(),
        allowlist_ids: list_ids.into_iter().map(|s| s.0).collect(),
    })
}

fn image_rule(cx: &mut Cx, node: &Node, key: &str) -> Option<ImageRule> {
    let id = cx
        .str_field(node, "id", false, &format!("an entry of `{key}`"))
        .map(|s| s.0)
        .unwrap_or_default();
    let name = cx
        .str_field(node, "name", false, &format!("an entry of `{key}`"))
        .map(|s| s.0)
        .unwrap_or_default();
    let what = format!(
        "entry `{}` of `{key}`",
        if name.is_empty() { &id } else { &name }
    );
    let (registry, repository, image) = selector(cx, node, &what)?;
    Some(ImageRule {
        id,
        name,
        registry,
        repository,
        image,
    })
}
