//! `sarif`: SARIF 2.1.0 (via `serde-sarif`) shaped for GitHub code scanning.
//!
//! * One rule per vulnerability id and one per evaluated policy rule that produced a result;
//!   `help.text` + `help.markdown`, `properties.security-severity` (best CVSS score, else the
//!   severity band's midpoint), `tags` (`security`, kind, severity, `kev`), `precision`.
//! * One result per (vulnerability, package, path) and per fired policy trigger, each carrying
//!   the image identity in `properties` and a `logicalLocations` entry
//!   `<image>@<layer digest>:<path>`.
//! * Location: with `--dockerfile`, the Dockerfile line of the instruction that made the
//!   package's layer (base-image layers → the final `FROM`); else the stable path
//!   `<repository>/<path in image>` (no registry, tag or digest, so alerts survive rebuilds).
//! * `partialFingerprints.primaryLocationLineHash`: sha256 of repository, platform, rule and
//!   package name/type/path (not the version, so an upgrade that does not fix a CVE keeps the
//!   alert) + `:1`.
//! * `automationDetails.id` = `<category>/` with category `tollgate/<repository>/<platform>`
//!   (override: [`ReportOptions::sarif_category`](super::ReportOptions)).
//! * GitHub's limits ([`GITHUB_LIMITS`]) are enforced by dropping the least severe results
//!   first, then unreferenced rules; a warning is logged and recorded in the run's
//!   `invocations[0].toolExecutionNotifications` and `properties.tollgate-truncated`.
//!
//! * Performance: results and rules are moved into the log (never cloned) and the log is
//!   serialised straight to bytes once per size check; gzip runs only when the uncompressed size
//!   could exceed the limit (zlib's `deflateBound`), at the default level (an overestimate of
//!   `upload-sarif`'s best level). Logs above [`PRETTY_MAX_RESULTS`] results are compact.
//!
//! Suppressed matches and allowlisted hits are included (with a SARIF `suppressions` entry) only
//! with `--show-suppressed`.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;
use serde_sarif::sarif;

use super::dockerfile::{Dockerfile, Instruction, repo_relative};
use super::facts::{
    ImageIdentity, best_cvss, fix_text, listed_matches, primary_url, security_severity,
    stable_hash, truncate_chars,
};
use super::{Adapter, RenderCx, ReportError, ReportOptions};
use crate::analysis::Analysis;
use crate::matcher::Match;
use crate::policy::{Action, TriggerHit};
use crate::types::Severity;

/// Limits a SARIF upload must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SarifLimits {
    /// Results per run.
    pub max_results: usize,
    /// Rules per run.
    pub max_rules: usize,
    /// Size of the gzip-compressed file, bytes.
    pub max_gzip_bytes: usize,
    /// Tags per rule.
    pub max_tags: usize,
    /// Characters of `shortDescription` / `fullDescription` text.
    pub max_description_chars: usize,
}

/// GitHub code scanning's upload limits (see the README, "SARIF and GitHub's limits").
pub const GITHUB_LIMITS: SarifLimits = SarifLimits {
    max_results: 25_000,
    max_rules: 25_000,
    max_gzip_bytes: 10 * 1024 * 1024,
    max_tags: 20,
    max_description_chars: 1024,
};

/// Logs with more results than this (GitHub displays only the top 5,000) are written compact
/// instead of pretty-printed.
pub(crate) const PRETTY_MAX_RESULTS: usize = 5_000;

/// The `sarif` adapter.
pub(crate) struct Sarif;

impl Adapter for Sarif {
    fn id(&self) -> &'static str {
        "sarif"
    }

    fn description(&self) -> &'static str {
        "SARIF 2.1.0 for GitHub code scanning (rules per CVE and policy rule)"
    }

    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let bytes = render(analysis, cx.options, &GITHUB_LIMITS)?;
        out.write_all(&bytes).map_err(|source| ReportError::Render {
            format: "sarif",
            source,
        })
    }
}

/// A result waiting for the limits check, with what orders it.
struct Pending {
    /// Higher first.
    rank: (u8, u32),
    rule_id: String,
    result: sarif::Result,
}

