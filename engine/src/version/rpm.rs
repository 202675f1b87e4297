//! RPM versions: `[epoch:]version[-release]`, ordered like `rpmvercmp` + EVR comparison.
//!
//! Comparison of each part is delegated to the `rpm-version` crate (same algorithm as rpm's
//! `rpmvercmp`, including `~` sorting before anything and `^` sorting after the base but before
//! any further component), checked here against rpm's own tests/rpmvercmp.at. This module adds
//! what the crate does not check: the epoch must be a decimal number, the string must not be
//! empty or contain blanks, and no character outside what rpm allows in EVRs. A missing epoch is
//! 0, a missing release compares as empty (lower than any release).

use std::cmp::Ordering;

use rpm_version::Evr;

/// A parsed RPM EVR.
#[derive(Debug, Clone)]
pub(crate) struct RpmVersion {
    epoch: u64,
    version: Box<str>,
    release: Box<str>,
}

impl RpmVersion {
    pub(crate) fn parse(s: &str) -> Result<RpmVersion, String> {
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "._+~^:-".contains(*c)))
        {
            return Err(format!(
                "invalid character `{}` in version",
                c.escape_default()
            ));
        }
        let (epoch, vr) = match s.split_once(':') {
            Some((e, vr)) => {
                if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("epoch `{e}` is not a number"));
                }
                let epoch = e.parse().map_err(|_| format!("epoch `{e}` is too large"))?;
                (epoch, vr)
            }
            None => (0, s),
        };
        if vr.contains(':') {
            return Err("more than one `:` in version".into());
        }
        let (version, release) = vr.split_once('-').unwrap_or((vr, ""));
        if version.is_empty() {
            return Err("version part is empty".into());
        }
        if release.contains('-') {
            return Err("more than one `-` in version-release".into());
        }
        if !version
            .bytes()
            .chain(release.bytes())
            .any(|b| b.is_ascii_alphanumeric())
        {
            return Err("no digits or letters in version".into());
        }
        Ok(RpmVersion {
            epoch,
            version: version.into(),
            release: release.into(),
        })
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch.cmp(&other.epoch).then_with(|| {
            Evr::new("0", &self.version, &self.release).cmp(&Evr::new(
                "0",
                &other.version,
                &other.release,
            ))
        })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn vercmp(a: &str, b: &str) -> i32 {
        // rpmvercmp compares one version string; as a bare version it has no release.
        match RpmVersion::parse(a)
            .unwrap()
            .cmp(&RpmVersion::parse(b).unwrap())
        {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }

    /// rpm tests/rpmvercmp.at, every RPMVERCMP(a, b, expected) row (incl. the caret section).
    const RPMVERCMP_AT: &[(&str, &str, i32)] = &[
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0", "1.0", 1),
        ("2.0.1", "2.0.1", 0),
        ("2.0", "2.0.1", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1a", 0),
        ("2.0.1a", "2.0.1", 1),
        ("2.0.1", "2.0.1a", -1),
        ("5.5p1", "5.5p1", 0),
        ("5.5p1", "5.5p2", -1),
        ("5.5p2", "5.5p1", 1),
        ("5.5p10", "5.5p10", 0),
        ("5.5p1", "5.5p10", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("10.1xyz", "10xyz", 1),
        ("xyz10", "xyz10", 0),
        ("xyz10", "xyz10.1", -1),
        ("xyz10.1", "xyz10", 1),
        ("xyz.4", "xyz.4", 0),
        ("xyz.4", "8", -1),
        ("8", "xyz.4", 1),
        ("xyz.4", "2", -1),
        ("2", "xyz.4", 1),
        ("5.5p2", "5.6p1", -1),
        ("5.6p1", "5.5p2", 1),
        ("5.6p1", "6.5p1", -1),
        ("6.5p1", "5.6p1", 1),
        ("6.0.rc1", "6.0", 1),
        ("6.0", "6.0.rc1", -1),
        ("10b2", "10a1", 1),
        ("10a2", "10b2", -1),
        ("1.0aa", "1.0aa", 0),
        ("1.0a", "1.0aa", -1),
        ("1.0aa", "1.0a", 1),
        ("10.0001", "10.0001", 0),
        ("10.0001", "10.1", 0),
        ("10.1", "10.0001", 0),
        ("10.0001", "10.0039", -1),
        ("10.0039", "10.0001", 1),
        ("4.999.9", "5.0", -1),
        ("5.0", "4.999.9", 1),
        ("20101121", "20101121", 0),
        ("20101121", "20101122", -1),
        ("20101122", "20101121", 1),
        ("2_0", "2_0", 0),
        ("2.0", "2_0", 0),
        ("2_0", "2.0", 0),
        ("a", "a", 0),
        ("a+", "a+", 0),
        ("a+", "a_", 0),
        ("a_", "a+", 0),
        ("+a", "+a", 0),
        ("+a", "_a", 0),
        ("_a", "+a", 0),
        ("1.0~rc1", "1.0~rc1", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc2", "1.0~rc1", 1),
        ("1.0~rc1~git123", "1.0~rc1~git123", 0),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        ("1.0~rc1", "1.0~rc1~git123", 1),
        ("1.0^", "1.0^", 0),
        ("1.0^", "1.0", 1),
        ("1.0", "1.0^", -1),
        ("1.0^git1", "1.0^git1", 0),
        ("1.0^git1", "1.0", 1),
        ("1.0", "1.0^git1", -1),
        ("1.0^git1", "1.0^git2", -1),
        ("1.0^git2", "1.0^git1", 1),
        ("1.0^git1", "1.01", -1),
        ("1.01", "1.0^git1", 1),
        ("1.0^20160101", "1.0^20160101", 0),
        ("1.0^20160101", "1.0.1", -1),
        ("1.0.1", "1.0^20160101", 1),
        ("1.0^20160101^git1", "1.0^20160101^git1", 0),
        ("1.0^20160102", "1.0^20160101^git1", 1),
        ("1.0^20160101^git1", "1.0^20160102", -1),
        ("1.0~rc1^git1", "1.0~rc1^git1", 0),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc1^git1", -1),
        ("1.0^git1~pre", "1.0^git1~pre", 0),
        ("1.0^git1", "1.0^git1~pre", 1),
        ("1.0^git1~pre", "1.0^git1", -1),
    ];

    #[test]
    fn rpmvercmp_vectors() {
        for (a, b, want) in RPMVERCMP_AT {
            assert_eq!(vercmp(a, b), *want, "rpmvercmp({a}, {b})");
        }
    }

    /// The rpmvercmp.at rows made only of separators: rpm calls them equal, we refuse to
    /// parse them as versions (there is nothing to order), so check the comparator directly.
    #[test]
    fn rpmvercmp_separator_only_rows() {
        for (a, b) in [
            ("+_", "+_"),
            ("_+", "+_"),
            ("_+", "_+"),
            ("+", "_"),
            ("_", "+"),
        ] {
            assert_eq!(
                rpm_version::rpm_evr_compare(a, b),
                Ordering::Equal,
                "{a} vs {b}"
            );
            assert!(RpmVersion::parse(a).is_err());
        }
    }

    #[test]
    fn evr_epoch_and_release() {
        let c = |a: &str, b: &str| {
            RpmVersion::parse(a)
                .unwrap()
                .cmp(&RpmVersion::parse(b).unwrap())
        };
        assert_eq!(c("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(c("0:1.0-1", "1.0-1"), Ordering::Equal);
        assert_eq!(c("1.0-1.el8", "1.0-1.el8_1"), Ordering::Less);
        assert_eq!(
            c(
                "1.0.5-18.module_el8.6.0+2761+593e5e59",
                "1.0.5-18.module_el8.5.0+2632+14ced695"
            ),
            Ordering::Greater
        );
        assert_eq!(
            c("5.14.0-687.26.1.el9_8", "5.14.0-70.17.1.el9_0"),
            Ordering::Greater
        );
        assert_eq!(
            c("1:39.31.5.1-135.el9_2.alma.1", "1:39.31.5.1-135.el9_2"),
            Ordering::Greater
        );
        assert_eq!(c("1.0", "1.0-1"), Ordering::Less);
    }

    #[test]
    fn rpm_rejects() {
        for bad in [
            "", "a:1.0", ":1.0", "1.0 1", "1:2:3", "1.0-1-2", "-1", "1.0/2", "~", "1.0\n",
        ] {
            assert!(RpmVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
