//! Composer (Packagist) versions: normalised like Composer's `VersionParser::normalize`, then
//! ordered like PHP's `version_compare`, which is what Composer's constraints use.
//!
//! Normalisation: optional `v`, one to four numeric parts padded to four (`1.2` → `1.2.0.0`),
//! or a date-like version (`20100102-203040` → `20100102.203040`), then an optional stability
//! modifier (`alpha`/`a`, `beta`/`b`, `RC`, `patch`/`pl`/`p`, `stable`) with optional number and
//! an optional `-dev`; build metadata (`+…`) and `@stability` flags are dropped, `dev-master`
//! (and `trunk`, `default`) is `9999999-dev`. Other `dev-<branch>` names and anything Composer
//! rejects are errors: a branch name has no position in the order.
//!
//! `version_compare` splits on `.`, `-`, `_`, `+` and digit/letter changes; numbers compare
//! numerically, words by PHP's special forms (`dev < alpha = a < beta = b < RC = rc < number <
//! pl = p`, unknown words below `dev`); when one side runs out, its next part decides (a number
//! makes it greater, a word is weighed against a number).

use std::cmp::Ordering;
use std::sync::LazyLock;

use regex::Regex;

const MODIFIER: &str =
    r"[._-]?(?:(stable|beta|b|rc|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?";

static CLASSICAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^v?(\d{{1,5}})(\.\d+)?(\.\d+)?(\.\d+)?{MODIFIER}$"
    ))
    .ok()
});
static DATETIME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^v?(\d{{4}}(?:[.:-]?\d{{2}}){{1,6}}(?:[.:-]?\d{{1,3}}){{0,2}}){MODIFIER}$"
    ))
    .ok()
});

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Digits without leading zeros.
    Num(Box<str>),
    /// A word, as its PHP special-form rank.
    Word(i8),
}

/// A parsed Composer version: the normalised string and its `version_compare` parts.
#[derive(Debug, Clone)]
pub(crate) struct ComposerVersion {
    normalized: Box<str>,
    parts: Vec<Part>,
}

fn expand_stability(s: &str) -> String {
    match s.to_ascii_lowercase().as_str() {
        "a" => "alpha".into(),
        "b" => "beta".into(),
        "p" | "pl" => "patch".into(),
        "rc" => "RC".into(),
        other => other.into(),
    }
}

/// Composer's `VersionParser::normalize` for the version shapes that have an order.
pub(crate) fn normalize(input: &str) -> Result<String, String> {
    let mut v = input.trim();
    if v.is_empty() {
        return Err("version string is empty".into());
    }
    if let Some((left, _alias)) = v.split_once(" as ") {
        v = left.trim();
    }
    if let Some(at) = v.rfind('@') {
        let flag = v[at + 1..].to_ascii_lowercase();
        if ["stable", "rc", "beta", "alpha", "dev"].contains(&flag.as_str()) {
            v = &v[..at];
        }
    }
    let lower = v.to_ascii_lowercase();
    if [
        "master",
        "trunk",
        "default",
        "dev-master",
        "dev-trunk",
        "dev-default",
    ]
    .contains(&lower.as_str())
    {
        return Ok("9999999-dev".into());
    }
    if lower.starts_with("dev-") {
        return Err("a `dev-` branch has no place in the version order".into());
    }
    if let Some((left, meta)) = v.split_once('+') {
        if meta.is_empty() || meta.contains(char::is_whitespace) {
            return Err("invalid build metadata".into());
        }
        v = left;
    }
    let (Some(classical), Some(datetime)) = (CLASSICAL.as_ref(), DATETIME.as_ref()) else {
        return Err("internal: version patterns failed to compile".into());
    };
    let (mut out, caps, index) = if let Some(c) = classical.captures(v) {
        let part = |i: usize| c.get(i).map_or(".0", |m| m.as_str()).to_string();
        let first = c.get(1).map_or("", |m| m.as_str()).to_string();
        (format!("{first}{}{}{}", part(2), part(3), part(4)), c, 5)
    } else if let Some(c) = datetime.captures(v) {
        let date = c.get(1).map_or("", |m| m.as_str());
        let dotted: String = date
            .chars()
            .map(|ch| if ch.is_ascii_digit() { ch } else { '.' })
            .collect();
        (dotted, c, 2)
    } else {
        return Err("not a Composer version (expected e.g. `1.2.3`, `1.2.3-beta2`, `1.2.x-dev` is a constraint)".into());
    };
    if let Some(stability) = caps
        .get(index)
        .map(|m| m.as_str())
        .filter(|s| !s.is_empty())
    {
        if stability.eq_ignore_ascii_case("stable") {
            return Ok(out);
        }
        out.push('-');
        out.push_str(&expand_stability(stability));
        if let Some(n) = caps
            .get(index + 1)
            .map(|m| m.as_str())
            .filter(|s| !s.is_empty())
        {
            out.push_str(n.trim_start_matches(['.', '-']));
        }
    }
    if caps.get(index + 2).is_some_and(|m| !m.as_str().is_empty()) {
        out.push_str("-dev");
    }
    Ok(out)
}