/// Builds the SARIF log within `limits`, as a JSON value (tests).
#[cfg(test)]
pub(crate) fn build(
    analysis: &Analysis,
    opts: &ReportOptions,
    limits: &SarifLimits,
) -> Result<serde_json::Value, ReportError> {
    let bytes = render(analysis, opts, limits)?;
    serde_json::from_slice(&bytes).map_err(|source| ReportError::Json {
        format: "sarif",
        source,
    })
}

/// Renders the SARIF log within `limits`: pretty JSON plus a final newline.
pub(crate) fn render(
    analysis: &Analysis,
    opts: &ReportOptions,
    limits: &SarifLimits,
) -> Result<Vec<u8>, ReportError> {
    let id = ImageIdentity::of(analysis);
    let dockerfile = match &opts.dockerfile {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ReportError::Dockerfile {
                path: path.clone(),
                source,
            })?;
            Some((repo_relative(path), Dockerfile::parse(&text)))
        }
        None => None,
    };
    let layer_lines: Vec<Option<&Instruction>> = dockerfile
        .as_ref()
        .map(|(_, d)| d.map_layers(&analysis.inventory.layers))
        .unwrap_or_default();
    let locate = |layer: Option<usize>, path: &str| -> sarif::Location {
        physical(
            &id,
            dockerfile.as_ref().map(|(p, _)| p.as_str()),
            layer.and_then(|l| layer_lines.get(l).copied().flatten()),
            path,
        )
    };

    let mut rules: BTreeMap<String, sarif::ReportingDescriptor> = BTreeMap::new();
    let mut pending: Vec<Pending> = Vec::new();

    // Vulnerabilities.
    let listed = listed_matches(analysis, opts.show_suppressed);
    let mut by_vuln: BTreeMap<&str, Vec<&Match>> = BTreeMap::new();
    for m in &listed {
        by_vuln
            .entry(m.vulnerability.id.as_str())
            .or_default()
            .push(m);
    }
    for (vuln_id, ms) in &by_vuln {
        rules.insert((*vuln_id).to_string(), vulnerability_rule(ms, limits));
    }
    for m in &listed {
        let v = &m.vulnerability;
        let score = security_severity(v).unwrap_or(0.0);
        let mut message = format!(
            "{} ({}) in {} {} ({}) at {} in image {}",
            v.id, v.severity, m.package_name, m.package_version, m.package_type, m.path, id.display
        );
        let fix = fix_text(m);
        if !m.fixed_in.is_empty() {
            message.push_str(&format!("; fixed in {fix}"));
        } else if !fix.is_empty() {
            message.push_str(&format!("; {fix}"));
        }
        if v.kev {
            message.push_str("; listed in CISA KEV");
        }
        let mut location = locate(Some(m.layer_index), &m.path);
        location.logical_locations = Some(vec![logical(&id, &m.layer_digest, &m.path)]);
        let fingerprint = stable_hash(&[
            &id.repository,
            &id.platform,
            &v.id,
            &m.package_type,
            &m.package_name,
            &m.path,
        ]);
        let properties = bag(json!({
            "image": id.display,
            "image-digest": id.digest,
            "platform": id.platform,
            "package": m.package_name,
            "package-version": m.package_version,
            "package-type": m.package_type,
            "purl": m.purl,
            "path": m.path,
            "layer-index": m.layer_index,
            "layer-digest": m.layer_digest,
            "severity": v.severity.as_str(),
            "fixed-in": m.fixed_in,
            "kev": v.kev,
        }));
        let mut result = sarif::Result::builder()
            .rule_id(v.id.clone())
            .level(level_for_severity(v.severity))
            .message(sarif::Message::builder().text(message).build())
            .locations(vec![location])
            .partial_fingerprints(BTreeMap::from([(
                "primaryLocationLineHash".to_string(),
                format!("{fingerprint}:1"),
            )]))
            .properties(properties)
            .build();
        if let Some(s) = &m.suppressed {
            result.suppressions = Some(vec![suppression(&format!(
                "{} ({}): {}",
                s.kind, s.by, s.reason
            ))]);
        }
        pending.push(Pending {
            rank: (1, (score * 100.0) as u32),
            rule_id: v.id.clone(),
            result,
        });
    }

    // Policy hits.
    if let Some(eval) = &analysis.evaluation {
        // First package of each name, looked up once per hit.
        let mut by_name: std::collections::HashMap<&str, &crate::catalog::Package> =
            std::collections::HashMap::new();
        for p in &analysis.inventory.packages {
            by_name.entry(p.name.as_str()).or_insert(p);
        }
        for h in &eval.hits {
            if h.allowlisted.is_some() && !opts.show_suppressed {
                continue;
            }
            let rule_id = policy_rule_id(&h.policy_id, &h.rule_id);
            if !rules.contains_key(&rule_id) {
                let params = eval
                    .rules
                    .iter()
                    .find(|r| r.policy_id == h.policy_id && r.rule_id == h.rule_id)
                    .map(|r| r.params.clone())
                    .unwrap_or_default();
                rules.insert(rule_id.clone(), policy_rule(h, &params, limits));
            }
            let package = h
                .package
                .as_deref()
                .and_then(|name| by_name.get(name).copied());
            let (layer, path, layer_digest) = match package.and_then(|p| p.locations.first()) {
                Some(loc) => (
                    Some(loc.layer_index),
                    loc.path.clone(),
                    loc.layer_digest.clone(),
                ),
                None => (None, String::new(), String::new()),
            };
            let mut location = locate(layer, &path);
            if !path.is_empty() {
                location.logical_locations = Some(vec![logical(&id, &layer_digest, &path)]);
            }
            let fingerprint = stable_hash(&[&id.repository, &id.platform, &rule_id, &h.trigger_id]);
            let message = format!(
                "{} {}:{} — {} (image {})",
                h.action, h.gate, h.trigger, h.check_output, id.display
            );
            let mut result = sarif::Result::builder()
                .rule_id(rule_id.clone())
                .level(level_for_action(h.action))
                .message(sarif::Message::builder().text(message).build())
                .locations(vec![location])
                .partial_fingerprints(BTreeMap::from([(
                    "primaryLocationLineHash".to_string(),
                    format!("{fingerprint}:1"),
                )]))
                .properties(bag(json!({
                    "image": id.display,
                    "image-digest": id.digest,
                    "platform": id.platform,
                    "policy": h.policy_id,
                    "rule": h.rule_id,
                    "gate": h.gate,
                    "trigger": h.trigger,
                    "trigger-id": h.trigger_id,
                    "action": h.action.as_str(),
                })))
                .build();
            if let Some(a) = &h.allowlisted {
                result.suppressions = Some(vec![suppression(&format!(
                    "allowlisted by item {} of {}",
                    a.item_id, a.allowlist_id
                ))]);
            }
            let tier = match h.action {
                Action::Stop => 2,
                Action::Warn => 1,
                Action::Go => 0,
            };
            let score = match h.action {
                Action::Stop => 1000,
                Action::Warn => 500,
                Action::Go => 0,
            };
            pending.push(Pending {
                rank: (tier, score),
                rule_id,
                result,
            });
        }
    }

    // Most important first; stable among equals.
    pending.sort_by_key(|p| std::cmp::Reverse(p.rank));
    let total_results = pending.len();
    let mut notes: Vec<String> = Vec::new();
    if pending.len() > limits.max_results {
        pending.truncate(limits.max_results);
        notes.push(format!(
            "kept the {} most severe of {total_results} results (GitHub accepts at most {} per run)",
            limits.max_results, limits.max_results
        ));
    }
    // Rules: only those referenced, at most max_rules (results of dropped rules go too).
    let mut kept_rules: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut dropped_for_rules = 0usize;
    pending.retain(|p| {
        if kept_rules.contains(&p.rule_id) {
            return true;
        }
        if kept_rules.len() < limits.max_rules {
            kept_rules.insert(p.rule_id.clone());
            true
        } else {
            dropped_for_rules += 1;
            false
        }
    });
    if dropped_for_rules > 0 {
        notes.push(format!(
            "dropped {dropped_for_rules} results whose rules exceeded GitHub's {} rules per run",
            limits.max_rules
        ));
    }
    rules.retain(|id, _| kept_rules.contains(id));

    let category = opts
        .sarif_category
        .clone()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| {
            let platform = if id.platform.is_empty() {
                "unknown-platform".to_string()
            } else {
                id.platform.replace('/', "-")
            };
            format!("tollgate/{}/{platform}", id.repository)
        });
    let category = category.trim_end_matches('/').to_string();

    // Size limit: halve the tail until the gzip fits. The log is assembled by moving results
    // and rules into it (no copies) and serialised once per attempt; a retry takes them back.
    let mut keep = pending.len();
    let mut results: Vec<(String, sarif::Result)> =
        pending.into_iter().map(|p| (p.rule_id, p.result)).collect();
    loop {
        results.truncate(keep);
        let log = assemble(
            analysis,
            &id,
            &category,
            &mut rules,
            std::mem::take(&mut results),
            &notes,
            total_results,
        );
        // Pretty for logs a person may read; compact above GitHub's display limit, where
        // indentation only costs time and upload size.
        let written = if keep <= PRETTY_MAX_RESULTS {
            serde_json::to_vec_pretty(&log)
        } else {
            serde_json::to_vec(&log)
        };
        let mut bytes = written.map_err(|source| ReportError::Json {
            format: "sarif",
            source,
        })?;
        bytes.push(b'\n');
        let size = gzip_len_at_most(&bytes, limits.max_gzip_bytes)?;
        if size <= limits.max_gzip_bytes {
            for n in &notes {
                tracing::warn!("SARIF truncated: {n}");
            }
            return Ok(bytes);
        }
        if keep == 0 {
            return Err(ReportError::SarifLimits {
                reason: format!(
                    "even without results the log is {size} bytes gzip-compressed (limit {})",
                    limits.max_gzip_bytes
                ),
            });
        }
        (rules, results) = disassemble(log);
        let new_keep = keep / 2;
        notes.retain(|n| !n.starts_with("kept the first"));
        notes.push(format!(
            "kept the first {new_keep} of {total_results} results so the gzip-compressed file stays under {} bytes",
            limits.max_gzip_bytes
        ));
        keep = new_keep;
    }
}

