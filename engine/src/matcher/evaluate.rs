//! Deciding whether one version is inside one OSV `affected[]` entry, with the reason either
//! way. Ranges go through `version::osv::is_affected`; `versions[]` through
//! `version::osv::is_listed`.
//!
//! Does not read the DB or merge findings. Invariants: `GIT` ranges never match a version (their
//! `versions[]` list does); when an entry has evaluable (`ECOSYSTEM`/`SEMVER`) ranges, its
//! `versions[]` list is checked by exact string only (PYSEC lists hundreds of versions that the
//! ranges already cover; parsing them all would dominate match time); an event version the
//! scheme cannot parse is reported, never guessed.

use crate::matcher::FixState;
use crate::version::osv::{self as vosv, RangeEvent, RangeType};
use crate::version::{Scheme, Version};
use crate::vulndb::osv::{Affected, Range};

/// The outcome for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The version is affected.
    Affected {
        /// Readable constraint that contained it.
        constraint: String,
        /// The fixed version closing that interval.
        fixed: Option<String>,
        /// Fix state implied by the interval.
        fix_state: FixState,
    },
    /// The version is outside every range and not listed.
    NotAffected {
        /// The ranges, readable.
        reason: String,
    },
}

/// An evaluation plus problems met on the way (unparseable event versions).
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The verdict.
    pub verdict: Verdict,
    /// Problems (range skipped because an event version could not be parsed).
    pub problems: Vec<String>,
}

fn events(range: &Range) -> Vec<RangeEvent> {
    range
        .events
        .iter()
        .filter_map(|e| {
            if let Some(v) = &e.introduced {
                Some(RangeEvent::Introduced(v.clone()))
            } else if let Some(v) = &e.fixed {
                Some(RangeEvent::Fixed(v.clone()))
            } else if let Some(v) = &e.last_affected {
                Some(RangeEvent::LastAffected(v.clone()))
            } else {
                e.limit.as_ref().map(|v| RangeEvent::Limit(v.clone()))
            }
        })
        .collect()
}

fn range_type(kind: &str) -> Option<RangeType> {
    match kind {
        "ECOSYSTEM" => Some(RangeType::Ecosystem),
        "SEMVER" => Some(RangeType::Semver),
        "GIT" => Some(RangeType::Git),
        _ => None,
    }
}

/// Evaluates `version` (already parsed under `scheme`) against one `affected[]` entry.
pub fn evaluate(scheme: Scheme, version: &Version, entry: &Affected) -> Evaluation {
    evaluate_with(scheme, version, entry, true)
}

/// [`evaluate`] for the scan path: the same verdict, but a "not affected" verdict carries no
/// reason (describing every range that did not contain the version is `explain`'s job and
/// would cost more than the evaluation itself).
pub fn evaluate_quiet(scheme: Scheme, version: &Version, entry: &Affected) -> Evaluation {
    evaluate_with(scheme, version, entry, false)
}

fn evaluate_with(scheme: Scheme, version: &Version, entry: &Affected, reasons: bool) -> Evaluation {
    let mut problems = Vec::new();
    let mut described = Vec::new();
    let mut evaluable = false;
    for range in &entry.ranges {
        let Some(rt) = range_type(&range.kind) else {
            continue;
        };
        if rt == RangeType::Git {
            continue;
        }
        evaluable = true;
        let evs = events(range);
        match vosv::is_affected(scheme, version, rt, &evs) {
            Ok(Some(explanation)) => {
                let (fixed, fix_state) = match &explanation.matched_by {
                    vosv::MatchedBy::Range {
                        upper: Some(RangeEvent::Fixed(v)),
                        ..
                    } => (Some(v.clone()), FixState::Fixed),
                    _ => (None, FixState::NotFixed),
                };
                return Evaluation {
                    verdict: Verdict::Affected {
                        constraint: explanation.to_string(),
                        fixed,
                        fix_state,
                    },
                    problems,
                };
            }
            Ok(None) if reasons => described
                .push(vosv::describe(scheme, rt, &evs).unwrap_or_else(|_| format!("{rt} range"))),
            Ok(None) => {}
            Err(e) => problems.push(format!("range skipped: {e}")),
        }
    }
    let listed = if evaluable {
        entry
            .versions
            .iter()
            .any(|v| v == version.as_str())
            .then(|| format!("`{}` is listed in the affected versions", version.as_str()))
    } else {
        vosv::is_listed(scheme, version, &entry.versions).map(|e| e.to_string())
    };
    if let Some(constraint) = listed {
        return Evaluation {
            verdict: Verdict::Affected {
                constraint,
                fixed: None,
                fix_state: FixState::Unknown,
            },
            problems,
        };
    }
    if !reasons {
        return Evaluation {
            verdict: Verdict::NotAffected {
                reason: String::new(),
            },
            problems,
        };
    }
    if !entry.versions.is_empty() {
        described.push(format!(
            "not among {} listed versions",
            entry.versions.len()
        ));
    }
    let reason = if described.is_empty() {
        "the entry has no range or version list that applies".to_string()
    } else {
        format!("`{}` is outside {}", version.as_str(), described.join("; "))
    };
    Evaluation {
        verdict: Verdict::NotAffected { reason },
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> Affected {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn fixed_open_listed_and_outside() {
        let e = entry(
            r#"{"package":{"ecosystem":"PyPI","name":"requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.20.0"}]}]}"#,
        );
        let v = Version::parse(Scheme::Pep440, "2.19.1").unwrap();
        match evaluate(Scheme::Pep440, &v, &e).verdict {
            Verdict::Affected {
                fixed, fix_state, ..
            } => {
                assert_eq!(fixed.as_deref(), Some("2.20.0"));
                assert_eq!(fix_state, FixState::Fixed);
            }
            other => panic!("{other:?}"),
        }
        let v = Version::parse(Scheme::Pep440, "2.20.0").unwrap();
        assert!(matches!(
            evaluate(Scheme::Pep440, &v, &e).verdict,
            Verdict::NotAffected { ref reason } if reason.contains("2.20.0")
        ));
        assert_eq!(
            evaluate_quiet(Scheme::Pep440, &v, &e).verdict,
            Verdict::NotAffected {
                reason: String::new()
            }
        );
        let v = Version::parse(Scheme::Pep440, "2.19.1").unwrap();
        assert_eq!(
            evaluate_quiet(Scheme::Pep440, &v, &e).verdict,
            evaluate(Scheme::Pep440, &v, &e).verdict,
            "same verdict when affected"
        );

        let open = entry(
            r#"{"package":{"ecosystem":"Debian:12","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}"#,
        );
        let v = Version::parse(Scheme::Deb, "1:1.0-1").unwrap();
        assert!(matches!(
            evaluate(Scheme::Deb, &v, &open).verdict,
            Verdict::Affected {
                fix_state: FixState::NotFixed,
                ..
            }
        ));

        let listed =
            entry(r#"{"package":{"ecosystem":"Maven","name":"a:b"},"versions":["6.3.2.1"]}"#);
        let v = Version::parse(Scheme::Maven, "6.3.2.1").unwrap();
        assert!(matches!(
            evaluate(Scheme::Maven, &v, &listed).verdict,
            Verdict::Affected {
                fix_state: FixState::Unknown,
                ..
            }
        ));

        let bad = entry(
            r#"{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version!"}]}]}"#,
        );
        let v = Version::parse(Scheme::Npm, "1.0.0").unwrap();
        let ev = evaluate(Scheme::Npm, &v, &bad);
        assert_eq!(ev.problems.len(), 1, "{ev:?}");
        assert!(matches!(ev.verdict, Verdict::NotAffected { .. }));
    }
}