/// PHP's special version forms, matched as prefixes in this order; unknown words rank -1.
fn special_rank(word: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| word.starts_with(name))
        .map_or(-1, |(_, rank)| *rank)
}

/// `php_canonicalize_version` followed by the split on `.`.
fn php_parts(v: &str) -> Vec<Part> {
    let mut canon = String::new();
    let mut last: Option<char> = None;
    for c in v.chars() {
        let prev_out = canon.chars().last();
        let is_dig = c.is_ascii_digit();
        let last_ndig = last.is_some_and(|l| !l.is_ascii_digit() && l != '.');
        let last_dig = last.is_some_and(|l| l.is_ascii_digit());
        if last.is_none() {
            canon.push(c);
        } else if matches!(c, '-' | '_' | '+') {
            if prev_out != Some('.') {
                canon.push('.');
            }
        } else if (last_ndig && is_dig) || (last_dig && !is_dig && c != '.') {
            if prev_out != Some('.') {
                canon.push('.');
            }
            canon.push(c);
        } else if !c.is_ascii_alphanumeric() {
            if prev_out != Some('.') {
                canon.push('.');
            }
        } else {
            canon.push(c);
        }
        last = Some(c);
    }
    canon
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                Part::Num(p.trim_start_matches('0').into())
            } else {
                Part::Word(special_rank(p))
            }
        })
        .collect()
}

impl ComposerVersion {
    pub(crate) fn parse(input: &str) -> Result<ComposerVersion, String> {
        let normalized = normalize(input)?;
        let parts = php_parts(&normalized);
        Ok(ComposerVersion {
            normalized: normalized.into(),
            parts,
        })
    }

    pub(crate) fn is_prerelease(&self) -> bool {
        self.normalized.contains('-') && !self.normalized.contains("-patch")
    }
}

const NUMBER_RANK: i8 = 4;