/// Takes the rules and results back out of a log made by [`assemble`].
fn disassemble(
    log: sarif::Sarif,
) -> (
    BTreeMap<String, sarif::ReportingDescriptor>,
    Vec<(String, sarif::Result)>,
) {
    let mut rules = BTreeMap::new();
    let mut results = Vec::new();
    for run in log.runs {
        for rule in run.tool.driver.rules.unwrap_or_default() {
            rules.insert(rule.id.clone(), rule);
        }
        for r in run.results.unwrap_or_default() {
            results.push((r.rule_id.clone().unwrap_or_default(), r));
        }
    }
    (rules, results)
}

/// Builds the log from `results` (moved in, most important first) and the rules they reference
/// (moved out of `all_rules`; [`disassemble`] gives them back).
fn assemble(
    analysis: &Analysis,
    id: &ImageIdentity,
    category: &str,
    all_rules: &mut BTreeMap<String, sarif::ReportingDescriptor>,
    results: Vec<(String, sarif::Result)>,
    notes: &[String],
    total_results: usize,
) -> sarif::Sarif {
    // Rules sorted by id, so ruleIndex is stable for a given analysis.
    let order: Vec<String> = results
        .iter()
        .map(|(rule, _)| rule.as_str())
        .collect::<std::collections::BTreeSet<&str>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let index: std::collections::HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let kept = results.len();
    let results: Vec<sarif::Result> = results
        .into_iter()
        .map(|(rule, mut r)| {
            r.rule_index = index
                .get(rule.as_str())
                .and_then(|i| i64::try_from(*i).ok());
            r
        })
        .collect();
    let rules: Vec<sarif::ReportingDescriptor> =
        order.iter().filter_map(|r| all_rules.remove(r)).collect();
    let tool_version = analysis.tool.version.clone();
    let mut driver = sarif::ToolComponent::builder()
        .name("Tollgate")
        .full_name(format!("Tollgate {tool_version} container image gate"))
        .rules(rules)
        .build();
    let repository = env!("CARGO_PKG_REPOSITORY");
    if super::facts::is_http_url(repository) {
        driver.information_uri = Some(repository.to_string());
    }
    if !tool_version.is_empty() {
        driver.version = Some(tool_version.clone());
        if tool_version.split('.').count() == 3 {
            driver.semantic_version = Some(tool_version);
        }
    }
    let mut invocation = sarif::Invocation::builder()
        .execution_successful(true)
        .build();
    if !analysis.created.is_empty() {
        invocation.end_time_utc = Some(analysis.created.clone());
    }
    let mut notifications: Vec<sarif::Notification> = notes
        .iter()
        .map(|n| {
            sarif::Notification::builder()
                .message(
                    sarif::Message::builder()
                        .text(format!("SARIF truncated: {n}"))
                        .build(),
                )
                .level(json!("warning"))
                .build()
        })
        .collect();
    for p in &analysis.inventory.problems {
        let text = match &p.path {
            Some(path) => format!("{}: {} ({path})", p.source, p.message),
            None => format!("{}: {}", p.source, p.message),
        };
        notifications.push(
            sarif::Notification::builder()
                .message(sarif::Message::builder().text(text).build())
                .level(json!("note"))
                .build(),
        );
    }
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
    }
    let mut run_props = json!({
        "imageName": id.display,
        "repository": id.repository,
        "imageDigest": id.digest,
        "repoDigests": analysis.inventory.source.repo_digests,
        "imageID": analysis.inventory.config.digest,
        "platform": id.platform,
        "operatingSystem": id.operating_system,
    });
    if !notes.is_empty() {
        run_props["tollgate-truncated"] = json!({
            "results-total": total_results,
            "results-kept": kept,
            "reasons": notes,
        });
    }
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .automation_details(
            sarif::RunAutomationDetails::builder()
                .id(format!("{category}/"))
                .build(),
        )
        .invocations(vec![invocation])
        .column_kind(json!("utf16CodeUnits"))
        .properties(bag(run_props))
        .build();
    sarif::Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// An upper bound of the gzip-compressed size of `bytes`. Below the limit whatever the
