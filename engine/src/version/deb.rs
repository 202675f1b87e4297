//! Debian / Ubuntu package versions: `[epoch:]upstream[-revision]`, ordered like dpkg.
//!
//! Parsing follows dpkg's `parseversion` (lib/dpkg/parsehelp.c): surrounding blanks are
//! trimmed, the epoch is a decimal number that fits an `int`, the revision is everything after
//! the last `-`, the upstream part must start with a digit and only use `[0-9A-Za-z.+~:-]`, the
//! revision only `[0-9A-Za-z.+~]`. dpkg reports some of these as warnings; here every one is an
//! error, because a version dpkg would warn about cannot be ordered with confidence.
//!
//! Comparison is dpkg's `verrevcmp`: alternating non-digit and digit runs; in non-digit runs `~`
//! sorts before everything (even the end of the string), letters before other characters; digit
//! runs compare numerically. Does not know about packages or advisories.

use std::cmp::Ordering;

/// A parsed dpkg version. Equality is dpkg equality (`1.0` == `1.00`).
#[derive(Debug, Clone)]
pub(crate) struct DebVersion {
    epoch: u32,
    upstream: Box<str>,
    revision: Box<str>,
}

impl DebVersion {
    pub(crate) fn parse(input: &str) -> Result<DebVersion, String> {
        let s = input.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\n' || c == '\r');
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        if s.contains(|c: char| c.is_ascii_whitespace()) {
            return Err("version string has embedded spaces".into());
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => {
                if e.is_empty() {
                    return Err("epoch in version is empty".into());
                }
                if !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("epoch in version is not a number".into());
                }
                let epoch: u32 = e
                    .parse()
                    .ok()
                    .filter(|n| *n <= i32::MAX as u32)
                    .ok_or_else(|| "epoch in version is too big".to_string())?;
                if rest.is_empty() {
                    return Err("nothing after colon in version number".into());
                }
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err("version number is empty".into());
        }
        if !upstream.as_bytes()[0].is_ascii_digit() {
            return Err("version number does not start with digit".into());
        }
        if let Some(c) = upstream
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".-+~:".contains(*c)))
        {
            return Err(format!("invalid character `{c}` in version number"));
        }
        if let Some(c) = revision
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".+~".contains(*c)))
        {
            return Err(format!("invalid character `{c}` in revision number"));
        }
        Ok(DebVersion {
            epoch,
            upstream: upstream.into(),
            revision: revision.into(),
        })
    }
}

impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for DebVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DebVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DebVersion {}

