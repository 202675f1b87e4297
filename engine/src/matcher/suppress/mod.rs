//! Suppression: marks findings that an ignore rule ([`IgnoreConfig`]) or an OpenVEX statement
//! ([`VexDocument`]) covers. Suppressed findings stay in the list with
//! [`Match::suppressed`](crate::matcher::Match::suppressed) set (`--show-suppressed` shows
//! them; they never gate), and every rule or statement that matched nothing is reported as
//! unused, every expired rule as expired.
//!
//! Order: VEX first (a supplier's statement about the product), then ignore rules; the first
//! that applies is recorded. Does not remove findings and does not read the DB.

mod ignore;
mod vex;

use serde::{Deserialize, Serialize};

pub use ignore::{IgnoreConfig, IgnoreRule, PackageSelector};
pub use vex::{VexDocument, VexStatement};

use super::{Match, Suppression};

/// A rule or statement that suppressed nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unused {
    /// `ignore-rule` or `vex`.
    pub kind: String,
    /// The file.
    pub file: String,
    /// Index in the file (`ignore[i]`, `statements[i]`).
    pub index: usize,
    /// What it names (vulnerability / package), readable.
    pub selector: String,
    /// Why it did nothing: `matched no finding`, `expired 2025-01-01`,
    /// `matched but status is affected`.
    pub reason: String,
}

/// What suppression did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionReport {
    /// Findings suppressed.
    pub suppressed: usize,
    /// Rules and statements that suppressed nothing (including expired rules).
    pub unused: Vec<Unused>,
}

fn rule_selector(r: &IgnoreRule) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &r.vulnerability {
        parts.push(v.clone());
    }
    if let Some(p) = &r.package {
        let mut s = p.name.clone().unwrap_or_else(|| "*".into());
        if let Some(k) = &p.kind {
            s = format!("{k}:{s}");
        }
        if let Some(v) = &p.version {
            s.push_str(&format!(" {v}"));
        }
        parts.push(s);
    }
    if let Some(p) = &r.path {
        parts.push(p.clone());
    }
    parts.join(" ")
}

/// Applies VEX statements and ignore rules to `matches` (see the module doc).
pub fn apply(
    matches: &mut [Match],
    config: &IgnoreConfig,
    vex: &[VexDocument],
) -> SuppressionReport {
    apply_at(matches, config, vex, chrono::Utc::now())
}

/// [`apply`] with an explicit "now" (for expiry; tests).
pub fn apply_at(
    matches: &mut [Match],
    config: &IgnoreConfig,
    vex: &[VexDocument],
    now: chrono::DateTime<chrono::Utc>,
) -> SuppressionReport {
    let mut report = SuppressionReport::default();
    let mut vex_used: Vec<Vec<bool>> = vex
        .iter()
        .map(|d| vec![false; d.statements.len()])
        .collect();
    let mut rule_used = vec![false; config.rules.len()];
    for m in matches.iter_mut() {
        // VEX: the last applicable statement of each document wins; documents in order.
        let mut decision: Option<(usize, usize)> = None;
        for (di, doc) in vex.iter().enumerate() {
            for (si, st) in doc.statements.iter().enumerate() {
                if st.applies_to(m) {
                    vex_used[di][si] = true;
                    decision = Some((di, si));
                }
            }
        }
        if let Some((di, si)) = decision {
            let st = &vex[di].statements[si];
            if st.suppresses() {
                m.suppressed = Some(Suppression {
                    kind: "vex".into(),
                    by: format!("{} statements[{si}]", vex[di].file.display()),
                    reason: format!("{}: {}", st.status, st.justification),
                });
            }
        }
        for (i, rule) in config.rules.iter().enumerate() {
            if config.is_expired(i, now) || !config.rule_matches(i, m) {
                continue;
            }
            rule_used[i] = true;
            if m.suppressed.is_none() {
                m.suppressed = Some(Suppression {
                    kind: "ignore-rule".into(),
                    by: format!("{} ignore[{i}]", config.file.display()),
                    reason: rule.reason.clone().unwrap_or_default(),
                });
            }
        }
        if m.suppressed.is_some() {
            report.suppressed += 1;
        }
    }
    for (i, rule) in config.rules.iter().enumerate() {
        if rule_used[i] {
            continue;
        }
        report.unused.push(Unused {
            kind: "ignore-rule".into(),
            file: config.file.display().to_string(),
            index: i,
            selector: rule_selector(rule),
            reason: if config.is_expired(i, now) {
                format!("expired {}", rule.expires.clone().unwrap_or_default())
            } else {
                "matched no finding".into()
            },
        });
    }
    for (di, doc) in vex.iter().enumerate() {
        for (si, st) in doc.statements.iter().enumerate() {
            let reason = if !vex_used[di][si] {
                "matched no finding".to_string()
            } else if !st.suppresses() {
                continue; // used; its status simply does not suppress
            } else {
                continue;
            };
            report.unused.push(Unused {
                kind: "vex".into(),
                file: doc.file.display().to_string(),
                index: si,
                selector: format!(
                    "{} on {}",
                    st.vulnerability_ids.join("/"),
                    st.products
                        .iter()
                        .map(|(p, s)| if s.is_empty() { p.clone() } else { s.join(",") })
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                reason,
            });
        }
    }
    report
}
