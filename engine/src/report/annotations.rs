//! Check-run annotations for GitHub: one per non-allowlisted policy STOP/WARN hit and per
//! non-suppressed match that fails `--fail-on` (or, without `--fail-on`, per critical/high
//! match), most important first, placed on the Dockerfile line that made the package's layer
//! when `--dockerfile` is given (else on the Dockerfile path itself, line 1).
//!
//! Produces values only; `crate::github` sends them 50 per request as the API requires.

use serde::Serialize;

use super::dockerfile::Dockerfile;
use super::facts::{fix_text, listed_matches, truncate_chars};
use super::{ReportError, ReportOptions};
use crate::analysis::Analysis;
use crate::matcher::FixState;
use crate::policy::Action;
use crate::types::Severity;

/// One check-run annotation, as the GitHub API takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Repository-relative file path.
    pub path: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// `failure`, `warning` or `notice`.
    pub annotation_level: &'static str,
    /// The message (≤ 64 KiB).
    pub message: String,
    /// A short title.
    pub title: String,
}

/// The annotations for `analysis`.
pub fn annotations(
    analysis: &Analysis,
    opts: &ReportOptions,
) -> Result<Vec<Annotation>, ReportError> {
    let (path, lines) = match &opts.dockerfile {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| ReportError::Dockerfile {
                path: p.clone(),
                source,
            })?;
            let d = Dockerfile::parse(&text);
            let lines: Vec<(u32, u32)> = d
                .map_layers(&analysis.inventory.layers)
                .into_iter()
                .map(|i| i.map_or((1, 1), |i| (i.start_line, i.end_line)))
                .collect();
            (
                p.to_string_lossy().trim_start_matches("./").to_string(),
                lines,
            )
        }
        None => ("Dockerfile".to_string(), Vec::new()),
    };
    let line_of = |layer: usize| lines.get(layer).copied().unwrap_or((1, 1));
    let mut out = Vec::new();
    if let Some(eval) = &analysis.evaluation {
        let mut hits: Vec<_> = eval
            .hits
            .iter()
            .filter(|h| h.allowlisted.is_none() && h.action != Action::Go)
            .collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.action));
        for h in hits {
            let layer = h
                .package
                .as_deref()
                .and_then(|n| analysis.inventory.packages.iter().find(|p| p.name == n))
                .and_then(|p| p.locations.first())
                .map(|l| l.layer_index);
            let (start, end) = layer.map_or((1, 1), line_of);
            out.push(Annotation {
                path: path.clone(),
                start_line: start,
                end_line: end,
                annotation_level: if h.action == Action::Stop {
                    "failure"
                } else {
                    "warning"
                },
                message: truncate_chars(&h.check_output, 4000),
                title: truncate_chars(
                    &format!(
                        "Policy {}: {}:{} ({})",
                        h.action, h.gate, h.trigger, h.rule_id
                    ),
                    255,
                ),
            });
        }
    }
    let threshold = opts.fail_on.unwrap_or(Severity::High);
    for m in listed_matches(analysis, false) {
        let v = &m.vulnerability;
        if v.severity < threshold || (opts.only_fixed && m.fix_state != FixState::Fixed) {
            continue;
        }
        let (start, end) = line_of(m.layer_index);
        let fix = fix_text(m);
        out.push(Annotation {
            path: path.clone(),
            start_line: start,
            end_line: end,
            annotation_level: if opts.fail_on.is_some() {
                "failure"
            } else {
                "warning"
            },
            message: truncate_chars(
                &format!(
                    "{} {} ({}) at {}: {}{}",
                    m.package_name,
                    m.package_version,
                    m.package_type,
                    m.path,
                    if v.summary.is_empty() {
                        &v.id
                    } else {
                        &v.summary
                    },
                    if fix.is_empty() {
                        String::new()
                    } else {
                        format!("; fix: {fix}")
                    }
                ),
                4000,
            ),
            title: truncate_chars(
                &format!("{} ({}) in {}", v.id, v.severity, m.package_name),
                255,
            ),
        });
    }
    Ok(out)
}