/// dpkg's character weight inside a non-digit run; `None` is the end of the run.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`, on bytes already validated by [`DebVersion::parse`].
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            if i < a.len() && !a[i].is_ascii_digit() {
                i += 1;
            }
            if j < b.len() && !b[j].is_ascii_digit() {
                j += 1;
            }
        }
        // Digit run: skip leading zeros, then the longer run is larger, else the first
        // differing digit decides. This avoids overflow on arbitrarily long numbers.
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (da, db) = (&a[si..i], &b[sj..j]);
        let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal as E, Greater as G, Less as L};

    fn cmp(a: &str, b: &str) -> Ordering {
        DebVersion::parse(a)
            .unwrap()
            .cmp(&DebVersion::parse(b).unwrap())
    }

    /// dpkg lib/dpkg/t/t-version.c `test_version_compare` / `test_version_relate`: version
    /// objects built directly (epoch, upstream, revision), compared without parsing.
    type Obj = (u32, &'static str, &'static str);
    const DPKG_T_COMPARE: &[(Obj, Obj, Ordering)] = &[
        ((1, "", ""), (2, "", ""), L),
        ((0, "1", "1"), (0, "2", "1"), L),
        ((0, "1", "1"), (0, "1", "2"), L),
        ((0, "0", "0"), (0, "0", "0"), E),
        ((0, "0", "00"), (0, "00", "0"), E),
        ((1, "2", "3"), (1, "2", "3"), E),
        ((0, "0", "0"), (1, "0", "0"), L),
        ((0, "a", "0"), (0, "b", "0"), L),
        ((0, "0", "a"), (0, "0", "b"), L),
        ((0, "1", "1"), (0, "1", "1"), E),
        ((0, "2", "1"), (0, "1", "1"), G),
    ];

    #[test]
    fn dpkg_compare_objects() {
        let mk = |(epoch, u, r): Obj| DebVersion {
            epoch,
            upstream: u.into(),
            revision: r.into(),
        };
        for (a, b, want) in DPKG_T_COMPARE {
            assert_eq!(mk(*a).cmp(&mk(*b)), *want, "{a:?} vs {b:?}");
            assert_eq!(mk(*b).cmp(&mk(*a)), want.reverse());
        }
    }

    /// dpkg lib/dpkg/t/t-version.c `test_version_parse`: the parsed string equals the expected
    /// object, written here as a second string.
    const DPKG_T_VERSION: &[(&str, &str, Ordering)] = &[
        ("0", "0:0", E),
        ("0:0-", "0", E),
        ("0:0-0", "0-0", E),
        ("0:0.0-0.0", "0.0-0.0", E),
        ("1:0", "1:0-", E),
        ("5:1", "5:1", E),
        ("0:0-0-0", "0-0-0", E),
        ("0:0-0-0-0", "0-0-0-0", E),
        ("0:0:0-0", "0:0:0-0", E),
        ("0:0:0:0-0", "0:0:0:0-0", E),
        ("0:0:0-0-0", "0:0:0-0-0", E),
        ("0:0-0:0-0", "0:0-0:0-0", E),
        ("0:09azAZ.-+~:-0", "0:09azAZ.-+~:-0", E),
        ("0:0-azAZ09.+~", "0:0-azAZ09.+~", E),
        ("  \t0:0-1", "0:0-1", E),
        ("0:0-1\t  ", "0:0-1", E),
        ("\t  0:0-1  \t", "0:0-1", E),
    ];

    /// Debian Policy §5.6.12 and dpkg's documented `~` ordering, plus real advisory bounds.
    const POLICY_AND_REAL: &[(&str, &str, Ordering)] = &[
        ("1.0~rc1", "1.0", L),
        ("1.0~~", "1.0~~a", L),
        ("1.0~~a", "1.0~", L),
        ("1.0~", "1.0", L),
        ("1.0", "1.0a", L),
        ("1.0a", "1.0+", L),
        ("2.2.8-2+deb6u1", "2.2.8-2", G),
        ("1:1.2.15-7+deb6u1", "1.2.16-1", G),
        ("52.3.0esr-1~deb7u1", "52.3.0esr-1", L),
        ("2.6.32-48squeeze7", "2.6.32-48squeeze10", L),
        ("1.1.1n-0+deb11u5", "1.1.1w-0+deb11u1", L),
        ("3.0.11-1~deb12u2", "3.0.11-1~deb12u1", G),
        ("2:1.20.11-1+deb11u6", "2:1.20.11-1+deb11u5", G),
        ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", L),
        ("1.2.3", "1.2.3-0", E),
        ("000123", "123", E),
        ("1.18446744073709551616", "1.18446744073709551617", L),
    ];

    #[test]
    fn dpkg_vectors() {
        for (a, b, want) in DPKG_T_VERSION.iter().chain(POLICY_AND_REAL) {
            assert_eq!(cmp(a, b), *want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn dpkg_rejects() {
        let mut bad = vec![
            "",
            "  ",
            "0:",
            "0:0 0-1",
            "-1:0-1",
            "999999999999999999999999:0-1",
            "a:0-0",
            "A:0-0",
            "-0",
            "0:-0",
            "0:abc3-0",
            "0:0-0:0",
            ":1.0",
        ];
        let up: Vec<String> = "!#@$%&/|\\<>()[]{};,_=*^'"
            .chars()
            .map(|c| format!("0:0{c}-0"))
            .collect();
        let rev: Vec<String> = "!#@$%&/|\\<>()[]{}:;,_=*^'"
            .chars()
            .map(|c| format!("0:0-{c}"))
            .collect();
        bad.extend(up.iter().map(String::as_str));
        bad.extend(rev.iter().map(String::as_str));
        for v in bad {
            assert!(DebVersion::parse(v).is_err(), "{v:?} should be rejected");
        }
    }
}