fn part_cmp(a: &Part, b: &Part) -> Ordering {
    match (a, b) {
        (Part::Num(x), Part::Num(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        (Part::Word(x), Part::Word(y)) => x.cmp(y),
        (Part::Num(_), Part::Word(y)) => NUMBER_RANK.cmp(y),
        (Part::Word(x), Part::Num(_)) => x.cmp(&NUMBER_RANK),
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.parts.iter().zip(other.parts.iter()) {
            let o = part_cmp(a, b);
            if o != Ordering::Equal {
                return o;
            }
        }
        let (la, lb) = (self.parts.len(), other.parts.len());
        match la.cmp(&lb) {
            Ordering::Equal => Ordering::Equal,
            Ordering::Greater => match &self.parts[lb] {
                Part::Num(_) => Ordering::Greater,
                Part::Word(r) => r.cmp(&NUMBER_RANK),
            },
            Ordering::Less => match &other.parts[la] {
                Part::Num(_) => Ordering::Less,
                Part::Word(r) => NUMBER_RANK.cmp(r),
            },
        }
    }
}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    /// composer/semver tests/VersionParserTest.php `successfulNormalizedVersions`.
    #[test]
    fn normalize_vectors() {
        for (input, want) in [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13beta.2", "10.4.13.0-beta2"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010.1.555", "2010.1.555.0"),
            ("20100102-203040", "20100102.203040"),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("dev-master", "9999999-dev"),
            ("dev-master as 1.0.0", "9999999-dev"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
            ("1.0.0-stable", "1.0.0.0"),
            (" 1.0.0", "1.0.0.0"),
            ("1.0.0@beta", "1.0.0.0"),
        ] {
            assert_eq!(normalize(input).as_deref(), Ok(want), "{input}");
        }
    }

    /// VersionParserTest `failedNormalizedVersions` (plus dev branches we refuse to order).
    #[test]
    fn normalize_failures() {
        for bad in [
            "",
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "1.0.0+foo bar",
            "1.0.1-SNAPSHOT",
            "1.0.0<1.0.5-dev",
            "1.0.0-dev<1.0.5-dev",
            "foo bar-dev",
            "dev-feature-foo",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
    }

    /// composer/semver tests/ComparatorTest.php `compareProvider` and `lessThanProvider`
    /// (rows without `dev-` branches, which have no place in the order here).
    #[test]
    fn comparator_test_vectors() {
        let p = |s: &str| ComposerVersion::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        for (a, op, b, want) in [
            ("1.25.0", ">", "1.24.0", true),
            ("1.25.0", ">", "1.25.0", false),
            ("1.25.0", ">", "1.26.0", false),
            ("1.25.0", ">=", "1.24.0", true),
            ("1.25.0", ">=", "1.25.0", true),
            ("1.25.0", ">=", "1.26.0", false),
            ("1.25.0", "<", "1.24.0", false),
            ("1.25.0", "<", "1.25.0", false),
            ("1.25.0", "<", "1.26.0", true),
            ("1.25.0-beta2.1", "<", "1.25.0-b.3", true),
            ("1.25.0-b2.1", "<", "1.25.0beta.3", true),
            ("1.25.0-b-2.1", "<", "1.25.0-rc", true),
            ("1.25.0", "<=", "1.24.0", false),
            ("1.25.0", "<=", "1.25.0", true),
            ("1.25.0", "<=", "1.26.0", true),
            ("1.25.0", "==", "1.24.0", false),
            ("1.25.0", "==", "1.25.0", true),
            ("1.25.0-beta2.1", "==", "1.25.0-b.2.1", true),
            ("1.25.0beta2.1", "==", "1.25.0-b2.1", true),
            ("1.25.0", "!=", "1.24.0", true),
            ("1.25.0", "!=", "1.25.0", false),
            ("1.0.0", "<", "1.2-dev", true),
        ] {
            let o = p(a).cmp(&p(b));
            let got = match op {
                ">" => o == Ordering::Greater,
                ">=" => o != Ordering::Less,
                "<" => o == Ordering::Less,
                "<=" => o != Ordering::Greater,
                "==" => o == Ordering::Equal,
                _ => o != Ordering::Equal,
            };
            assert_eq!(got, want, "{a} {op} {b}");
        }
    }

    /// Orderings from PHP's `version_compare` documentation and real advisory bounds.
    #[test]
    fn ordering() {
        let p = |s: &str| ComposerVersion::parse(s).unwrap();
        let chain = [
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-alpha2",
            "1.0.0-beta1",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-patch1",
            "1.0.1",
            "1.1",
            "2.0.0",
            "9999999-dev",
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
        assert_eq!(p("1.0"), p("1.0.0.0"));
        assert_eq!(p("v1.25.0"), p("1.25.0"));
        assert_eq!(p("1.0.0-a1"), p("1.0.0-alpha1"));
        assert!(p("5.4.10") > p("5.4.9"));
        assert!(p("1.0.0-beta.5") > p("1.0.0-beta.4"));
    }
}
