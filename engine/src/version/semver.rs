//! SemVer 2.0 versions and the dialects built on them: npm, Cargo, Go modules, Hex, Pub,
//! Bitnami and OSV's `SEMVER` range type.
//!
//! One representation ([`SemVer`]) and one order (SemVer 2.0 §11 precedence: numeric core, then
//! pre-release identifiers, numeric < alphanumeric, a version without pre-release above one with
//! it; build metadata never affects the order). The dialects only differ in what they accept:
//!
//! * `Semver` (OSV `SEMVER` ranges), Cargo, Hex, Pub, Bitnami: strict `MAJOR.MINOR.PATCH[-pre][+build]`
//!   with no leading zeros — except that OSV's `SEMVER` and Bitnami accept a leading `v` and
//!   leading zeros in the numeric core (date-like releases such as `2024.03.30` occur in real
//!   Bitnami records; `03` is read as 3).
//! * npm: node-semver's grammar — surrounding blanks trimmed, any leading `v`/`=`/blanks
//!   dropped (what `semver.clean` accepts), then strict; numbers at most 2^53-1.
//! * Go: the `v` is optional (OSV strips it, go.mod keeps it), `vMAJOR` and `vMAJOR.MINOR` are
//!   shorthands for `.0` (golang.org/x/mod/semver), and `+incompatible` is build metadata.
//!   Pseudo-versions are ordinary pre-releases and sort where Go sorts them.
//!
//! Range expressions live in `version::range`; this module only parses and orders.

use std::cmp::Ordering;

use super::Scheme;

/// One dot-separated pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    /// Digits only, without leading zeros (kept as text so any length compares correctly).
    Num(Box<str>),
    /// Anything else.
    Alpha(Box<str>),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(a), Ident::Alpha(b)) => a.as_bytes().cmp(b.as_bytes()),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed SemVer 2.0 version. Equality is precedence equality (build metadata ignored).
#[derive(Debug, Clone)]
pub(crate) struct SemVer {
    pub(crate) major: u64,
    pub(crate) minor: u64,
    pub(crate) patch: u64,
    pre: Vec<Ident>,
}

/// node-semver's `MAX_SAFE_INTEGER` limit on numeric components.
const NPM_MAX: u64 = (1 << 53) - 1;

impl SemVer {
    /// Parses `input` with the grammar of `scheme` (one of the SemVer-family schemes).
    pub(crate) fn parse(scheme: Scheme, input: &str) -> Result<SemVer, String> {
        let mut s = input;
        match scheme {
            Scheme::Npm => {
                // node-semver trims, and accepts any mix of `v`, `=` and blanks in front
                // (its `clean`/loose prefix); everything after that is strict.
                if s.len() > 256 {
                    return Err("longer than npm's 256-character limit".into());
                }
                s = s
                    .trim()
                    .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_ascii_whitespace());
            }
            Scheme::Go | Scheme::Semver | Scheme::Bitnami => {
                s = s.strip_prefix('v').unwrap_or(s);
            }
            _ => {}
        }
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => {
                validate_idents(b, "build metadata", false)?;
                (r, b)
            }
            None => (s, ""),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        let short_ok = scheme == Scheme::Go && pre.is_none() && build.is_empty();
        let nums = match parts.len() {
            3 => [parts[0], parts[1], parts[2]],
            1 | 2 if short_ok => [parts[0], parts.get(1).copied().unwrap_or("0"), "0"],
            _ => {
                return Err(format!(
                    "expected MAJOR.MINOR.PATCH, found {} dot-separated part(s)",
                    parts.len()
                ));
            }
        };
        let mut core_nums = [0u64; 3];
        // OSV `SEMVER` bounds and Bitnami versions carry date-like releases (`2024.03.30`):
        // leading zeros are unambiguous there and compare numerically.
        let leading_zeros_ok = matches!(scheme, Scheme::Semver | Scheme::Bitnami);
        for (slot, text) in core_nums.iter_mut().zip(nums) {
            *slot = parse_num(text, leading_zeros_ok)?;
            if scheme == Scheme::Npm && *slot > NPM_MAX {
                return Err(format!("`{text}` is larger than npm's 2^53-1 limit"));
            }
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) => {
                validate_idents(p, "pre-release", true)?;
                p.split('.')
                    .map(|id| {
                        if id.bytes().all(|b| b.is_ascii_digit()) {
                            Ident::Num(id.into())
                        } else {
                            Ident::Alpha(id.into())
                        }
                    })
                    .collect()
            }
        };
        Ok(SemVer {
            major: core_nums[0],
            minor: core_nums[1],
            patch: core_nums[2],
            pre,
        })
    }

    /// True when the version has pre-release identifiers.
    pub(crate) fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