/// compression (zlib's `deflateBound` plus the gzip wrapper) the data is not compressed at all;
/// otherwise it is compressed in one call at the default level — a slight overestimate of
/// what `upload-sarif` (best level) sends, so the check errs on the safe side.
fn gzip_len_at_most(bytes: &[u8], limit: usize) -> Result<usize, ReportError> {
    let n = bytes.len();
    let bound = n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 18;
    if bound <= limit {
        return Ok(bound);
    }
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(n / 8), flate2::Compression::default());
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .map(|b| b.len())
        .map_err(|source| ReportError::Render {
            format: "sarif",
            source,
        })
}

fn physical(
    id: &ImageIdentity,
    dockerfile: Option<&str>,
    instruction: Option<&Instruction>,
    path: &str,
) -> sarif::Location {
    let (uri, start, end) = match (dockerfile, instruction) {
        (Some(df), Some(ins)) => (df.to_string(), ins.start_line, ins.end_line),
        (Some(df), None) => (df.to_string(), 1, 1),
        (None, _) => {
            let p = path.trim_start_matches('/');
            let uri = if p.is_empty() {
                id.repository.clone()
            } else {
                format!("{}/{p}", id.repository)
            };
            (uri, 1, 1)
        }
    };
    sarif::Location {
        physical_location: Some(sarif::PhysicalLocation {
            artifact_location: Some(sarif::ArtifactLocation {
                uri: Some(uri),
                ..Default::default()
            }),
            region: Some(sarif::Region {
                start_line: Some(i64::from(start)),
                end_line: Some(i64::from(end.max(start))),
                start_column: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn logical(id: &ImageIdentity, layer_digest: &str, path: &str) -> sarif::LogicalLocation {
    sarif::LogicalLocation {
        name: Some(path.to_string()),
        fully_qualified_name: Some(format!("{}@{layer_digest}:{path}", id.display)),
        kind: Some("resource".into()),
        ..Default::default()
    }
}

fn bag(value: serde_json::Value) -> sarif::PropertyBag {
    let mut b = sarif::PropertyBag::default();
    if let serde_json::Value::Object(map) = value {
        for (k, v) in map {
            if k == "tags" {
                continue;
            }
            b.additional_properties.insert(k, v);
        }
    }
    b
}

fn suppression(justification: &str) -> sarif::Suppression {
    sarif::Suppression::builder()
        .kind(json!("external"))
        .status(json!("accepted"))
        .justification(justification.to_string())
        .build()
}

fn level_for_severity(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium => sarif::ResultLevel::Warning,
        Severity::Low | Severity::Negligible | Severity::Unknown => sarif::ResultLevel::Note,
    }
}

fn level_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

fn level_for_action(a: Action) -> sarif::ResultLevel {
    match a {
        Action::Stop => sarif::ResultLevel::Error,
        Action::Warn => sarif::ResultLevel::Warning,
        Action::Go => sarif::ResultLevel::Note,
    }
}

/// Rule id of a policy rule: `policy/<policy id>/<rule id>`.
pub(crate) fn policy_rule_id(policy_id: &str, rule_id: &str) -> String {
    format!("policy/{policy_id}/{rule_id}")
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn vulnerability_rule(ms: &[&Match], limits: &SarifLimits) -> sarif::ReportingDescriptor {
    let v = &ms[0].vulnerability;
    let score = security_severity(v);
    let title = if v.summary.is_empty() {
        format!("{} {} vulnerability", v.id, v.severity)
    } else {
        format!("{}: {}", v.id, v.summary)
    };
    let full = if !v.description.is_empty() {
        v.description.clone()
    } else if !v.summary.is_empty() {
        v.summary.clone()
    } else {
        title.clone()
    };
    let url = primary_url(v);
    let mut text = format!("{}\nSeverity: {}", full, v.severity);
    let mut md = format!(
        "**{}**\n\n{}\n\n| | |\n|---|---|\n| Severity | {} |\n",
        md_escape(&v.id),
        md_escape(&full),
        v.severity
    );
    if let Some(c) = best_cvss(v) {
        text.push_str(&format!(
            "\nCVSS {}: {} ({})",
            c.version, c.base_score, c.vector
        ));
        md.push_str(&format!(
            "| CVSS {} | {} `{}` |\n",
            c.version, c.base_score, c.vector
        ));
    }
    if v.kev {
        text.push_str("\nListed in CISA's Known Exploited Vulnerabilities catalog");
        md.push_str("| CISA KEV | yes |\n");
    }
    if let Some(e) = v.epss {
        md.push_str(&format!("| EPSS | {:.2}% |\n", e * 100.0));
    }
    if !v.aliases.is_empty() {
        md.push_str(&format!(
            "| Aliases | {} |\n",
            md_escape(&v.aliases.join(", "))
        ));
    }
    md.push_str("\n| Package | Installed | Type | Fixed in | Path |\n|---|---|---|---|---|\n");
    for m in ms.iter().take(50) {
        text.push_str(&format!(
            "\nPackage {} {} ({}) at {}; fix: {}",
            m.package_name,
            m.package_version,
            m.package_type,
            m.path,
            fix_text(m)
        ));
        md.push_str(&format!(
            "| {} | {} | {} | {} | `{}` |\n",
            md_escape(&m.package_name),
            md_escape(&m.package_version),
            m.package_type,
            md_escape(&fix_text(m)),
            md_escape(&m.path)
        ));
    }
    if let Some(u) = &url {
        md.push_str(&format!("\n[{}]({u})\n", md_escape(&v.id)));
    }
    let refs: Vec<&String> = v
        .urls
        .iter()
        .filter(|u| super::facts::is_http_url(u))
        .take(10)
        .collect();
    if !refs.is_empty() {
        md.push_str("\nReferences:\n");
        for r in refs {
            md.push_str(&format!("- {r}\n"));
        }
    }
    let os = ms
        .iter()
        .any(|m| matches!(m.package_type.as_str(), "deb" | "rpm" | "apk"));
    let mut tags = vec![
        "security".to_string(),
        "vulnerability".to_string(),
        v.severity.as_str().to_string(),
        if os { "os-package" } else { "language-package" }.to_string(),
    ];
    if v.kev {
        tags.push("kev".into());
    }
    for m in ms {
        if !tags.contains(&m.package_type) {
            tags.push(m.package_type.clone());
        }
    }
    tags.truncate(limits.max_tags);
    let mut props = sarif::PropertyBag {
        tags: Some(tags),
        ..Default::default()
    };
    if let Some(s) = score.filter(|s| *s > 0.0) {
        props
            .additional_properties
            .insert("security-severity".into(), json!(format!("{s:.1}")));
    }
    props.additional_properties.insert(
        "precision".into(),
        json!(if os { "very-high" } else { "high" }),
    );
    let mut rule = sarif::ReportingDescriptor::builder()
        .id(v.id.clone())
        .name(if os {
            "OsPackageVulnerability"
        } else {
            "LanguagePackageVulnerability"
        })
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(truncate_chars(&title, limits.max_description_chars))
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(truncate_chars(&full, limits.max_description_chars))
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(text)
                .markdown(md)
                .build(),
        )
        .default_configuration(sarif::ReportingConfiguration {
            level: Some(json!(level_word(v.severity))),
            ..Default::default()
        })
        .properties(props)
        .build();
    rule.help_uri = url;
    rule
}

fn policy_rule(
    h: &TriggerHit,
    params: &[(String, String)],
    limits: &SarifLimits,
) -> sarif::ReportingDescriptor {
    let title = format!(
        "Policy rule {} ({} gate, {} trigger): {}",
        h.rule_id, h.gate, h.trigger, h.action
    );
    let params_text = if params.is_empty() {
        "no parameters".to_string()
    } else {
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let full = format!(
        "Rule {} of policy {} fires the {} trigger of the {} gate with {} and action {}.",
        h.rule_id, h.policy_id, h.trigger, h.gate, params_text, h.action
    );
    let mut md = format!(
        "**{}** — `{}` gate, `{}` trigger, action **{}** (policy `{}`)\n\n",
        md_escape(&h.rule_id),
        md_escape(&h.gate),
        md_escape(&h.trigger),
        h.action,
        md_escape(&h.policy_id)
    );
    if !params.is_empty() {
        md.push_str("| Parameter | Value |\n|---|---|\n");
        for (k, v) in params {
            md.push_str(&format!("| {} | {} |\n", md_escape(k), md_escape(v)));
        }
    }
    md.push_str(
        "\nA STOP result fails the gate; WARN is reported and fails only with `--fail-on-warn`. Add an allowlist item for the trigger id to accept a finding.\n",
    );
    let mut tags = vec![
        "security".to_string(),
        "policy".to_string(),
        h.gate.clone(),
        h.action.as_str().to_ascii_lowercase(),
    ];
    tags.truncate(limits.max_tags);
    let mut props = sarif::PropertyBag {
        tags: Some(tags),
        ..Default::default()
    };
    props
        .additional_properties
        .insert("precision".into(), json!("very-high"));
    props.additional_properties.insert(
        "problem.severity".into(),
        json!(match h.action {
            Action::Stop => "error",
            Action::Warn => "warning",
            Action::Go => "recommendation",
        }),
    );
    match h.action {
        Action::Stop => {
            props
                .additional_properties
                .insert("security-severity".into(), json!("8.0"));
        }
        Action::Warn => {
            props
                .additional_properties
                .insert("security-severity".into(), json!("5.0"));
        }
        Action::Go => {}
    }
    sarif::ReportingDescriptor::builder()
        .id(policy_rule_id(&h.policy_id, &h.rule_id))
        .name(format!("{}:{}", h.gate, h.trigger))
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(truncate_chars(&title, limits.max_description_chars))
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(truncate_chars(&full, limits.max_description_chars))
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(full.clone())
                .markdown(md)
                .build(),
        )
        .default_configuration(sarif::ReportingConfiguration {
            level: Some(json!(match h.action {
                Action::Stop => "error",
                Action::Warn => "warning",
                Action::Go => "note",
            })),
            ..Default::default()
        })
        .properties(props)
        .build()
}
