//! OSV range evaluation: is a version inside an `affected[].ranges[]` entry or listed in
//! `affected[].versions[]`, and which interval put it there.
//!
//! Implements the OSV schema's evaluation pseudocode exactly: events are sorted by version
//! (`introduced: "0"` sorts before every version), walked in order — `introduced` opens when the
//! version is ≥ it, `fixed` closes when ≥ it (exclusive bound), `last_affected` closes when > it
//! (inclusive bound) — and the whole range only applies below some `limit` when limits exist
//! (`"*"` is infinity). Several introduced/fixed pairs in one range are handled by the walk.
//!
//! `ECOSYSTEM` ranges compare with the package's scheme, `SEMVER` ranges with plain SemVer 2.0
//! whatever the ecosystem. `GIT` ranges hold commit hashes and need the commit graph: they never
//! match a package version here, and callers rely on `versions[]` for them (as OSV intends).
//! Does not read advisories or decide fix states; the matcher does.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Scheme, Version, VersionError};

/// One OSV range event; serialises exactly like OSV JSON (`{"introduced": "1.0"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    /// The first affected version (`"0"`: from the very first version).
    Introduced(String),
    /// The first version no longer affected (exclusive upper bound).
    Fixed(String),
    /// The last affected version (inclusive upper bound).
    LastAffected(String),
    /// Versions at or above this are out of the range (`"*"`: no limit).
    Limit(String),
}

impl RangeEvent {
    /// The event's version string.
    pub fn version(&self) -> &str {
        match self {
            RangeEvent::Introduced(v)
            | RangeEvent::Fixed(v)
            | RangeEvent::LastAffected(v)
            | RangeEvent::Limit(v) => v,
        }
    }

    /// The OSV key (`introduced`, `fixed`, `last_affected`, `limit`).
    pub fn kind(&self) -> &'static str {
        match self {
            RangeEvent::Introduced(_) => "introduced",
            RangeEvent::Fixed(_) => "fixed",
            RangeEvent::LastAffected(_) => "last_affected",
            RangeEvent::Limit(_) => "limit",
        }
    }

    /// Tie-break among events at the same version: open before closing, so `introduced X,
    /// fixed X` is an empty interval and `introduced X, last_affected X` holds exactly `X`.
    fn rank(&self) -> u8 {
        match self {
            RangeEvent::Introduced(_) => 0,
            RangeEvent::LastAffected(_) => 1,
            RangeEvent::Fixed(_) => 2,
            RangeEvent::Limit(_) => 3,
        }
    }
}

/// OSV `ranges[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeType {
    /// The ecosystem's own ordering.
    Ecosystem,
    /// SemVer 2.0 precedence.
    Semver,
    /// Git commit hashes (not evaluable against package versions).
    Git,
}

impl RangeType {
    /// The OSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeType::Ecosystem => "ECOSYSTEM",
            RangeType::Semver => "SEMVER",
            RangeType::Git => "GIT",
        }
    }
}

/// Why a version is affected: the interval (or `versions[]` entry) that contained it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The version that was evaluated, as given.
    pub version: String,
    /// How it matched.
    pub matched_by: MatchedBy,
}

/// The part of an OSV `affected[]` entry that contained the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MatchedBy {
    /// An interval of a `ranges[]` entry.
    Range {
        /// The range type.
        range_type: RangeType,
        /// The `introduced` event that opened the interval (`"0"` = from the first version).
        introduced: String,
        /// The upper bound that follows it, if any (`None`: no fix known).
        upper: Option<RangeEvent>,
        /// The `limit` the version was below, when the range has limits.
        limit: Option<String>,
    },
    /// An explicit `versions[]` entry.
    Listed {
        /// The entry that matched (it may be spelled differently, e.g. `1.0` vs `1.0.0`).
        entry: String,
    },
}

