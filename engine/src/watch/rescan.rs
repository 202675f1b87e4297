//! Decides, for one stored image re-matched against a newer DB, which findings are new and
//! which channels must hear about them: [`decide`] turns (current matches, baseline, what watch
//! already knows) into [`ImageChanges`] for the outbox.
//!
//! Rules, per vulnerability of the current matches (suppressed matches are skipped):
//! * in the baseline (the matches recorded at scan time, plus the `--since-db` DB's matches) →
//!   not news; only `--since-db` ones are recorded as known, scan-time ones stay derivable;
//! * image never watched and no baseline at all (an SBOM stored without matching) → recorded
//!   as known without notifying ("primed"), so importing SBOMs never floods channels;
//! * not known → new: recorded, and queued for every channel whose filter accepts it;
//! * known, but now more severe or newly in KEV → re-queued for channels whose filter now
//!   accepts it (the idempotency key keeps channels that already had it from a second copy).
//!
//! Ids match through aliases both ways, so a DB that switched an advisory's primary id from
//! GHSA to CVE does not make it "new". This file neither reads the store nor sends anything.

use std::collections::{BTreeMap, HashSet};

use crate::matcher::Match;
use crate::types::Severity;
use crate::watch::config::NamedChannel;
use crate::watch::finding::{DbRef, Finding, ImageRef, idempotency_key};
use crate::watch::outbox::{ImageChanges, ImageState, NewRow};

/// Vulnerability ids (primary and aliases) an image is already known to have.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// Ids from the matches recorded at scan time.
    pub scanned: HashSet<String>,
    /// Ids from re-matching against the `--since-db` DB.
    pub previous_db: HashSet<String>,
    /// False when neither source exists (the SBOM was stored without matching and no
    /// `--since-db` was given): the first watch then primes instead of notifying.
    pub exists: bool,
}

impl Baseline {
    /// Adds every id and alias of the unsuppressed `matches` to `set`.
    pub fn ids_of(matches: &[Match]) -> HashSet<String> {
        let mut set = HashSet::new();
        for m in matches.iter().filter(|m| m.suppressed.is_none()) {
            set.insert(m.vulnerability.id.clone());
            set.extend(m.vulnerability.aliases.iter().cloned());
        }
        set
    }
}

/// What [`decide`] concluded for one image, for reporting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Vulnerabilities new to this image.
    pub new: usize,
    /// Known vulnerabilities that became more severe or entered KEV.
    pub escalated: usize,
    /// Vulnerabilities recorded without notification because the image was primed.
    pub primed: usize,
    /// Rows queued (new + escalated, times accepting channels).
    pub queued: usize,
}

fn any_in(m: &Match, set: &HashSet<String>) -> bool {
    set.contains(&m.vulnerability.id) || m.vulnerability.aliases.iter().any(|a| set.contains(a))
}

/// The known entry for this vulnerability, looked up by id and aliases.
fn known_entry<'s>(
    state: &'s ImageState,
    ms: &[&Match],
) -> Option<(&'s String, &'s (Severity, bool))> {
    for m in ms {
        if let Some(e) = state.known.get_key_value(&m.vulnerability.id) {
            return Some(e);
        }
        for a in &m.vulnerability.aliases {
            if let Some(e) = state.known.get_key_value(a) {
                return Some(e);
            }
        }
    }
    None
}

/// What stays the same for every image of one run.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    /// The configured channels.
    pub channels: &'a [NamedChannel],
    /// RFC 3339 time of this run.
    pub detected_at: &'a str,
    /// The DB the images were re-matched against.
    pub db: Option<&'a DbRef>,
}