fn parse_num(text: &str, leading_zeros_ok: bool) -> Result<u64, String> {
    if text.is_empty() {
        return Err("empty numeric component".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a number"));
    }
    if !leading_zeros_ok && text.len() > 1 && text.starts_with('0') {
        return Err(format!("`{text}` has a leading zero"));
    }
    text.parse()
        .map_err(|_| format!("`{text}` is too large for a version number"))
}

fn validate_idents(s: &str, what: &str, no_leading_zero: bool) -> Result<(), String> {
    for id in s.split('.') {
        if id.is_empty() {
            return Err(format!("empty {what} identifier"));
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!("invalid character `{c}` in {what}"));
        }
        if no_leading_zero
            && id.len() > 1
            && id.starts_with('0')
            && id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(format!(
                "numeric {what} identifier `{id}` has a leading zero"
            ));
        }
    }
    Ok(())
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal as E, Greater as G, Less as L};

    fn cmp(scheme: Scheme, a: &str, b: &str) -> Ordering {
        let pa = SemVer::parse(scheme, a).unwrap_or_else(|e| panic!("{a}: {e}"));
        let pb = SemVer::parse(scheme, b).unwrap_or_else(|e| panic!("{b}: {e}"));
        pa.cmp(&pb)
    }

    /// semver.org §11 precedence example chain.
    const SEMVER_ORG: &[&str] = &[
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ];

    /// node-semver test/fixtures/comparisons.js (strict-mode rows): a > b.
    const NODE_COMPARISONS: &[(&str, &str)] = &[
        ("0.0.0", "0.0.0-foo"),
        ("0.0.1", "0.0.0"),
        ("1.0.0", "0.9.9"),
        ("0.10.0", "0.9.0"),
        ("0.99.0", "0.10.0"),
        ("2.0.0", "1.2.3"),
        ("v0.0.0", "0.0.0-foo"),
        ("v0.0.1", "0.0.0"),
        ("v1.0.0", "0.9.9"),
        ("v0.10.0", "0.9.0"),
        ("v0.99.0", "0.10.0"),
        ("v2.0.0", "1.2.3"),
        ("1.2.3", "1.2.3-asdf"),
        ("1.2.3", "1.2.3-4"),
        ("1.2.3", "1.2.3-4-foo"),
        ("1.2.3-5-foo", "1.2.3-5"),
        ("1.2.3-5", "1.2.3-4"),
        ("1.2.3-5-foo", "1.2.3-5-Foo"),
        ("3.0.0", "2.7.2+asdf"),
        ("1.2.3-a.10", "1.2.3-a.5"),
        ("1.2.3-a.b", "1.2.3-a.5"),
        ("1.2.3-a.b", "1.2.3-a"),
        ("1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"),
        ("1.2.3-r2", "1.2.3-r100"),
        ("1.2.3-r100", "1.2.3-R2"),
    ];

    /// node-semver test/fixtures/equality.js (strict-mode rows): a == b.
    const NODE_EQUALITY: &[(&str, &str)] = &[
        ("1.2.3", "v1.2.3"),
        ("1.2.3", "=1.2.3"),
        ("1.2.3", "v 1.2.3"),
        ("1.2.3", "= 1.2.3"),
        ("1.2.3", " v1.2.3"),
        ("1.2.3", " =1.2.3"),
        ("1.2.3", " v 1.2.3"),
        ("1.2.3", " = 1.2.3"),
        ("1.2.3-0", "v1.2.3-0"),
        ("1.2.3-0", "=1.2.3-0"),
        ("1.2.3-1", "v1.2.3-1"),
        ("1.2.3-beta", "v1.2.3-beta"),
        ("1.2.3-beta", "=1.2.3-beta"),
        ("1.2.3-beta+build", " = 1.2.3-beta+otherbuild"),
        ("1.2.3+build", " = 1.2.3+otherbuild"),
        ("1.2.3-beta+build", "1.2.3-beta+otherbuild"),
        ("1.2.3+build", "1.2.3+otherbuild"),
        ("  v1.2.3+build", "1.2.3+otherbuild"),
    ];

    /// node-semver test/fixtures/invalid-versions.js and strict-mode failures.
    const NODE_INVALID: &[&str] = &[
        "1.2.3.4",
        "NOT VALID",
        "1.2",
        "",
        "01.2.3",
        "1.02.3",
        "1.2.03",
        "1.2.3-01",
        "1.2.3-beta.01",
        "9007199254740992.0.0",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-a..b",
        "1.2.3-a_b",
        "x.2.3",
    ];

    #[test]
    fn semver_org_precedence() {
        for scheme in [Scheme::Semver, Scheme::Npm, Scheme::Cargo, Scheme::Go] {
            for w in SEMVER_ORG.windows(2) {
                assert_eq!(cmp(scheme, w[0], w[1]), L, "{} < {}", w[0], w[1]);
                assert_eq!(cmp(scheme, w[1], w[0]), G);
            }
        }
    }

    #[test]
    fn node_semver_fixtures() {
        for (a, b) in NODE_COMPARISONS {
            assert_eq!(cmp(Scheme::Npm, a, b), G, "{a} > {b}");
            assert_eq!(cmp(Scheme::Npm, b, a), L, "{b} < {a}");
        }
        for (a, b) in NODE_EQUALITY {
            assert_eq!(cmp(Scheme::Npm, a, b), E, "{a} == {b}");
        }
        for v in NODE_INVALID {
            assert!(
                SemVer::parse(Scheme::Npm, v).is_err(),
                "{v:?} must be invalid"
            );
        }
    }

    /// golang.org/x/mod/semver semver_test.go: the ordered `tests` table (valid rows) and
    /// invalid inputs, plus pseudo-versions and `+incompatible` from real Go advisories.
    #[test]
    fn go_vectors() {
        let ordered = [
            "v0.0.0-20150717181359-44718f8a89b0",
            "v0.1.0-alpha.1",
            "v0.1.0",
            "v1.0.0-alpha",
            "v1.0.0-alpha.1",
            "v1.0.0-alpha.beta",
            "v1.0.0-beta",
            "v1.0.0-beta.2",
            "v1.0.0-beta.11",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.0.1-0.20180125103619-43913f2f4fbd",
            "v1.2.0",
            "v1.2.3-456",
            "v1.2.3-456.789",
            "v1.2.3-456-789",
            "v1.2.3-456a",
            "v1.2.3-pre",
            "v1.2.3-pre.0.20191109021931-daa7c04131f5",
            "v1.2.3-pre.1",
            "v1.2.3-zzz",
            "v1.2.3",
            "v1.21.9",
            "v1.22.0-0",
            "v1.22.0",
            "v3.0.0+incompatible",
        ];
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                let want = i.cmp(&j);
                assert_eq!(cmp(Scheme::Go, a, b), want, "{a} vs {b}");
            }
        }
        assert_eq!(cmp(Scheme::Go, "v1.2.3+incompatible", "1.2.3"), E);
        assert_eq!(cmp(Scheme::Go, "v1", "v1.0.0"), E);
        assert_eq!(cmp(Scheme::Go, "v1.2", "v1.2.0"), E);
        assert_eq!(
            cmp(Scheme::Go, "v1.2", "v1.2.1-0.20200308084313-2adbaa4891b9"),
            L
        );
        for bad in [
            "bad",
            "v1-alpha.beta.gamma",
            "v1-pre",
            "v1+meta",
            "v1-pre+meta",
            "v1.2-pre",
            "v1.2+meta",
            "v1.2-pre+meta",
            "v1.0.0-01",
            "v1.2.3.4",
            "v1.2.3-0123",
            "v1.2.3+meta-pre.sha.256a_",
            "",
        ] {
            assert!(
                SemVer::parse(Scheme::Go, bad).is_err(),
                "{bad:?} must be invalid"
            );
        }
    }

    #[test]
    fn strict_dialects_reject_prefixes_and_short_forms() {
        for scheme in [Scheme::Cargo, Scheme::Hex, Scheme::Pub] {
            for bad in ["v1.2.3", "1.2", "=1.2.3", " 1.2.3", "1.2.3 "] {
                assert!(SemVer::parse(scheme, bad).is_err(), "{scheme:?} {bad:?}");
            }
        }
        assert_eq!(cmp(Scheme::Semver, "v1.2.3", "1.2.3"), E);
        assert_eq!(cmp(Scheme::Cargo, "0.0.0-0", "0.0.0"), L);
        assert_eq!(cmp(Scheme::Cargo, "18446744073709551615.0.0", "1.0.0"), G);
        assert!(SemVer::parse(Scheme::Cargo, "18446744073709551616.0.0").is_err());
        // Date-like Bitnami releases.
        assert_eq!(cmp(Scheme::Bitnami, "2024.03.30", "2024.3.30"), E);
        assert_eq!(cmp(Scheme::Semver, "2023.02.17", "2023.03.13"), L);
        assert!(SemVer::parse(Scheme::Cargo, "2024.03.30").is_err());
        assert!(SemVer::parse(Scheme::Npm, "2024.03.30").is_err());
    }
}
