//! Property tests: every scheme's `Version` order is a total order on generated versions
//! (reflexive, antisymmetric, transitive, equality consistent with `cmp`), and generated strings
//! either parse or fail with an error — never a panic.
//!
//! Generators are regexes over each scheme's grammar with small alphabets so that equal and
//! near-equal versions (`1.0` vs `1.00`, `~` vs end of string, pre-releases) come up often.

use std::cmp::Ordering;

use proptest::prelude::*;
use proptest::string::string_regex;

use super::{Scheme, Version};

/// A grammar-shaped generator for `scheme`, plus some noise characters so that invalid inputs
/// are exercised too.
fn grammar(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Deb => r"([0-9]:)?[0-9]{1,2}(\.[0-9a-c~+]{1,3}){0,3}(-[0-9a-c.+~]{0,4})?",
        Scheme::Rpm => r"([0-9]:)?[0-9a-c.~^_+]{1,7}(-[0-9a-c.~^_]{1,5})?",
        Scheme::Apk => {
            r"[0-9]{1,2}(\.[0-9]{1,2}){0,3}[a-c]?(_(alpha|beta|pre|rc|p|git|x)[0-9]{0,2}){0,2}(~[0-9a-f]{1,3})?(-r[0-9]{1,2})?"
        }
        Scheme::Pep440 => {
            r"([0-2]!)?[0-9]{1,2}(\.[0-9]{1,2}){0,3}((a|b|rc|c|alpha|pre)[0-9]{0,2})?(\.post[0-9]|-[0-9])?(\.dev[0-9]?)?(\+[a-z0-9]{1,3}(\.[0-9]{1,2})?)?"
        }
        Scheme::Npm
        | Scheme::Cargo
        | Scheme::Hex
        | Scheme::Pub
        | Scheme::Bitnami
        | Scheme::Semver => {
            r"v?(0|[1-9][0-9]?)\.(0|[1-9])\.(0|[1-9]|00)(-(0|[1-9]|[a-cA-C-]{1,3})(\.(0|1|[a-c]{1,2})){0,2})?(\+[0-9a-z]{1,3})?"
        }
        Scheme::Go => {
            r"v?(0|[1-9])(\.(0|[1-9])(\.(0|[1-9]))?)?(-(0|1|rc|[0-9]{14}-[0-9a-f]{4})(\.[0-9a-c]{1,2}){0,2})?(\+incompatible)?"
        }
        Scheme::Maven => {
            r"[0-9]{1,2}([.-]{1,2}([0-9]{1,2}|alpha|beta|a|b|m|rc|cr|snapshot|ga|final|release|sp|foo|0)){0,4}([a-c]|sp|rc)?[0-9]?"
        }
        Scheme::Gem => r"[0-9]{1,2}(\.([0-9]{1,2}|a|b|pre|rc)){0,4}",
        Scheme::Nuget => {
            r"[0-9]{1,2}\.[0-9]{1,2}(\.[0-9]{1,2}(\.[0-9])?)?(-(alpha|beta|rc|[0-9])(\.[0-9a-c]{1,2}){0,2})?(\+[a-z]{1,2})?"
        }
        Scheme::Composer => {
            r"v?[0-9]{1,2}(\.[0-9]{1,2}){0,3}(-?(alpha|beta|RC|rc|b|a|patch|pl|p|dev)[0-9]?)?"
        }
    }
}

fn versions(scheme: Scheme) -> impl Strategy<Value = Version> {
    let re = string_regex(grammar(scheme)).unwrap_or_else(|e| panic!("{scheme}: {e}"));
    re.prop_filter_map("unparseable", move |s| Version::parse(scheme, &s).ok())
}

fn check_order(a: &Version, b: &Version, c: &Version) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.cmp(a), Ordering::Equal, "reflexive: {}", a);
    prop_assert_eq!(
        a.cmp(b),
        b.cmp(a).reverse(),
        "antisymmetric: {} vs {}",
        a,
        b
    );
    prop_assert_eq!(
        a == b,
        a.cmp(b) == Ordering::Equal,
        "eq consistent: {} vs {}",
        a,
        b
    );
    if a <= b && b <= c {
        prop_assert!(a <= c, "transitive: {} <= {} <= {}", a, b, c);
    }
    if a == b {
        prop_assert_eq!(
            a.cmp(c),
            b.cmp(c),
            "equal versions order alike: {} {} vs {}",
            a,
            b,
            c
        );
    }
    Ok(())
}

macro_rules! total_order {
    ($name:ident, $scheme:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            #[test]
            fn $name(a in versions($scheme), b in versions($scheme), c in versions($scheme)) {
                check_order(&a, &b, &c)?;
            }
        }
    };
}

total_order!(deb_is_a_total_order, Scheme::Deb);
total_order!(rpm_is_a_total_order, Scheme::Rpm);
total_order!(apk_is_a_total_order, Scheme::Apk);
total_order!(pep440_is_a_total_order, Scheme::Pep440);
total_order!(npm_is_a_total_order, Scheme::Npm);
total_order!(semver_is_a_total_order, Scheme::Semver);
total_order!(go_is_a_total_order, Scheme::Go);
total_order!(maven_is_a_total_order, Scheme::Maven);
total_order!(gem_is_a_total_order, Scheme::Gem);
total_order!(nuget_is_a_total_order, Scheme::Nuget);
total_order!(composer_is_a_total_order, Scheme::Composer);

proptest! {
    /// Arbitrary strings never panic any parser, and a parsed version compares equal to itself
    /// re-parsed from its own text.
    #[test]
    fn parsers_never_panic(s in "\\PC{0,24}") {
        for scheme in Scheme::ALL {
            if let Ok(v) = Version::parse(scheme, &s) {
                let again = Version::parse(scheme, v.as_str());
                prop_assert!(again.is_ok_and(|w| w == v));
            }
        }
    }

    /// Mixed schemes still form a total order (scheme first), so sorting mixed lists is safe.
    #[test]
    fn mixed_schemes_stay_total(
        a in versions(Scheme::Deb),
        b in versions(Scheme::Npm),
        c in versions(Scheme::Pep440),
        d in versions(Scheme::Go),
    ) {
        for (x, y, z) in [(&a, &b, &c), (&b, &d, &a), (&d, &c, &b), (&b, &d, &d)] {
            check_order(x, y, z)?;
        }
    }
}