/// Decides one image; see the module doc. `findings` receives every new or escalated finding,
/// whether or not a channel accepts it (for `--dry-run` output).
pub fn decide(
    run: &RunContext<'_>,
    image: &ImageRef,
    state: &ImageState,
    baseline: &Baseline,
    current: &[Match],
    findings: &mut Vec<Finding>,
) -> (ImageChanges, Decision) {
    let RunContext {
        channels,
        detected_at,
        db,
    } = *run;
    let mut by_vuln: BTreeMap<&str, Vec<&Match>> = BTreeMap::new();
    for m in current.iter().filter(|m| m.suppressed.is_none()) {
        by_vuln
            .entry(m.vulnerability.id.as_str())
            .or_default()
            .push(m);
    }
    let mut changes = ImageChanges {
        image_key: image.key.clone(),
        ..Default::default()
    };
    let mut decision = Decision::default();
    let prime = !state.watched && !baseline.exists;
    for (id, ms) in by_vuln {
        let Some(finding) =
            Finding::from_matches(image.clone(), &ms, detected_at.to_string(), db.cloned())
        else {
            continue;
        };
        let sev = finding.vulnerability.severity;
        let kev = finding.vulnerability.kev;
        if ms.iter().any(|m| any_in(m, &baseline.scanned)) {
            continue;
        }
        let known = known_entry(state, &ms);
        if ms.iter().any(|m| any_in(m, &baseline.previous_db)) || prime {
            if known.is_none() {
                changes.known.push((id.to_string(), sev, kev));
                if prime {
                    decision.primed += 1;
                }
            }
            continue;
        }
        match known {
            None => decision.new += 1,
            Some((_, (old_sev, old_kev))) => {
                if sev <= *old_sev && (kev == *old_kev || !kev) {
                    continue;
                }
                decision.escalated += 1;
            }
        }
        let known_id = known.map_or(id, |(k, _)| k.as_str());
        changes.known.push((known_id.to_string(), sev, kev));
        for c in channels.iter().filter(|c| c.filter.accepts(&finding)) {
            changes.enqueue.push(NewRow {
                key: idempotency_key(&image.key, known_id, &c.name),
                channel: c.name.clone(),
                finding: finding.clone(),
            });
            decision.queued += 1;
        }
        findings.push(finding);
    }
    (changes, decision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Vulnerability;
    use crate::watch::config::{SecretMode, WatchConfig};

    fn m(id: &str, aliases: &[&str], sev: Severity, kev: bool) -> Match {
        Match {
            vulnerability: Vulnerability {
                id: id.into(),
                aliases: aliases.iter().map(|a| a.to_string()).collect(),
                severity: sev,
                kev,
                ..Default::default()
            },
            package_name: "p".into(),
            package_version: "1".into(),
            package_type: "deb".into(),
            ..Default::default()
        }
    }

    fn channels() -> WatchConfig {
        WatchConfig::parse(
            "notifications:\n  channels:\n    - {name: all, type: webhook, url: 'http://127.0.0.1:1/'}\n    - {name: crit, type: webhook, url: 'http://127.0.0.1:1/', min_severity: critical}\n",
            std::path::Path::new("t"),
            &|_| None,
            SecretMode::Optional,
        )
        .unwrap()
    }

    fn image() -> ImageRef {
        ImageRef {
            key: "sha256:img".into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_vulns_outside_the_baseline_are_queued() {
        let cfg = channels();
        let baseline = Baseline {
            scanned: Baseline::ids_of(&[m("CVE-OLD", &["GHSA-old"], Severity::High, false)]),
            exists: true,
            ..Default::default()
        };
        let current = vec![
            // Same advisory, primary id switched: not new.
            m("GHSA-old", &["CVE-OLD"], Severity::High, false),
            m("CVE-NEW", &[], Severity::Medium, false),
            m("CVE-CRIT", &[], Severity::Critical, false),
        ];
        let mut out = Vec::new();
        let (ch, d) = decide(
            &RunContext {
                channels: &cfg.channels,
                detected_at: "t",
                db: None,
            },
            &image(),
            &ImageState::default(),
            &baseline,
            &current,
            &mut out,
        );
        assert_eq!(d.new, 2);
        assert_eq!(d.queued, 3); // CVE-NEW → all; CVE-CRIT → all + crit
        assert_eq!(out.len(), 2);
        let chans: Vec<(&str, &str)> = ch
            .enqueue
            .iter()
            .map(|r| (r.channel.as_str(), r.finding.vulnerability.id.as_str()))
            .collect();
        assert!(chans.contains(&("crit", "CVE-CRIT")));
        assert!(!chans.contains(&("crit", "CVE-NEW")));
        assert_eq!(ch.known.len(), 2);
    }

    #[test]
    fn known_vulns_are_not_queued_again_unless_escalated() {
        let cfg = channels();
        let baseline = Baseline {
            exists: true,
            ..Default::default()
        };
        let mut state = ImageState {
            watched: true,
            ..Default::default()
        };
        state.known.insert("CVE-1".into(), (Severity::High, false));
        state
            .known
            .insert("CVE-2".into(), (Severity::Medium, false));
        let current = vec![
            m("CVE-1", &[], Severity::High, false),
            m("CVE-2", &[], Severity::Critical, false),
        ];
        let mut out = Vec::new();
        let (ch, d) = decide(
            &RunContext {
                channels: &cfg.channels,
                detected_at: "t",
                db: None,
            },
            &image(),
            &state,
            &baseline,
            &current,
            &mut out,
        );
        assert_eq!((d.new, d.escalated), (0, 1));
        // Both channels get the escalated one; `all` already had it, which its idempotency
        // key dedups in the outbox.
        assert_eq!(ch.enqueue.len(), 2);
        assert_eq!(
            ch.enqueue[0].key,
            idempotency_key("sha256:img", "CVE-2", "all")
        );
    }

    #[test]
    fn sbom_without_baseline_is_primed_silently() {
        let cfg = channels();
        let current = vec![m("CVE-1", &[], Severity::Critical, true)];
        let mut out = Vec::new();
        let (ch, d) = decide(
            &RunContext {
                channels: &cfg.channels,
                detected_at: "t",
                db: None,
            },
            &image(),
            &ImageState::default(),
            &Baseline::default(),
            &current,
            &mut out,
        );
        assert_eq!((d.primed, d.queued), (1, 0));
        assert!(ch.enqueue.is_empty() && out.is_empty());
        assert_eq!(ch.known.len(), 1);
    }

    #[test]
    fn suppressed_and_previous_db_matches_are_not_news() {
        let cfg = channels();
        let mut sup = m("CVE-S", &[], Severity::High, false);
        sup.suppressed = Some(crate::matcher::Suppression::default());
        let baseline = Baseline {
            previous_db: Baseline::ids_of(&[m("CVE-P", &[], Severity::High, false)]),
            exists: true,
            ..Default::default()
        };
        let current = vec![sup, m("CVE-P", &[], Severity::High, false)];
        let mut out = Vec::new();
        let (ch, d) = decide(
            &RunContext {
                channels: &cfg.channels,
                detected_at: "t",
                db: None,
            },
            &image(),
            &ImageState::default(),
            &baseline,
            &current,
            &mut out,
        );
        assert_eq!(d, Decision::default());
        assert!(ch.enqueue.is_empty());
        // The previous-DB one is remembered so a later run without --since-db stays quiet.
        assert_eq!(ch.known, vec![("CVE-P".to_string(), Severity::High, false)]);
    }
}
