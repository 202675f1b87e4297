//! RubyGems versions, ordered like `Gem::Version#<=>`.
//!
//! Accepted strings match RubyGems' `ANCHORED_VERSION_PATTERN` (`1.2.3`, `1.2.3.pre1`,
//! `1.0.0-rc.1`; surrounding blanks allowed). A `-` is read as `.pre.`, the string is split into
//! runs of digits and runs of letters, trailing zeros are dropped from the release part and from
//! the pre-release part, then segments compare pairwise: numbers numerically, strings bytewise,
//! a string below a number, a missing segment as `0`. A version with any letter is a
//! pre-release. RubyGems reads the empty string as `0`; here it is an error, because an empty
//! package version is a metadata problem, not version 0.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// Digits without leading zeros.
    Num(Box<str>),
    Str(Box<str>),
}

/// A parsed RubyGems version (its canonical segments).
#[derive(Debug, Clone)]
pub(crate) struct GemVersion {
    segments: Vec<Seg>,
    prerelease: bool,
}

fn valid(s: &str) -> bool {
    // [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?
    let (main, pre) = match s.split_once('-') {
        Some((m, p)) => (m, Some(p)),
        None => (s, None),
    };
    let mut parts = main.split('.');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|p| {
        p.split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

impl GemVersion {
    pub(crate) fn parse(input: &str) -> Result<GemVersion, String> {
        let s = input.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        if !valid(s) {
            return Err("malformed version number string".into());
        }
        let normalised = s.replace('-', ".pre.");
        let mut raw: Vec<Seg> = Vec::new();
        let bytes = normalised.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            if bytes[i].is_ascii_digit() {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = normalised[start..i].trim_start_matches('0');
                raw.push(Seg::Num(digits.into()));
            } else if bytes[i].is_ascii_alphabetic() {
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                raw.push(Seg::Str(normalised[start..i].into()));
            } else {
                i += 1;
            }
        }
        // canonical_segments: drop trailing zeros of the numeric part and of the rest.
        let split = raw
            .iter()
            .position(|s| matches!(s, Seg::Str(_)))
            .unwrap_or(raw.len());
        let (mut release, mut pre) = (raw[..split].to_vec(), raw[split..].to_vec());
        for part in [&mut release, &mut pre] {
            while matches!(part.last(), Some(Seg::Num(d)) if d.is_empty()) {
                part.pop();
            }
        }
        release.extend(pre);
        Ok(GemVersion {
            segments: release,
            prerelease: normalised.bytes().any(|b| b.is_ascii_alphabetic()),
        })
    }

    pub(crate) fn is_prerelease(&self) -> bool {
        self.prerelease
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Seg::Num("".into());
        let n = self.segments.len().max(other.segments.len());
        for i in 0..n {
            let l = self.segments.get(i).unwrap_or(&zero);
            let r = other.segments.get(i).unwrap_or(&zero);
            let o = match (l, r) {
                (Seg::Num(a), Seg::Num(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
                (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
                (Seg::Str(a), Seg::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(a: &str, b: &str) -> i32 {
        match GemVersion::parse(a)
            .unwrap()
            .cmp(&GemVersion::parse(b).unwrap())
        {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }

    /// rubygems test/rubygems/test_gem_version.rb `test_spaceship` and `test_semver`.
    #[test]
    fn test_gem_version_vectors() {
        let spaceship = [
            ("1.0", "1.0.0", 0),
            ("1.0", "1.0.a", 1),
            ("1.8.2", "0.0.0", 1),
            ("1.8.2", "1.8.2.a", 1),
            ("1.8.2.b", "1.8.2.a", 1),
            ("1.8.2.a", "1.8.2", -1),
            ("1.8.2.a10", "1.8.2.a9", 1),
            ("0.beta.1", "0.0.beta.1", 0),
            ("0.0.beta", "0.0.beta.1", -1),
            ("0.0.beta", "0.beta.1", -1),
            ("5.a", "5.0.0.rc2", -1),
            ("5.x", "5.0.0.rc2", 1),
        ];
        for (a, b, want) in spaceship {
            assert_eq!(c(a, b), want, "{a} <=> {b}");
            assert_eq!(c(b, a), -want, "{b} <=> {a}");
        }
        let semver = [
            ("1.0.0-alpha", "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", "1.0.0-beta.2"),
            ("1.0.0-beta.2", "1.0.0-beta.11"),
            ("1.0.0-beta.11", "1.0.0-rc.1"),
            ("1.0.0-rc1", "1.0.0"),
            ("1.0.0-1", "1"),
        ];
        for (a, b) in semver {
            assert_eq!(c(a, b), -1, "{a} < {b}");
        }
        // Real advisory bounds (Rails, Nokogiri).
        assert_eq!(c("6.1.7.1", "6.1.7.10"), -1);
        assert_eq!(c("1.13.10", "1.13.9"), 1);
    }

    /// test_gem_version.rb `test_prerelease` and `test_initialize_invalid`.
    #[test]
    fn prerelease_and_invalid() {
        for v in [
            "1.2.0.a",
            "2.9.b",
            "22.1.50.0.d",
            "1.2.d.42",
            "1.A",
            "1-1",
            "1-a",
        ] {
            assert!(GemVersion::parse(v).unwrap().is_prerelease(), "{v}");
        }
        for v in ["1.2.0", "2.9", "22.1.50.0"] {
            assert!(!GemVersion::parse(v).unwrap().is_prerelease(), "{v}");
        }
        for v in [
            "junk",
            "1.0\n2.0",
            "1..2",
            "1.2 3.4",
            "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
            "",
        ] {
            assert!(GemVersion::parse(v).is_err(), "{v:?}");
        }
        assert!(GemVersion::parse(" 1.0 ").is_ok());
    }
}
