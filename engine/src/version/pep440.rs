//! PEP 440 versions (PyPI), via the `pep440_rs` crate.
//!
//! The crate implements the full PEP 440 grammar and ordering (epochs, pre/post/dev releases,
//! local versions, zero padding of the release segment, normalisation of spellings such as
//! `1.0-ALPHA1` or `1.0.post-1`). This module only adapts its errors; it does not accept legacy
//! (`LegacyVersion`) strings — those are reported as unparseable.

/// Parses a PEP 440 version. Surrounding blanks are allowed, as PEP 440 permits.
pub(crate) fn parse(s: &str) -> Result<pep440_rs::Version, String> {
    s.trim()
        .parse::<pep440_rs::Version>()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::parse;

    /// PEP 440 "Summary of permitted suffixes and relative ordering" example, in order.
    const PEP440_ORDER: &[&str] = &[
        "1.dev0",
        "1.0.dev456",
        "1.0a1",
        "1.0a2.dev456",
        "1.0a12.dev456",
        "1.0a12",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0rc1.dev456",
        "1.0rc1",
        "1.0",
        "1.0+abc.5",
        "1.0+abc.7",
        "1.0+5",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.0.15",
        "1.1.dev1",
    ];

    /// PEP 440 normalisation examples: each pair is the same version.
    const PEP440_EQUAL: &[(&str, &str)] = &[
        ("1.0", "1.0.0"),
        ("1.1RC1", "1.1rc1"),
        ("1.0a", "1.0a0"),
        ("1.0-a1", "1.0a1"),
        ("1.0.alpha1", "1.0a1"),
        ("1.0c1", "1.0rc1"),
        ("1.0pre1", "1.0rc1"),
        ("1.0preview1", "1.0rc1"),
        ("1.0-post1", "1.0.post1"),
        ("1.0-1", "1.0.post1"),
        ("1.0.rev1", "1.0.post1"),
        ("1.0.r1", "1.0.post1"),
        ("1.0.post", "1.0.post0"),
        ("1.0.dev", "1.0.dev0"),
        ("1.0-dev1", "1.0.dev1"),
        ("v1.0", "1.0"),
        ("0!1.0", "1.0"),
        ("1.0+ubuntu-1", "1.0+ubuntu.1"),
        (" 1.0 ", "1.0"),
        ("01.02", "1.2"),
    ];

    #[test]
    fn pep440_vectors() {
        for w in PEP440_ORDER.windows(2) {
            let (a, b) = (parse(w[0]).unwrap(), parse(w[1]).unwrap());
            assert_eq!(a.cmp(&b), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        for (a, b) in PEP440_EQUAL {
            assert_eq!(parse(a).unwrap(), parse(b).unwrap(), "{a} == {b}");
        }
        assert!(parse("1!1.0").unwrap() > parse("2.0").unwrap());
        // A bare letter is an implicit pre-release number 0 (PEP 440 "implicit pre-release number").
        assert_eq!(parse("139076a").unwrap(), parse("139076a0").unwrap());
        // Real advisory bounds.
        assert!(parse("5.3").unwrap() < parse("5.4").unwrap());
        assert!(parse("1.24.1").unwrap() < parse("1.24.2").unwrap());
        assert!(parse("3.2.0").unwrap() < parse("3.2.4").unwrap());
    }

    /// pypa/packaging tests/test_version.py `VERSIONS` ("must be in the correct sorting
    /// order"), once with the implicit epoch and once with `1!`.
    const PACKAGING_VERSIONS: &[&str] = &[
        "1.0.dev0",
        "1.0.dev456",
        "1.0.dev456+local",
        "1.0a0",
        "1.0a0.post0.dev0",
        "1.0a0.post0",
        "1.0a1.dev1",
        "1.0a1.dev1+local",
        "1.0a1",
        "1.0a1+local",
        "1.0b0",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0b2-346",
        "1.0rc0",
        "1.0rc1.dev1",
        "1.0c1",
        "1.0rc2",
        "1.0",
        "1.0.post0.dev0",
        "1.0.post0",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.0.post456+local",
        "1.0.1.dev1",
        "1.0.1a1",
        "1.0.1",
        "1.0.1+local",
        "1.0.1.post1",
        "1.1.dev1",
        "1.2+a",
        "1.2+abc",
        "1.2+abcdef",
        "1.2+def",
        "1.2+0",
        "1.2+1",
        "1.2+1.abc",
        "1.2+1.1",
        "1.2+1.1.0",
        "1.2+2",
        "1.2+123",
        "1.2+123456",
        "1.2.r32+123456",
        "1.2.rev33+123456",
    ];

    #[test]
    fn packaging_sorted_versions() {
        let all: Vec<String> = PACKAGING_VERSIONS
            .iter()
            .map(|v| (*v).to_string())
            .chain(PACKAGING_VERSIONS.iter().map(|v| format!("1!{v}")))
            .collect();
        let parsed: Vec<_> = all
            .iter()
            .map(|v| parse(v).unwrap_or_else(|e| panic!("{v}: {e}")))
            .collect();
        for i in 0..parsed.len() {
            for j in i + 1..parsed.len() {
                assert_eq!(
                    parsed[i].cmp(&parsed[j]),
                    Ordering::Less,
                    "{} < {}",
                    all[i],
                    all[j]
                );
            }
        }
        // test_normalized_versions (a sample of each family) and test_version_rc_and_c_equals.
        for (a, b) in [
            ("1.0dev", "1.0.dev0"),
            ("1.0-DEV1", "1.0.dev1"),
            ("1.0.ALPHA1", "1.0a1"),
            ("1.0-B", "1.0b0"),
            ("1.0.C1", "1.0rc1"),
            ("1.0r", "1.0.post0"),
            ("1.0-rev5", "1.0.post5"),
            ("1.0+AbC", "1.0+abc"),
            ("1.0c056", "1.0rc56"),
            ("1.1.dev09000", "1.1.dev9000"),
            ("00!1.2", "1.2"),
            ("0100!0.0", "100!0.0"),
            ("   v1.0\t\n", "1.0"),
            ("1.0rc1", "1.0c1"),
        ] {
            assert_eq!(parse(a).unwrap(), parse(b).unwrap(), "{a:?} == {b}");
        }
    }

    /// packaging test_invalid_versions (ASCII rows).
    #[test]
    fn packaging_invalid_versions() {
        for bad in [
            "french toast",
            "1.0+a+",
            "1.0++",
            "1.0+_foobar",
            "1.0+foo&asd",
            "1.0+1+1",
            "1. 0",
            "1 .0",
            "1. 0a1",
            "1 .0a1",
            "1.0 a1",
            "1.0a 1",
            ".",
            "..",
            "1..0",
            "1.0.",
            ".1.0",
            "1..2.3",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pep440_rejects_legacy() {
        for bad in ["", "french toast", "1.0-NA", "2019-09-12", "1.0+", "1..0"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
