//! NuGet versions, ordered like NuGet.Versioning's `VersionComparer.Default`.
//!
//! `Major[.Minor[.Patch[.Revision]]][-label.label…][+metadata]`: one to four numeric parts
//! (missing ones are 0, leading zeros ignored, as NuGet normalises `1.01` to `1.1.0`), then
//! SemVer 2.0 release labels compared part by part — numeric labels numerically and below
//! alphanumeric ones, alphanumeric labels case-insensitively — and a version without labels above
//! one with them. Build metadata never affects the order. Per NuGet's documented normalisation
//! (`1.0` = `1.0.0` = `1.0.0.0`, `1.0.0-BETA` = `1.0.0-beta`).

use std::cmp::Ordering;

/// A parsed NuGet version.
#[derive(Debug, Clone)]
pub(crate) struct NugetVersion {
    /// Major, minor, patch, revision; each digits without leading zeros.
    numbers: [Box<str>; 4],
    /// Release labels, lower-cased.
    labels: Vec<Box<str>>,
}

fn num_cmp(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl NugetVersion {
    pub(crate) fn parse(input: &str) -> Result<NugetVersion, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        let (rest, meta) = match s.split_once('+') {
            Some((r, m)) => (r, Some(m)),
            None => (s, None),
        };
        if let Some(m) = meta
            && (m.is_empty()
                || m.split('.').any(|id| {
                    id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }))
        {
            return Err("invalid build metadata".into());
        }
        let (core, labels) = match rest.split_once('-') {
            Some((c, l)) => (c, Some(l)),
            None => (rest, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 4 {
            return Err("more than four numeric parts".into());
        }
        let mut numbers: [Box<str>; 4] = Default::default();
        for (slot, p) in numbers.iter_mut().zip(&parts) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{p}` is not a number"));
            }
            let digits = p.trim_start_matches('0');
            if digits.len() > 10 {
                return Err(format!("`{p}` is too large"));
            }
            *slot = digits.into();
        }
        let labels = match labels {
            None => Vec::new(),
            Some(l) => {
                let mut out = Vec::new();
                for id in l.split('.') {
                    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        return Err(format!("invalid release label `{id}`"));
                    }
                    out.push(id.to_ascii_lowercase().into());
                }
                out
            }
        };
        Ok(NugetVersion { numbers, labels })
    }

    pub(crate) fn is_prerelease(&self) -> bool {
        !self.labels.is_empty()
    }
}

fn label_cmp(a: &str, b: &str) -> Ordering {
    let an = a.bytes().all(|c| c.is_ascii_digit());
    let bn = b.bytes().all(|c| c.is_ascii_digit());
    match (an, bn) {
        (true, true) => num_cmp(a.trim_start_matches('0'), b.trim_start_matches('0')),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

impl Ord for NugetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.numbers.iter().zip(other.numbers.iter()) {
            let o = num_cmp(a, b);
            if o != Ordering::Equal {
                return o;
            }
        }
        match (self.labels.is_empty(), other.labels.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (a, b) in self.labels.iter().zip(other.labels.iter()) {
                    let o = label_cmp(a, b);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                self.labels.len().cmp(&other.labels.len())
            }
        }
    }
}

impl PartialOrd for NugetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NugetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NugetVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NugetVersion {
        NugetVersion::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// NuGet's documented precedence chain ("Package versioning", SemVer 2.0 section) and
    /// NuGet.Versioning normalisation rules.
    #[test]
    fn nuget_vectors() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "1.1",
            "2.0.0",
        ];
        for i in 0..chain.len() {
            for j in i + 1..chain.len() {
                assert_eq!(
                    p(chain[i]).cmp(&p(chain[j])),
                    Ordering::Less,
                    "{} < {}",
                    chain[i],
                    chain[j]
                );
            }
        }
        for (a, b) in [
            ("1.0", "1.0.0"),
            ("1.0.0", "1.0.0.0"),
            ("1", "1.0.0.0"),
            ("1.01.1", "1.1.1"),
            ("1.0.0-BETA", "1.0.0-beta"),
            ("1.0.0-beta+AA", "1.0.0-beta+BB"),
            ("1.0.0+metadata1", "1.0.0+metadata2"),
            ("1.0.0-beta.01", "1.0.0-beta.1"),
        ] {
            assert_eq!(p(a), p(b), "{a} == {b}");
        }
        assert!(p("1.0.0-1") < p("1.0.0-a"));
        assert!(p("1.0.0-2") < p("1.0.0-10"));
        assert!(p("4.7.2") < p("13.0.1"));
    }

    /// NuGet.Client test/NuGet.Core.Tests/NuGet.Versioning.Test: VersionComparerTests
    /// (`VersionComparisonDefaultEqual`, `…DefaultLess`) and VersionParsingTests
    /// (`VersionLength`, `IsPrereleaseParsing`).
    #[test]
    fn nuget_client_vectors() {
        for (a, b) in [
            ("1.0.0", "1.0.0"),
            ("1.0.0-BETA", "1.0.0-beta"),
            ("1.0.0-BETA+AA", "1.0.0-beta+aa"),
            ("1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.77.0+aa"),
            ("2", "2.0.0"),
            ("2.0", "2.0.0"),
            ("2.0.0.0", "2.0.0"),
        ] {
            assert_eq!(p(a), p(b), "{a} == {b}");
        }
        for (a, b) in [
            ("0.0.0", "1.0.0"),
            ("1.0.0", "1.1.0"),
            ("1.0.0", "1.0.1"),
            ("1.999.9999", "2.1.1"),
            ("1.0.0-BETA", "1.0.0-beta2"),
            ("1.0.0-beta+AA", "1.0.0+aa"),
            ("1.0.0-BETA", "1.0.0-beta.1+AA"),
            ("1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.79.0+aa"),
            ("1.0.0-BETA.X.y.5.79.0+AA", "1.0.0-beta.x.y.5.790.0+abc"),
        ] {
            assert!(p(a) < p(b), "{a} < {b}");
            assert!(p(b) > p(a), "{b} > {a}");
        }
        for (pre, v) in [
            (false, "1.0.0+Metadata"),
            (false, "1.0.0"),
            (true, "1.0.0-Beta"),
            (true, "1.0.0-Beta+Meta"),
            (true, "1.0.0-RC.X+Meta"),
            (true, "1.0.0-RC.X.35.A.3455+Meta"),
        ] {
            assert_eq!(p(v).is_prerelease(), pre, "{v}");
        }
        assert!(p("234.234234.1111") > p("3.5.1-x.y.z+AA"));
    }

    #[test]
    fn nuget_rejects() {
        for bad in [
            "",
            "a.b",
            "1.2.3.4.5",
            "1..2",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-beta..1",
            "1.0.0-be_ta",
            "v1.0",
        ] {
            assert!(NugetVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
