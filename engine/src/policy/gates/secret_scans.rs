//! Gate `secret_scans`: hits of the secret regexes (Anchore's defaults `AWS_ACCESS_KEY`,
//! `AWS_SECRET_KEY`, `PRIV_KEY`, `DOCKER_AUTH`, `API_KEY`, Tollgate's extra token shapes, and
//! `NAME=REGEX` rules a bundle adds).
//!
//! Reads [`GateInput::secrets`] (built from `Inventory.secrets`); never sees secret values.
//! Name selection copies Anchore: a regex counts when its NAME or REGEX text is contained in
//! the `content_regex_name` string (so `AWS_ACCESS_KEY,AWS_SECRET_KEY` selects both).

use super::{
    Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec, re_match_start,
};

/// The `secret_scans` gate.
pub(crate) struct SecretScans;

static PARAMS: &[ParamSpec] = &[
    ParamSpec::new("content_regex_name", ParamKind::Str, false)
        .doc("select secret regexes by NAME (comma list; all when absent); NAME=REGEX adds a rule"),
    ParamSpec::new("filename_regex", ParamKind::Regex, false)
        .doc("only files whose path matches (from the start)"),
    ParamSpec::new("match_type", ParamKind::Enum(&["found", "notfound"]), false)
        .default("found")
        .doc("fire per hit, or once when nothing is found"),
];

static TRIGGERS: &[TriggerSpec] = &[TriggerSpec {
    name: "content_regex_checks",
    aliases: &[],
    description: "Fires per (file, secret regex) hit, or once when none (match_type=notfound).",
    params: PARAMS,
    eval: checks,
}];

fn checks(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let name_filter = p.get_nonempty("content_regex_name");
    let file_filter = p.get_nonempty("filename_regex");
    let file_re = file_filter.and_then(re_match_start);
    if file_filter.is_some() && file_re.is_none() {
        return;
    }
    let mut counted = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for hit in &input.secrets {
        if file_re.as_ref().is_some_and(|re| !re.is_match(&hit.path)) {
            continue;
        }
        let regex = hit.name_regex.split_once('=').map_or("", |(_, r)| r);
        let selected = name_filter.is_none_or(|f| {
            f.contains(hit.name.as_str()) || (!regex.is_empty() && f.contains(regex))
        });
        if selected && seen.insert((&hit.path, &hit.name)) {
            counted.push(hit);
        }
    }
    if p.get("match_type") == Some("notfound") {
        if counted.is_empty() {
            out.push(Fired::msg(format!(
                "Secret content search analyzer did not find regexp match in container: filename_regex={} content_regex_name={}",
                file_filter.unwrap_or("*"),
                name_filter.unwrap_or("all")
            )));
        }
        return;
    }
    for hit in counted {
        out.push(Fired::msg(format!(
            "Secret content search analyzer found regexp match in container: file={} regexp={}",
            hit.path, hit.name_regex
        )));
    }
}

impl Gate for SecretScans {
    fn name(&self) -> &'static str {
        "secret_scans"
    }
    fn description(&self) -> &'static str {
        "Checks for secrets found in file contents (values are never shown)."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