impl Explanation {
    /// The fixed version closing the interval, if the interval has one.
    pub fn fixed(&self) -> Option<&str> {
        match &self.matched_by {
            MatchedBy::Range {
                upper: Some(RangeEvent::Fixed(v)),
                ..
            } => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.matched_by {
            MatchedBy::Listed { entry } if *entry == self.version => {
                write!(f, "`{}` is listed in the affected versions", self.version)
            }
            MatchedBy::Listed { entry } => write!(
                f,
                "`{}` equals `{entry}`, listed in the affected versions",
                self.version
            ),
            MatchedBy::Range {
                range_type,
                introduced,
                upper,
                limit,
            } => {
                if introduced == "0" {
                    write!(f, "`{}` is in {range_type} range [0 (any)", self.version)?;
                } else {
                    write!(
                        f,
                        "`{}` is in {range_type} range [{introduced}",
                        self.version
                    )?;
                }
                match upper {
                    Some(RangeEvent::Fixed(v)) => write!(f, ", {v}): fixed in `{v}`")?,
                    Some(RangeEvent::LastAffected(v)) => {
                        write!(f, ", {v}]: last affected `{v}`, no fixed version")?
                    }
                    _ => write!(f, ", ∞): no fixed version")?,
                }
                if let Some(l) = limit {
                    write!(f, " (below limit `{l}`)")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for RangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed event bound: `Zero` is `introduced: "0"`, `Infinity` is `limit: "*"`.
enum Bound {
    Zero,
    At(Version),
    Infinity,
}

impl Bound {
    fn cmp_version(&self, v: &Version) -> Ordering {
        match self {
            Bound::Zero => Ordering::Less,
            Bound::At(b) => b.cmp(v),
            Bound::Infinity => Ordering::Greater,
        }
    }

    fn cmp(&self, other: &Bound) -> Ordering {
        match (self, other) {
            (Bound::Zero, Bound::Zero) | (Bound::Infinity, Bound::Infinity) => Ordering::Equal,
            (Bound::Zero, _) | (_, Bound::Infinity) => Ordering::Less,
            (_, Bound::Zero) | (Bound::Infinity, _) => Ordering::Greater,
            (Bound::At(a), Bound::At(b)) => a.cmp(b),
        }
    }
}

/// Sorts events by bound, then opening before closing. An insertion sort: event lists are
/// short, and unlike `slice::sort_by` it cannot panic even if some scheme's order were not
/// total on hostile advisory data (the schemes are property-tested to be total).
fn sort_events(events: &mut [(Bound, &RangeEvent)]) {
    for i in 1..events.len() {
        let mut j = i;
        while j > 0 {
            let (a, ea) = &events[j - 1];
            let (b, eb) = &events[j];
            if a.cmp(b).then_with(|| ea.rank().cmp(&eb.rank())) != Ordering::Greater {
                break;
            }
            events.swap(j - 1, j);
            j -= 1;
        }
    }
}

fn parse_bound(scheme: Scheme, event: &RangeEvent) -> Result<Bound, VersionError> {
    let s = event.version();
    match event {
        RangeEvent::Introduced(_) if s == "0" => Ok(Bound::Zero),
        RangeEvent::Limit(_) if s == "*" => Ok(Bound::Infinity),
        _ => Version::parse(scheme, s).map(Bound::At),
    }
}

/// Evaluates one OSV range for `version` (parsed under `scheme`, the ecosystem's scheme).
///
/// Returns the interval that contains the version, `None` when it is outside the range (and
/// always for `GIT` ranges), or the error for an event version the scheme cannot parse (or for
/// a package version that is not valid SemVer when the range type is `SEMVER`).
pub fn is_affected(
    scheme: Scheme,
    version: &Version,
    range_type: RangeType,
    events: &[RangeEvent],
) -> Result<Option<Explanation>, VersionError> {
    let (eff_scheme, owned);
    let v: &Version = match range_type {
        RangeType::Git => return Ok(None),
        RangeType::Semver => {
            eff_scheme = Scheme::Semver;
            owned = version.as_semver()?;
            &owned
        }
        RangeType::Ecosystem => {
            eff_scheme = scheme;
            if version.scheme() == scheme {
                version
            } else {
                owned = Version::parse(scheme, version.as_str())?;
                &owned
            }
        }
    };
    let mut parsed: Vec<(Bound, &RangeEvent)> = events
        .iter()
        .map(|e| parse_bound(eff_scheme, e).map(|b| (b, e)))
        .collect::<Result<_, _>>()?;

    // BeforeLimits: with no limit events the implicit limit is "*".
    let mut limit_hit: Option<&str> = None;
    let limits: Vec<&(Bound, &RangeEvent)> = parsed
        .iter()
        .filter(|(_, e)| matches!(e, RangeEvent::Limit(_)))
        .collect();
    if !limits.is_empty() {
        match limits
            .iter()
            .find(|(b, _)| b.cmp_version(v) == Ordering::Greater)
        {
            Some((_, e)) => limit_hit = Some(e.version()),
            None => return Ok(None),
        }
    }

    sort_events(&mut parsed);
    let mut opened_at: Option<usize> = None;
    for (i, (bound, event)) in parsed.iter().enumerate() {
        let ord = bound.cmp_version(v); // bound ⋚ version
        match event {
            RangeEvent::Introduced(_) if ord != Ordering::Greater => opened_at = Some(i),
            RangeEvent::Fixed(_) if ord != Ordering::Greater => opened_at = None,
            RangeEvent::LastAffected(_) if ord == Ordering::Less => opened_at = None,
            _ => {}
        }
    }
    let Some(open) = opened_at else {
        return Ok(None);
    };
    let upper = parsed[open + 1..]
        .iter()
        .find(|(_, e)| matches!(e, RangeEvent::Fixed(_) | RangeEvent::LastAffected(_)))
        .map(|(_, e)| (*e).clone());
    Ok(Some(Explanation {
        version: version.as_str().to_string(),
        matched_by: MatchedBy::Range {
            range_type,
            introduced: parsed[open].1.version().to_string(),
            upper,
            limit: limit_hit.filter(|l| *l != "*").map(str::to_string),
        },
    }))
}

/// Checks an explicit `affected[].versions[]` list.
///
/// An entry matches when it is the same string, or parses under `scheme` to an equal version
/// (`1.0` and `1.0.0` under PEP 440). Entries the scheme cannot parse only match by exact
/// string (PyPI lists can hold legacy, non-PEP 440 releases); they are never guessed at.
pub fn is_listed<S: AsRef<str>>(
    scheme: Scheme,
    version: &Version,
    versions: &[S],
) -> Option<Explanation> {
    let found = versions.iter().map(AsRef::as_ref).find(|entry| {
        *entry == version.as_str()
            || Version::parse(scheme, entry)
                .is_ok_and(|e| e.scheme() == version.scheme() && e == *version)
    })?;
    Some(Explanation {
        version: version.as_str().to_string(),
        matched_by: MatchedBy::Listed {
            entry: found.to_string(),
        },
    })
}

/// Renders a range's intervals in version order, e.g. `[0, 1.2.5) ∪ [2.0.0, 2.0.3)`, for
/// `explain` output when a version did *not* match.
pub fn describe(
    scheme: Scheme,
    range_type: RangeType,
    events: &[RangeEvent],
) -> Result<String, VersionError> {
    let eff = match range_type {
        RangeType::Semver => Scheme::Semver,
        RangeType::Ecosystem => scheme,
        RangeType::Git => {
            return Ok(format!(
                "GIT range ({} events; evaluated through versions[] only)",
                events.len()
            ));
        }
    };
    let mut parsed: Vec<(Bound, &RangeEvent)> = events
        .iter()
        .map(|e| parse_bound(eff, e).map(|b| (b, e)))
        .collect::<Result<_, _>>()?;
    sort_events(&mut parsed);
    let mut parts = Vec::new();
    let mut open: Option<&str> = None;
    let mut limits = Vec::new();
    for (_, e) in &parsed {
        match e {
            RangeEvent::Introduced(v) => {
                if open.is_none() {
                    open = Some(v);
                }
            }
            RangeEvent::Fixed(v) => {
                if let Some(o) = open.take() {
                    parts.push(format!("[{o}, {v})"));
                }
            }
            RangeEvent::LastAffected(v) => {
                if let Some(o) = open.take() {
                    parts.push(format!("[{o}, {v}]"));
                }
            }
            RangeEvent::Limit(v) => limits.push(v.as_str()),
        }
    }
    if let Some(o) = open {
        parts.push(format!("[{o}, ∞)"));
    }
    let mut text = if parts.is_empty() {
        "no interval".to_string()
    } else {
        parts.join(" ∪ ")
    };
    if !limits.is_empty() {
        text.push_str(&format!(" below limit {}", limits.join(" or ")));
    }
    Ok(format!("{range_type} {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeEvent::{Fixed as F, Introduced as I, LastAffected as LA, Limit as L};

    type Ctor = fn(String) -> RangeEvent;

    fn ev(list: &[(Ctor, &str)]) -> Vec<RangeEvent> {
        list.iter().map(|(k, v)| k(v.to_string())).collect()
    }

    fn hit(scheme: Scheme, rt: RangeType, v: &str, events: &[RangeEvent]) -> Option<Explanation> {
        let v = Version::parse(scheme, v).unwrap();
        is_affected(scheme, &v, rt, events).unwrap()
    }

    #[test]
    fn osv_spec_examples() {
        let all = ev(&[(I, "0")]);
        assert!(hit(Scheme::Semver, RangeType::Semver, "0.0.0-0", &all).is_some());
        let fixed = ev(&[(I, "0"), (F, "1.0.2")]);
        assert!(hit(Scheme::Semver, RangeType::Semver, "1.0.1", &fixed).is_some());
        assert!(hit(Scheme::Semver, RangeType::Semver, "1.0.2", &fixed).is_none());
        let multi = ev(&[(I, "1.0.0"), (F, "1.0.2"), (I, "3.0.0"), (F, "3.2.5")]);
        for (v, want) in [
            ("0.9.0", false),
            ("1.0.0", true),
            ("1.0.1", true),
            ("1.0.2", false),
            ("2.5.0", false),
            ("3.0.0", true),
            ("3.2.4", true),
            ("3.2.5", false),
            ("4.0.0", false),
        ] {
            assert_eq!(
                hit(Scheme::Semver, RangeType::Semver, v, &multi).is_some(),
                want,
                "{v}"
            );
        }
        let la = ev(&[(I, "0"), (LA, "2.1.214")]);
        assert!(hit(Scheme::Semver, RangeType::Semver, "2.1.214", &la).is_some());
        assert!(hit(Scheme::Semver, RangeType::Semver, "2.1.215", &la).is_none());
    }

    #[test]
    fn unsorted_events_are_sorted_first() {
        let go = ev(&[(I, "1.22.0-0"), (F, "1.22.2"), (I, "0"), (F, "1.21.9")]);
        for (v, want) in [
            ("v1.21.8", true),
            ("v1.21.9", false),
            ("1.22.0-rc.1", true),
            ("v1.22.0", true),
            ("v1.22.1", true),
            ("v1.22.2", false),
        ] {
            assert_eq!(
                hit(Scheme::Go, RangeType::Semver, v, &go).is_some(),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn explanations_name_the_interval() {
        let events = ev(&[(I, "0"), (F, "4.17.21")]);
        let e = hit(Scheme::Npm, RangeType::Ecosystem, "4.17.15", &events).unwrap();
        assert_eq!(e.fixed(), Some("4.17.21"));
        assert_eq!(
            e.to_string(),
            "`4.17.15` is in ECOSYSTEM range [0 (any), 4.17.21): fixed in `4.17.21`"
        );
        let open = ev(&[(I, "2.0")]);
        let e = hit(Scheme::Deb, RangeType::Ecosystem, "2.1-1", &open).unwrap();
        assert_eq!(e.fixed(), None);
        assert!(e.to_string().ends_with("no fixed version"), "{e}");
        let la = ev(&[(I, "1.0"), (LA, "1.5")]);
        let e = hit(Scheme::Pep440, RangeType::Ecosystem, "1.5", &la).unwrap();
        assert!(matches!(
            e.matched_by,
            MatchedBy::Range {
                upper: Some(RangeEvent::LastAffected(_)),
                ..
            }
        ));
    }

    #[test]
    fn limits() {
        let events = ev(&[(I, "1.0.0"), (L, "2.0.0")]);
        assert!(hit(Scheme::Semver, RangeType::Semver, "1.5.0", &events).is_some());
        assert!(hit(Scheme::Semver, RangeType::Semver, "2.0.0", &events).is_none());
        let star = ev(&[(I, "1.0.0"), (L, "*")]);
        assert!(hit(Scheme::Semver, RangeType::Semver, "9.0.0", &star).is_some());
        let two = ev(&[(I, "0"), (L, "1.0.0"), (L, "3.0.0")]);
        let e = hit(Scheme::Semver, RangeType::Semver, "2.0.0", &two).unwrap();
        assert!(
            matches!(e.matched_by, MatchedBy::Range { limit: Some(ref l), .. } if l == "3.0.0")
        );
    }

    #[test]
    fn same_version_ties() {
        let empty = ev(&[(I, "1.0.0"), (F, "1.0.0")]);
        assert!(hit(Scheme::Semver, RangeType::Semver, "1.0.0", &empty).is_none());
        let single = ev(&[(LA, "1.0.0"), (I, "1.0.0")]);
        assert!(hit(Scheme::Semver, RangeType::Semver, "1.0.0", &single).is_some());
        assert!(hit(Scheme::Semver, RangeType::Semver, "1.0.1", &single).is_none());
    }

    #[test]
    fn distro_ranges() {
        // Debian: DSA-style fixed bound with epoch and ~deb suffix.
        let deb = ev(&[(I, "0"), (F, "3.0.11-1~deb12u2")]);
        assert!(hit(Scheme::Deb, RangeType::Ecosystem, "3.0.11-1~deb12u1", &deb).is_some());
        assert!(hit(Scheme::Deb, RangeType::Ecosystem, "3.0.11-1", &deb).is_none());
        // Debian <unfixed>: introduced only.
        let unfixed = ev(&[(I, "0")]);
        assert!(hit(Scheme::Deb, RangeType::Ecosystem, "1:2.3-4", &unfixed).is_some());
    }

    #[test]
    fn git_ranges_never_match_versions() {
        let git = ev(&[(I, "0"), (F, "d3adb33f")]);
        assert!(hit(Scheme::Pep440, RangeType::Git, "1.0", &git).is_none());
        assert!(
            describe(Scheme::Pep440, RangeType::Git, &git)
                .unwrap()
                .starts_with("GIT")
        );
    }

    #[test]
    fn unparseable_event_is_an_error_not_a_guess() {
        let v = Version::parse(Scheme::Pep440, "1.0").unwrap();
        let bad = ev(&[(I, "0"), (F, "2019-09-12")]);
        let err = is_affected(Scheme::Pep440, &v, RangeType::Ecosystem, &bad).unwrap_err();
        assert_eq!(err.version, "2019-09-12");
        // A SEMVER range over a version that is not SemVer.
        let pv = Version::parse(Scheme::Pep440, "1.0").unwrap();
        let sem = ev(&[(I, "0"), (F, "1.0.1")]);
        assert!(is_affected(Scheme::Pep440, &pv, RangeType::Semver, &sem).is_err());
    }

    #[test]
    fn listed_versions_use_scheme_equality() {
        let v = Version::parse(Scheme::Pep440, "1.0.0").unwrap();
        let e = is_listed(Scheme::Pep440, &v, &["0.9", "1.0", "junk version"]).unwrap();
        assert_eq!(
            e.matched_by,
            MatchedBy::Listed {
                entry: "1.0".into()
            }
        );
        assert!(is_listed(Scheme::Pep440, &v, &["1.0.1", "junk version"]).is_none());
        let odd = Version::parse(Scheme::Pep440, "1.0").unwrap();
        assert!(is_listed(Scheme::Pep440, &odd, &["1.0"]).is_some());
    }

    proptest::proptest! {
        /// For well-formed ranges (disjoint introduced/fixed or introduced/last_affected pairs,
        /// events shuffled), the walk agrees with the plain interval union, whatever the event
        /// order in the record.
        #[test]
        fn walk_equals_interval_union(
            mut points in proptest::collection::btree_set(0u32..60, 1..10),
            inclusive in proptest::bool::ANY,
            open_end in proptest::bool::ANY,
            rotate in 0usize..10,
            probe in 0u32..62,
        ) {
            let v = |n: u32| format!("{}.{}.0", n / 10, n % 10);
            let mut pts: Vec<u32> = std::mem::take(&mut points).into_iter().collect();
            if pts.len() % 2 == 1 && !open_end {
                pts.pop();
            }
            let mut events = Vec::new();
            let mut intervals = Vec::new();
            for pair in pts.chunks(2) {
                events.push(RangeEvent::Introduced(v(pair[0])));
                match pair.get(1) {
                    Some(end) if inclusive => {
                        events.push(RangeEvent::LastAffected(v(*end)));
                        intervals.push((pair[0], Some(*end + 1)));
                    }
                    Some(end) => {
                        events.push(RangeEvent::Fixed(v(*end)));
                        intervals.push((pair[0], Some(*end)));
                    }
                    None => intervals.push((pair[0], None)),
                }
            }
            let n = events.len().max(1);
            events.rotate_left(rotate % n);
            let want = intervals
                .iter()
                .any(|(lo, hi)| probe >= *lo && hi.is_none_or(|h| probe < h));
            let version = Version::parse(Scheme::Semver, &v(probe)).unwrap();
            let got = is_affected(Scheme::Semver, &version, RangeType::Semver, &events).unwrap();
            proptest::prop_assert_eq!(got.is_some(), want, "{} in {:?}", v(probe), events);
        }
    }

    #[test]
    fn events_deserialise_from_osv_json() {
        let json = r#"[{"introduced":"0"},{"fixed":"1.2"},{"last_affected":"1.1"},{"limit":"*"}]"#;
        let events: Vec<RangeEvent> = serde_json::from_str(json).unwrap();
        assert_eq!(events, ev(&[(I, "0"), (F, "1.2"), (LA, "1.1"), (L, "*")]));
        let rt: RangeType = serde_json::from_str(r#""ECOSYSTEM""#).unwrap();
        assert_eq!(rt, RangeType::Ecosystem);
        assert_eq!(
            describe(
                Scheme::Pep440,
                RangeType::Ecosystem,
                &ev(&[(F, "2.0"), (I, "0"), (I, "3.0")])
            )
            .unwrap(),
            "ECOSYSTEM [0, 2.0) ∪ [3.0, ∞)"
        );
    }
}
