//! Maven versions, ordered like Maven 3.9's `ComparableVersion`.
//!
//! The string is lower-cased and split into a tree of items: `.` separates items in a list,
//! `-` and every digit/letter transition open a sub-list; numbers compare numerically (any
//! length), qualifiers by the fixed order `alpha < beta < milestone < rc = cr < snapshot <
//! "" = ga = final = release < sp`, unknown qualifiers after all of them alphabetically, and a
//! number is always above a qualifier. Trailing "null" items (`0`, `""`, `ga`…) are dropped, so
//! `1 == 1.0 == 1-0 == 1.ga`. Any non-empty string is a Maven version, as in Maven; only empty
//! or blank strings, control characters and whitespace are rejected.
//!
//! Deliberate deviations, only where Maven 3.9's own order is cyclic (found by this module's
//! total-order property test: `7-alpha < 7 < 7.sp-0 < 7-alpha`, `1-sp < 1-ga-rc < 1 < 1-sp`,
//! `5 < 5-ga1 < 5-.alpha-0 < 5`). A Rust `Ord` must be total — sorting with a cyclic one may
//! panic — so here Maven's own ".X is -X" rule for a dotted qualifier also applies when the
//! qualifier is followed by `.` or `-` (Maven applies it only before a digit or at the end), and
//! a qualifier compared with a sub-list compares as the one-item sub-list `-X` (Maven puts every
//! qualifier below every sub-list). No ComparableVersionTest vector changes.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
enum Item {
    /// Digits without leading zeros ("" for zero).
    Int(Box<str>),
    /// A qualifier, already mapped through Maven's aliases.
    Str(Box<str>),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: usize = 5;

/// Maven's `comparableQualifier`: known qualifiers by index, unknown ones after them.
fn qualifier_key(q: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

impl Item {
    fn int(digits: &str) -> Item {
        Item::Int(digits.trim_start_matches('0').into())
    }

    fn string(s: &str, followed_by_digit: bool) -> Item {
        let s = if followed_by_digit && s.len() == 1 {
            match s {
                "a" => "alpha",
                "b" => "beta",
                "m" => "milestone",
                other => other,
            }
        } else {
            s
        };
        let s = match s {
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        Item::Str(s.into())
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// `self.compareTo(other)` where `None` is Java's `null` (a missing item).
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => qualifier_key(s).cmp(&(RELEASE_INDEX, "")),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => qualifier_key(a).cmp(&qualifier_key(b)),
            // Maven: a qualifier is always below a sub-list. That makes Maven's order cyclic
            // (see the module docs), so compare the qualifier as the one-item sub-list `-X` it
            // stands for.
            (Item::Str(s), Some(list @ Item::List(_))) => {
                Item::List(vec![Item::Str(s.clone())]).compare(Some(list))
            }
            (Item::List(l), None) => l
                .iter()
                .map(|i| i.compare(None))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(s))) => {
                self.compare(Some(&Item::List(vec![Item::Str(s.clone())])))
            }
            (Item::List(a), Some(Item::List(b))) => {
                let n = a.len().max(b.len());
                for i in 0..n {
                    let r = match (a.get(i), b.get(i)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(r)) => r.compare(None).reverse(),
                        (Some(l), r) => l.compare(r),
                    };
                    if r != Ordering::Equal {
                        return r;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub(crate) struct MavenVersion {
    items: Item,
}

/// The lists opened while parsing. `ComparableVersion.parseVersion` only ever descends: each
/// new sub-list is added as the last item of the current list and becomes the current list, so
/// the open lists form a chain and the tree is rebuilt by folding the chain from the innermost
/// list outwards, normalising each list as Maven does when it pops its stack.
struct Builder {
    chain: Vec<Vec<Item>>,
}

impl Builder {
    fn current(&mut self) -> &mut Vec<Item> {
        if self.chain.is_empty() {
            self.chain.push(Vec::new());
        }
        let last = self.chain.len() - 1;
        &mut self.chain[last]
    }

    fn push(&mut self, item: Item) {
        self.current().push(item);
    }

    fn current_is_empty(&self) -> bool {
        self.chain.last().is_none_or(Vec::is_empty)
    }

    fn open_sublist(&mut self) {
        self.chain.push(Vec::new());
    }

    fn finish(mut self) -> Item {
        let mut inner: Option<Vec<Item>> = None;
        while let Some(mut list) = self.chain.pop() {
            if let Some(child) = inner.take() {
                list.push(Item::List(child));
            }
            normalize(&mut list);
            inner = Some(list);
        }
        Item::List(inner.unwrap_or_default())
    }
}

/// Maven's `ListItem.normalize`: walking back from the end, drop null items; stop at the first
/// non-null item that is not a list (non-null lists are stepped over).
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

impl MavenVersion {
    pub(crate) fn parse(input: &str) -> Result<MavenVersion, String> {
        if input.trim().is_empty() {
            return Err("version string is empty".into());
        }
        if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "invalid character `{}` in version",
                c.escape_default()
            ));
        }
        let v = input.to_lowercase();
        let chars: Vec<char> = v.chars().collect();
        let mut b = Builder {
            chain: vec![Vec::new()],
        };
        let mut is_digit = false;
        let mut start = 0;
        let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
        let item = |digit: bool, s: &str| {
            if digit {
                Item::int(s)
            } else {
                Item::string(s, false)
            }
        };
        for (i, &c) in chars.iter().enumerate() {
            if c == '.' || c == '-' {
                if i == start {
                    b.push(Item::Int("".into()));
                } else {
                    if !is_digit && !b.current_is_empty() {
                        // Deviation (see module docs): ".X is -X" also before a separator.
                        b.open_sublist();
                    }
                    b.push(item(is_digit, &text(start, i)));
                }
                start = i + 1;
                if c == '-' {
                    b.open_sublist();
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X.
                    if !b.current_is_empty() {
                        b.open_sublist();
                    }
                    b.push(Item::string(&text(start, i), true));
                    start = i;
                    b.open_sublist();
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    b.push(item(true, &text(start, i)));
                    start = i;
                    b.open_sublist();
                }
                is_digit = false;
            }
        }
        if chars.len() > start {
            if !is_digit && !b.current_is_empty() {
                b.open_sublist();
            }
            b.push(item(is_digit, &text(start, chars.len())));
        }
        Ok(MavenVersion { items: b.finish() })
    }

    /// True when the first qualifier ranks below a release (alpha, beta, milestone, rc,
    /// snapshot).
    pub(crate) fn is_prerelease(&self) -> bool {
        fn first_qualifier(item: &Item) -> Option<&str> {
            match item {
                Item::Str(s) => Some(s),
                Item::Int(_) => None,
                Item::List(l) => l.iter().find_map(first_qualifier),
            }
        }
        first_qualifier(&self.items).is_some_and(|q| qualifier_key(q).0 < RELEASE_INDEX)
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.items.compare(Some(&other.items))
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> MavenVersion {
        MavenVersion::parse(s).unwrap()
    }

    /// maven-artifact ComparableVersionTest: VERSIONS_QUALIFIER (strictly increasing).
    const VERSIONS_QUALIFIER: &[&str] = &[
        "1-alpha2snapshot",
        "1-alpha2",
        "1-alpha-123",
        "1-beta-2",
        "1-beta123",
        "1-m2",
        "1-m11",
        "1-rc",
        "1-cr2",
        "1-rc123",
        "1-SNAPSHOT",
        "1",
        "1-sp",
        "1-sp2",
        "1-sp123",
        "1-abc",
        "1-def",
        "1-pom-1",
        "1-1-snapshot",
        "1-1",
        "1-2",
        "1-123",
    ];

    /// ComparableVersionTest (maven-3.9.x): VERSIONS_NUMBER (strictly increasing).
    const VERSIONS_NUMBER: &[&str] = &[
        "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
        "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11",
        "11.a", "11b", "11c", "11m",
    ];

    /// ComparableVersionTest.testVersionsEqual (maven-3.9.x, plus the older dot forms).
    const EQUAL: &[(&str, &str)] = &[
        ("1.0a", "1-a"),
        ("1.0.0a", "1-a"),
        ("1.0x", "1-x"),
        ("1.0.0x", "1-x"),
        ("1a1", "1-alpha-1"),
        ("1b2", "1-beta-2"),
        ("1m3", "1-milestone-3"),
        ("1release", "1"),
        ("1RELEASE", "1"),
        ("1RELeaSE", "1"),
        ("2.0.a", "2.0.0.a"),
        ("1", "1"),
        ("1", "1.0"),
        ("1", "1.0.0"),
        ("1.0", "1.0.0"),
        ("1", "1-0"),
        ("1", "1.0-0"),
        ("1.0", "1.0-0"),
        ("1a", "1.a"),
        ("1a", "1-a"),
        ("1a", "1.0-a"),
        ("1a", "1.0.0-a"),
        ("1.0a", "1.0.a"),
        ("1.0.0a", "1.0.0.a"),
        ("1x", "1.x"),
        ("1x", "1-x"),
        ("1x", "1.0-x"),
        ("1x", "1.0.0-x"),
        ("1.0x", "1.0.x"),
        ("1.0.0x", "1.0.0.x"),
        ("1ga", "1"),
        ("1final", "1"),
        ("1cr", "1rc"),
        ("1a1", "1alpha1"),
        ("1b2", "1beta2"),
        ("1m3", "1milestone3"),
        ("1X", "1x"),
        ("1A", "1a"),
        ("1B", "1b"),
        ("1M", "1m"),
        ("1Ga", "1"),
        ("1GA", "1"),
        ("1Final", "1"),
        ("1FinaL", "1"),
        ("1FINAL", "1"),
        ("1Cr", "1Rc"),
        ("1cR", "1rC"),
        ("1m3", "1Milestone3"),
        ("1m3", "1MileStone3"),
        ("1m3", "1MILESTONE3"),
        (
            "1-abcdefghijklmnopqrstuvwxyz",
            "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ),
    ];

    /// ComparableVersionTest.testVersionComparing: a < b.
    const LESS: &[(&str, &str)] = &[
        ("1", "2"),
        ("1.5", "2"),
        ("1", "2.5"),
        ("1.0", "1.1"),
        ("1.1", "1.2"),
        ("1.0.0", "1.1"),
        ("1.0.1", "1.1"),
        ("1.1", "1.2.0"),
        ("1.0-alpha-1", "1.0"),
        ("1.0-alpha-1", "1.0-alpha-2"),
        ("1.0-alpha-1", "1.0-beta-1"),
        ("1.0-beta-1", "1.0-SNAPSHOT"),
        ("1.0-SNAPSHOT", "1.0"),
        ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
        ("1.0", "1.0-1"),
        ("1.0-1", "1.0-2"),
        ("1.0.0", "1.0-1"),
        ("2.0-1", "2.0.1"),
        ("2.0.1-klm", "2.0.1-lmn"),
        ("2.0.1", "2.0.1-xyz"),
        ("2.0.1", "2.0.1-123"),
        ("2.0.1-xyz", "2.0.1-123"),
        // Real advisory bounds.
        ("2.14.1", "2.15.0"),
        ("2.15.0-rc1", "2.15.0"),
        ("1.2.1.2-jre17", "1.2.1.3"),
    ];

    #[test]
    fn comparable_version_test() {
        for list in [VERSIONS_QUALIFIER, VERSIONS_NUMBER] {
            for i in 0..list.len() {
                for j in i + 1..list.len() {
                    assert_eq!(
                        p(list[i]).cmp(&p(list[j])),
                        Ordering::Less,
                        "{} < {}",
                        list[i],
                        list[j]
                    );
                    assert_eq!(p(list[j]).cmp(&p(list[i])), Ordering::Greater);
                }
            }
        }
        for (a, b) in EQUAL {
            assert_eq!(p(a), p(b), "{a} == {b}");
        }
        for (a, b) in LESS {
            assert_eq!(p(a).cmp(&p(b)), Ordering::Less, "{a} < {b}");
            assert_eq!(p(b).cmp(&p(a)), Ordering::Greater, "{b} > {a}");
        }
        assert!(p("1.0-SNAPSHOT").is_prerelease());
        assert!(!p("1.0-sp1").is_prerelease());
    }

    /// Found by the total-order property test: Maven 3.9 itself orders these in a cycle.
    #[test]
    fn dotted_qualifier_before_separator_stays_transitive() {
        let (a, b, c) = (p("7-alpha"), p("7"), p("7.sp-0"));
        assert!(a < b && b < c);
        assert!(a < c);
        assert_eq!(p("7.sp-0"), p("7-sp"));
        let (a, b, c) = (p("1-ga-rc"), p("1"), p("1-sp"));
        assert!(a < b && b < c && a < c);
        let (a, b, c) = (p("5-.alpha-0"), p("5"), p("5-ga1"));
        assert!(a < b && b < c && a < c);
    }

    #[test]
    fn rejects_only_blank_and_control() {
        for bad in ["", "  ", "1.0 beta", "1\n"] {
            assert!(MavenVersion::parse(bad).is_err(), "{bad:?}");
        }
        assert!(MavenVersion::parse("anything-goes.1").is_ok());
    }
}
