//! Human-written version ranges (ignore rules, policy parameters): parse once, test many.
//!
//! Each scheme reads the syntax its own ecosystem uses:
//!
//! * npm: node-semver ranges (`^1.2.3 || >=2 <3`, `1.2 - 2.3`, `1.x`, `~1.2`), desugared
//!   exactly as node-semver does (`version::npm_range`); a pre-release only matches a
//!   comparator set that names a pre-release of the same `major.minor.patch`, as in npm.
//! * PyPI: PEP 440 specifiers (`>=1.0,<2`, `~=2.2`, `==1.1.*`, `!=1.4`), via `pep440_rs`.
//! * crates.io: Cargo requirements (`^1.2`, `~1.2.3`, `1.*`, `>=1, <2`; a bare `1.2.3` is
//!   `^1.2.3`), via the `semver` crate.
//! * Maven and NuGet: interval notation (`[1.0,2.0)`, `(,1.5]`, `[1.2]`, unions
//!   `[1,2),[3,4)`) as well as the comparator lists below.
//! * everything else (and Maven/NuGet without brackets): comparator lists —
//!   `OP VERSION` terms joined by `,` or blanks (AND) and `||` (OR), with `OP` one of
//!   `< <= > >= = == !=`; a bare version means `=`. RubyGems and Hex also accept `~> 1.2`
//!   (pessimistic: `>= 1.2, < 2.0`), and a lone `*` matches everything.
//!
//! Every version inside a range is parsed with the scheme, so a bad bound is an error naming it,
//! never a silently empty range. Does not evaluate OSV events (see `version::osv`).

use std::fmt;
use std::str::FromStr;

use super::npm_range::NpmRange;
use super::{Scheme, Version};

/// A range expression that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("`{expr}` is not a valid {scheme} version range: {reason}")]
#[diagnostic(
    code("tollgate::version::bad-range"),
    help(
        "fix the version range in the ignore rule (`.tollgate.yaml`) or policy parameter that contains it"
    )
)]
pub struct RangeError {
    /// The scheme the range was read with.
    pub scheme: Scheme,
    /// The expression as given.
    pub expr: String,
    /// What is wrong with it.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Op::Lt => ord == Less,
            Op::Le => ord != Greater,
            Op::Gt => ord == Greater,
            Op::Ge => ord != Less,
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
        }
    }
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    bound: Version,
}

#[derive(Debug, Clone)]
enum Kind {
    Npm(NpmRange),
    Pep440(pep440_rs::VersionSpecifiers),
    Cargo(semver::VersionReq),
    /// OR of ANDs.
    Alternatives(Vec<Vec<Comparator>>),
}

/// A parsed range under one scheme.
#[derive(Debug, Clone)]
pub struct Range {
    scheme: Scheme,
    expr: String,
    kind: Kind,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

impl Range {
    /// Parses `expr` with the range syntax of `scheme` (see the module docs).
    pub fn parse(scheme: Scheme, expr: &str) -> Result<Range, RangeError> {
        let err = |reason: String| RangeError {
            scheme,
            expr: expr.to_string(),
            reason,
        };
        let kind = match scheme {
            Scheme::Npm => Kind::Npm(NpmRange::parse(expr, false).map_err(err)?),
            Scheme::Pep440 => {
                if expr.trim().is_empty() {
                    return Err(err("empty specifier set".into()));
                }
                Kind::Pep440(
                    pep440_rs::VersionSpecifiers::from_str(expr).map_err(|e| err(e.to_string()))?,
                )
            }
            Scheme::Cargo => {
                Kind::Cargo(semver::VersionReq::parse(expr).map_err(|e| err(e.to_string()))?)
            }
            Scheme::Maven | Scheme::Nuget if expr.trim_start().starts_with(['[', '(']) => {
                Kind::Alternatives(parse_intervals(scheme, expr).map_err(err)?)
            }
            _ => Kind::Alternatives(parse_comparators(scheme, expr).map_err(err)?),
        };
        Ok(Range {
            scheme,
            expr: expr.to_string(),
            kind,
        })
    }

    /// The scheme the range was parsed with.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// True when `version` is in the range. A version of another scheme is re-read with this
    /// range's scheme; if that fails the version is not in the range.
    pub fn contains(&self, version: &Version) -> bool {
        let reparsed;
        let v = if version.scheme() == self.scheme {
            version
        } else {
            match Version::parse(self.scheme, version.as_str()) {
                Ok(p) => {
                    reparsed = p;
                    &reparsed
                }
                Err(_) => return false,
            }
        };
        match &self.kind {
            Kind::Npm(r) => v.semver().is_some_and(|sv| r.contains(sv, false)),
            Kind::Pep440(spec) => v.pep440().is_some_and(|pv| spec.contains(pv)),
            Kind::Cargo(req) => semver::Version::parse(v.as_str()).is_ok_and(|cv| req.matches(&cv)),
            Kind::Alternatives(alts) => alts
                .iter()
                .any(|all| all.iter().all(|c| c.op.holds(v.cmp(&c.bound)))),
        }
    }
}

/// Parses `range_expr` under `scheme` and tests `version` against it.
pub fn satisfies(scheme: Scheme, version: &Version, range_expr: &str) -> Result<bool, RangeError> {
    Ok(Range::parse(scheme, range_expr)?.contains(version))
}

fn parse_version(scheme: Scheme, s: &str) -> Result<Version, String> {
    Version::parse(scheme, s).map_err(|e| format!("bound `{s}`: {}", e.reason))
}

/// `~> X.Y.Z` → `>= X.Y.Z, < X.(Y+1)`; `~> X` → `>= X, < X+1`.
fn pessimistic(scheme: Scheme, s: &str) -> Result<Vec<Comparator>, String> {
    let mut lower_s = s.to_string();
    if scheme.is_semver_family() {
        // Elixir reads `~> 1.2` as `>= 1.2.0 and < 2.0.0`.
        while lower_s
            .split(['-', '+'])
            .next()
            .unwrap_or("")
            .matches('.')
            .count()
            < 2
        {
            lower_s.push_str(".0");
        }
    }
    let lower = parse_version(scheme, &lower_s)?;
    let release: Vec<&str> = s
        .split(['.', '-', '+'])
        .take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    if release.is_empty() {
        return Err(format!("`~> {s}` needs a numeric version"));
    }
    let keep = if release.len() > 1 {
        release.len() - 1
    } else {
        1
    };
    let mut upper: Vec<String> = release[..keep].iter().map(|p| (*p).to_string()).collect();
    let last = upper
        .last_mut()
        .ok_or_else(|| format!("`~> {s}` needs a numeric version"))?;
    let bumped = last
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_add(1))
        .ok_or_else(|| format!("`{last}` is too large"))?;
    *last = bumped.to_string();
    let mut upper_s = upper.join(".");
    if scheme.is_semver_family() {
        while upper_s.matches('.').count() < 2 {
            upper_s.push_str(".0");
        }
        // The lowest pre-release, so `< X.(Y+1).0-0` also excludes its pre-releases.
        upper_s.push_str("-0");
    }
    Ok(vec![
        Comparator {
            op: Op::Ge,
            bound: lower,
        },
        Comparator {
            op: Op::Lt,
            bound: parse_version(scheme, &upper_s)?,
        },
    ])
}

fn parse_comparators(scheme: Scheme, expr: &str) -> Result<Vec<Vec<Comparator>>, String> {
    if expr.trim().is_empty() {
        return Err("empty range".into());
    }
    let mut alternatives = Vec::new();
    for alt in expr.split("||") {
        let mut all = Vec::new();
        // Tokens: operators may be glued to the version (`>=1.0`) or separated (`>= 1.0`).
        let tokens: Vec<&str> = alt
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .collect();
        if tokens.is_empty() {
            return Err("empty alternative around `||`".into());
        }
        let mut i = 0;
        while i < tokens.len() {
            let tok = tokens[i];
            if tok == "*" {
                i += 1;
                continue;
            }
            let (op_text, rest) = split_op(tok);
            let version_text = if rest.is_empty() {
                i += 1;
                *tokens
                    .get(i)
                    .ok_or_else(|| format!("operator `{op_text}` has no version"))?
            } else {
                rest
            };
            i += 1;
            if op_text == "~>" {
                if !matches!(scheme, Scheme::Gem | Scheme::Hex) {
                    return Err(format!("`~>` is not {scheme} range syntax"));
                }
                all.extend(pessimistic(scheme, version_text)?);
                continue;
            }
            let op = match op_text {
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "" | "=" | "==" => Op::Eq,
                "!=" => Op::Ne,
                other => return Err(format!("unknown operator `{other}`")),
            };
            all.push(Comparator {
                op,
                bound: parse_version(scheme, version_text)?,
            });
        }
        alternatives.push(all);
    }
    Ok(alternatives)
}

fn split_op(tok: &str) -> (&str, &str) {
    for op in ["~>", "<=", ">=", "==", "!=", "<", ">", "="] {
        if let Some(rest) = tok.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("", tok)
}

/// Maven/NuGet interval notation: `[a,b]`, `[a,b)`, `(a,b]`, `(,b)`, `[a,)`, `[a]`, joined
/// by commas into a union.
fn parse_intervals(scheme: Scheme, expr: &str) -> Result<Vec<Vec<Comparator>>, String> {
    let mut out = Vec::new();
    let mut rest = expr.trim();
    while !rest.is_empty() {
        let open = rest.chars().next().ok_or("empty interval")?;
        if open != '[' && open != '(' {
            return Err(format!("expected `[` or `(` at `{rest}`"));
        }
        let close_at = rest
            .find([']', ')'])
            .ok_or_else(|| format!("unclosed interval `{rest}`"))?;
        let close = rest[close_at..].chars().next().ok_or("unclosed interval")?;
        let inner = &rest[1..close_at];
        let mut all = Vec::new();
        match inner.split_once(',') {
            None => {
                if open != '[' || close != ']' || inner.trim().is_empty() {
                    return Err(format!(
                        "`{open}{inner}{close}`: an exact version needs `[v]`"
                    ));
                }
                all.push(Comparator {
                    op: Op::Eq,
                    bound: parse_version(scheme, inner.trim())?,
                });
            }
            Some((lo, hi)) => {
                let (lo, hi) = (lo.trim(), hi.trim());
                if !lo.is_empty() {
                    all.push(Comparator {
                        op: if open == '[' { Op::Ge } else { Op::Gt },
                        bound: parse_version(scheme, lo)?,
                    });
                }
                if !hi.is_empty() {
                    all.push(Comparator {
                        op: if close == ']' { Op::Le } else { Op::Lt },
                        bound: parse_version(scheme, hi)?,
                    });
                }
                if lo.is_empty() && hi.is_empty() {
                    return Err("an interval needs at least one bound".into());
                }
            }
        }
        out.push(all);
        rest = rest[close_at + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
            if rest.is_empty() {
                return Err("trailing `,` after interval".into());
            }
        } else if !rest.is_empty() {
            return Err(format!("expected `,` between intervals at `{rest}`"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sat(scheme: Scheme, v: &str, r: &str) -> bool {
        let v = Version::parse(scheme, v).unwrap_or_else(|e| panic!("{e}"));
        satisfies(scheme, &v, r).unwrap_or_else(|e| panic!("{e}"))
    }

    /// node-semver test/fixtures/range-include.js: every row without `loose` (those use
    /// node-semver's non-standard loose grammar); `true` = `includePrerelease`.
    const RANGE_INCLUDE: &[(&str, &str, bool)] = &[
        ("1.0.0 - 2.0.0", "1.2.3", false),
        ("^1.2.3+build", "1.2.3", false),
        ("^1.2.3+build", "1.3.0", false),
        ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3", false),
        ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2", false),
        ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha", false),
        ("1.2.3+asdf - 2.4.3+asdf", "1.2.3", false),
        ("1.0.0", "1.0.0", false),
        (">=*", "0.2.4", false),
        ("", "1.0.0", false),
        ("*", "1.2.3", false),
        (">=1.0.0", "1.0.0", false),
        (">=1.0.0", "1.0.1", false),
        (">=1.0.0", "1.1.0", false),
        (">1.0.0", "1.0.1", false),
        (">1.0.0", "1.1.0", false),
        ("<=2.0.0", "2.0.0", false),
        ("<=2.0.0", "1.9999.9999", false),
        ("<=2.0.0", "0.2.9", false),
        ("<2.0.0", "1.9999.9999", false),
        ("<2.0.0", "0.2.9", false),
        (">= 1.0.0", "1.0.0", false),
        (">=  1.0.0", "1.0.1", false),
        (">=   1.0.0", "1.1.0", false),
        ("> 1.0.0", "1.0.1", false),
        (">  1.0.0", "1.1.0", false),
        ("<=   2.0.0", "2.0.0", false),
        ("<= 2.0.0", "1.9999.9999", false),
        ("<=  2.0.0", "0.2.9", false),
        ("<    2.0.0", "1.9999.9999", false),
        ("<\t2.0.0", "0.2.9", false),
        (">=0.1.97", "0.1.97", false),
        ("0.1.20 || 1.2.4", "1.2.4", false),
        (">=0.2.3 || <0.0.1", "0.0.0", false),
        (">=0.2.3 || <0.0.1", "0.2.3", false),
        (">=0.2.3 || <0.0.1", "0.2.4", false),
        ("||", "1.3.4", false),
        ("2.x.x", "2.1.3", false),
        ("1.2.x", "1.2.3", false),
        ("1.2.x || 2.x", "2.1.3", false),
        ("1.2.x || 2.x", "1.2.3", false),
        ("x", "1.2.3", false),
        ("2.*.*", "2.1.3", false),
        ("1.2.*", "1.2.3", false),
        ("1.2.* || 2.*", "2.1.3", false),
        ("1.2.* || 2.*", "1.2.3", false),
        ("*", "1.2.3", false),
        ("2", "2.1.2", false),
        ("2.3", "2.3.1", false),
        ("~0.0.1", "0.0.1", false),
        ("~0.0.1", "0.0.2", false),
        ("~x", "0.0.9", false),
        ("~2", "2.0.9", false),
        ("~2.4", "2.4.0", false),
        ("~2.4", "2.4.5", false),
        ("~>3.2.1", "3.2.2", false),
        ("~1", "1.2.3", false),
        ("~>1", "1.2.3", false),
        ("~> 1", "1.2.3", false),
        ("~1.0", "1.0.2", false),
        ("~ 1.0", "1.0.2", false),
        ("~ 1.0.3", "1.0.12", false),
        (">=1", "1.0.0", false),
        (">= 1", "1.0.0", false),
        ("<1.2", "1.1.1", false),
        ("< 1.2", "1.1.1", false),
        ("~v0.5.4-pre", "0.5.5", false),
        ("~v0.5.4-pre", "0.5.4", false),
        ("=0.7.x", "0.7.2", false),
        ("<=0.7.x", "0.7.2", false),
        (">=0.7.x", "0.7.2", false),
        ("<=0.7.x", "0.6.2", false),
        ("~1.2.1 >=1.2.3", "1.2.3", false),
        ("~1.2.1 =1.2.3", "1.2.3", false),
        ("~1.2.1 1.2.3", "1.2.3", false),
        ("~1.2.1 >=1.2.3 1.2.3", "1.2.3", false),
        ("~1.2.1 1.2.3 >=1.2.3", "1.2.3", false),
        (">=1.2.1 1.2.3", "1.2.3", false),
        ("1.2.3 >=1.2.1", "1.2.3", false),
        (">=1.2.3 >=1.2.1", "1.2.3", false),
        (">=1.2.1 >=1.2.3", "1.2.3", false),
        (">=1.2", "1.2.8", false),
        ("^1.2.3", "1.8.1", false),
        ("^0.1.2", "0.1.2", false),
        ("^0.1", "0.1.2", false),
        ("^0.0.1", "0.0.1", false),
        ("^1.2", "1.4.2", false),
        ("^1.2 ^1", "1.4.2", false),
        ("^1.2.3-alpha", "1.2.3-pre", false),
        ("^1.2.0-alpha", "1.2.0-pre", false),
        ("^0.0.1-alpha", "0.0.1-beta", false),
        ("^0.0.1-alpha", "0.0.1", false),
        ("^0.1.1-alpha", "0.1.1-beta", false),
        ("^x", "1.2.3", false),
        ("x - 1.0.0", "0.9.7", false),
        ("x - 1.x", "0.9.7", false),
        ("1.0.0 - x", "1.9.7", false),
        ("1.x - x", "1.9.7", false),
        ("<=7.x", "7.9.9", false),
        ("2.x", "2.0.0-pre.0", true),
        ("2.x", "2.1.0-pre.0", true),
        ("1.1.x", "1.1.0-a", true),
        ("1.1.x", "1.1.1-a", true),
        ("~1.1", "1.1.0-a", true),
        ("~1.1.x", "1.1.0-a", true),
        ("~1.1", "1.1.1-a", true),
        ("~2", "2.0.0-pre.0", true),
        ("~2.x", "2.0.0-pre.0", true),
        ("*", "1.0.0-rc1", true),
        ("^1.0.0-0", "1.0.1-rc1", true),
        ("^1.0.0-rc2", "1.0.1-rc1", true),
        ("^1.0.0", "1.0.1-rc1", true),
        ("^1.0.0", "1.1.0-rc1", true),
        ("1 - 2", "2.0.0-pre", true),
        ("1 - 2", "1.0.0-pre", true),
        ("1.0 - 2", "1.0.0-pre", true),
        ("=0.7.x", "0.7.0-asdf", true),
        (">=0.7.x", "0.7.0-asdf", true),
        ("<=0.7.x", "0.7.0-asdf", true),
        (">=1.0.0 <=1.1.0", "1.1.0-pre", true),
    ];

    /// node-semver test/fixtures/range-exclude.js: every row without `loose` (those use
    /// node-semver's non-standard loose grammar); `true` = `includePrerelease`.
    const RANGE_EXCLUDE: &[(&str, &str, bool)] = &[
        ("1.0.0 - 2.0.0", "2.2.3", false),
        ("1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2", false),
        ("1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha", false),
        ("^1.2.3+build", "2.0.0", false),
        ("^1.2.3+build", "1.2.0", false),
        ("^1.2.3", "1.2.3-pre", false),
        ("^1.2", "1.2.0-pre", false),
        (">1.2", "1.3.0-beta", false),
        ("<=1.2.3", "1.2.3-beta", false),
        ("^1.2.3", "1.2.3-beta", false),
        ("=0.7.x", "0.7.0-asdf", false),
        (">=0.7.x", "0.7.0-asdf", false),
        ("<=0.7.x", "0.7.0-asdf", false),
        ("1.0.0", "1.0.1", false),
        (">=1.0.0", "0.0.0", false),
        (">=1.0.0", "0.0.1", false),
        (">=1.0.0", "0.1.0", false),
        (">1.0.0", "0.0.1", false),
        (">1.0.0", "0.1.0", false),
        ("<=2.0.0", "3.0.0", false),
        ("<=2.0.0", "2.9999.9999", false),
        ("<=2.0.0", "2.2.9", false),
        ("<2.0.0", "2.9999.9999", false),
        ("<2.0.0", "2.2.9", false),
        (">=0.1.97", "0.1.93", false),
        ("0.1.20 || 1.2.4", "1.2.3", false),
        (">=0.2.3 || <0.0.1", "0.0.3", false),
        (">=0.2.3 || <0.0.1", "0.2.2", false),
        ("2.x.x", "1.1.3", false),
        ("2.x.x", "3.1.3", false),
        ("1.2.x", "1.3.3", false),
        ("1.2.x || 2.x", "3.1.3", false),
        ("1.2.x || 2.x", "1.1.3", false),
        ("2.*.*", "1.1.3", false),
        ("2.*.*", "3.1.3", false),
        ("1.2.*", "1.3.3", false),
        ("1.2.* || 2.*", "3.1.3", false),
        ("1.2.* || 2.*", "1.1.3", false),
        ("2", "1.1.2", false),
        ("2.3", "2.4.1", false),
        ("~0.0.1", "0.1.0-alpha", false),
        ("~0.0.1", "0.1.0", false),
        ("~2.4", "2.5.0", false),
        ("~2.4", "2.3.9", false),
        ("~>3.2.1", "3.3.2", false),
        ("~>3.2.1", "3.2.0", false),
        ("~1", "0.2.3", false),
        ("~>1", "2.2.3", false),
        ("~1.0", "1.1.0", false),
        ("<1", "1.0.0", false),
        (">=1.2", "1.1.1", false),
        ("~v0.5.4-beta", "0.5.4-alpha", false),
        ("=0.7.x", "0.8.2", false),
        (">=0.7.x", "0.6.2", false),
        ("<0.7.x", "0.7.2", false),
        ("<1.2.3", "1.2.3-beta", false),
        ("=1.2.3", "1.2.3-beta", false),
        (">1.2", "1.2.8", false),
        ("^0.0.1", "0.0.2-alpha", false),
        ("^0.0.1", "0.0.2", false),
        ("^1.2.3", "2.0.0-alpha", false),
        ("^1.2.3", "1.2.2", false),
        ("^1.2", "1.1.9", false),
        ("*", "not a version", false),
        (">=2", "glorp", false),
        ("2.x", "3.0.0-pre.0", true),
        ("^0.0.3", "0.0.3-alpha", true),
        ("^0.2.3", "0.2.3-alpha", true),
        ("^1.0.0", "1.0.0-rc1", true),
        ("^1.0.0", "2.0.0-rc1", true),
        ("^1.2.3-rc2", "2.0.0", true),
        ("^1.0.0", "2.0.0-rc1", false),
        ("1 - 2", "3.0.0-pre", true),
        ("1 - 2", "2.0.0-pre", false),
        ("1 - 2", "1.0.0-pre", false),
        ("1.0 - 2", "1.0.0-pre", false),
        ("1.1.x", "1.0.0-a", false),
        ("1.1.x", "1.1.0-a", false),
        ("1.1.x", "1.2.0-a", false),
        ("1.1.x", "1.2.0-a", true),
        ("1.1.x", "1.0.0-a", true),
        ("1.x", "1.0.0-a", false),
        ("1.x", "1.1.0-a", false),
        ("1.x", "1.2.0-a", false),
        ("1.x", "0.0.0-a", true),
        ("1.x", "2.0.0-a", true),
        (">=1.0.0 <1.1.0", "1.1.0", false),
        (">=1.0.0 <1.1.0", "1.1.0", true),
        (">=1.0.0 <1.1.0", "1.1.0-pre", false),
        (">=1.0.0 <1.1.0-pre", "1.1.0-pre", false),
    ];

    #[test]
    fn node_semver_range_fixtures() {
        for (range, version, include_pre) in RANGE_INCLUDE {
            let r =
                NpmRange::parse(range, *include_pre).unwrap_or_else(|e| panic!("{range:?}: {e}"));
            let v = Version::parse(Scheme::Npm, version).unwrap_or_else(|e| panic!("{e}"));
            let sv = v.semver().unwrap();
            assert!(r.contains(sv, *include_pre), "{range:?} includes {version}");
            if !include_pre {
                assert!(
                    sat(Scheme::Npm, version, range),
                    "{range:?} includes {version}"
                );
            }
        }
        for (range, version, include_pre) in RANGE_EXCLUDE {
            // An invalid range or version never matches, as in node-semver.
            let (Ok(r), Ok(v)) = (
                NpmRange::parse(range, *include_pre),
                Version::parse(Scheme::Npm, version),
            ) else {
                continue;
            };
            assert!(
                !r.contains(v.semver().unwrap(), *include_pre),
                "{range:?} excludes {version}"
            );
        }
    }

    /// node-semver test/fixtures/invalid-ranges style inputs: errors, not empty ranges.
    #[test]
    fn npm_invalid_ranges() {
        for bad in [
            ">=",
            "blerg",
            "1.2.3.4",
            ">=01.0.0",
            "1.2.3 - ",
            "^1.2.3-",
            ">= 1.0.0 <",
        ] {
            assert!(Range::parse(Scheme::Npm, bad).is_err(), "{bad:?}");
        }
        // Real advisory-style range.
        assert!(sat(Scheme::Npm, "4.17.15", "<4.17.21"));
        assert!(!sat(Scheme::Npm, "4.17.21", ">=4.0.0 <4.17.21"));
    }

    /// PEP 440 "Version specifiers" examples.
    #[test]
    fn pep440_specifiers() {
        let p = Scheme::Pep440;
        for (v, spec, want) in [
            ("2.2", "~=2.2", true),
            ("2.9", "~=2.2", true),
            ("3.0", "~=2.2", false),
            ("1.4.9", "~=1.4.5", true),
            ("1.5.0", "~=1.4.5", false),
            ("1.4.4", "~=1.4.5", false),
            ("1.1.post1", "==1.1.*", true),
            ("1.1.0", "==1.1", true),
            ("1.1.0+local", "==1.1", true),
            ("1.2", "==1.1.*", false),
            ("1.1a1", "!=1.1.*", false),
            ("1.7.1", ">1.7", true),
            ("1.7.0.post1", ">1.7", false),
            ("1.7", ">1.7", false),
            ("3.1.dev0", "<3.1", false),
            ("3.0", "<3.1", true),
            ("1.5", ">=1.0,<2", true),
            ("2.0", ">=1.0,<2", false),
            ("0.9", ">=1.0, <2", false),
            ("5.3", "<5.4", true),
            ("5.4", "<5.4", false),
        ] {
            assert_eq!(sat(p, v, spec), want, "{v} in {spec}");
        }
        assert!(Range::parse(p, ">=1.0,<").is_err());
        assert!(Range::parse(p, "").is_err());
    }

    /// semver crate / Cargo reference "Specifying dependencies" examples.
    #[test]
    fn cargo_requirements() {
        let c = Scheme::Cargo;
        for (v, req, want) in [
            ("1.2.3", "1.2.3", true),
            ("1.9.0", "1.2.3", true),
            ("2.0.0", "1.2.3", false),
            ("1.2.3", "^1.2.3", true),
            ("0.2.5", "^0.2.3", true),
            ("0.3.0", "^0.2.3", false),
            ("0.0.4", "^0.0.3", false),
            ("1.2.9", "~1.2.3", true),
            ("1.3.0", "~1.2.3", false),
            ("1.7.0", "1.*", true),
            ("1.4.0", ">= 1.2, < 1.5", true),
            ("1.5.0", ">= 1.2, < 1.5", false),
            ("1.2.4-alpha", ">=1.2.0", false),
            ("1.2.4-alpha", ">=1.2.4-0", true),
            ("1.2.3", "=1.2.3", true),
        ] {
            assert_eq!(sat(c, v, req), want, "{v} in {req}");
        }
        assert!(Range::parse(c, "^^1").is_err());
    }

    #[test]
    fn comparator_lists_for_other_schemes() {
        assert!(sat(Scheme::Deb, "1.2-3", ">=1.0, <1:0"));
        assert!(!sat(Scheme::Deb, "1:1.2-3", ">=1.0 <1:0"));
        assert!(sat(Scheme::Deb, "2.0~rc1", "< 2.0"));
        assert!(sat(Scheme::Apk, "1.2.3-r1", ">1.2.3 || =0.9"));
        assert!(sat(Scheme::Apk, "0.9", ">1.2.3 || =0.9"));
        assert!(!sat(Scheme::Apk, "1.0", ">1.2.3 || =0.9"));
        assert!(sat(Scheme::Rpm, "1:2.0-1.el9", "!= 1:2.0-2.el9"));
        assert!(sat(Scheme::Go, "v1.21.8", "<1.21.9"));
        assert!(sat(Scheme::Composer, "5.4.9", ">=5.0,<5.4.10"));
        assert!(sat(Scheme::Deb, "9.9", "*"));
        for bad in [
            "",
            ">=",
            "|| 1.0",
            ">= 1.0 ||",
            "=> 1.0",
            ">=1.0 <not-a-version",
        ] {
            assert!(Range::parse(Scheme::Deb, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pessimistic_operator() {
        assert!(sat(Scheme::Gem, "1.2.9", "~> 1.2.3"));
        assert!(!sat(Scheme::Gem, "1.3.0", "~> 1.2.3"));
        assert!(sat(Scheme::Gem, "1.9", "~> 1.2"));
        assert!(!sat(Scheme::Gem, "2.0", "~> 1.2"));
        assert!(sat(Scheme::Gem, "1.5", "~> 1"));
        assert!(sat(Scheme::Hex, "1.4.0", "~> 1.2"));
        assert!(!sat(Scheme::Hex, "2.0.0-rc.1", "~> 1.2"));
        assert!(Range::parse(Scheme::Deb, "~> 1.0").is_err());
    }

    #[test]
    fn maven_and_nuget_intervals() {
        let m = Scheme::Maven;
        assert!(sat(m, "1.5", "[1.0,2.0)"));
        assert!(!sat(m, "2.0", "[1.0,2.0)"));
        assert!(sat(m, "1.0", "[1.0,2.0)"));
        assert!(!sat(m, "1.0", "(1.0,2.0)"));
        assert!(sat(m, "1.5", "(,1.5]"));
        assert!(sat(m, "3.1", "[1,2),[3,4)"));
        assert!(!sat(m, "2.5", "[1,2),[3,4)"));
        assert!(sat(m, "1.2", "[1.2]"));
        assert!(sat(m, "2.14.1", "[2.0-beta9,2.15.0)"));
        assert!(sat(Scheme::Nuget, "13.0.1", "[13.0.1,)"));
        for bad in ["[1.0,2.0", "(1.0)", "[,]", "[1,2),", "[1,2) [3,4)"] {
            assert!(Range::parse(m, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn version_of_another_scheme_is_reread() {
        let v = Version::parse(Scheme::Semver, "1.2.3").unwrap();
        assert!(Range::parse(Scheme::Npm, "^1.0.0").unwrap().contains(&v));
        let junk = Version::parse(Scheme::Maven, "not-semver").unwrap();
        assert!(!Range::parse(Scheme::Npm, "*").unwrap().contains(&junk));
        let e = satisfies(Scheme::Npm, &v, ">=x.y.z.w").unwrap_err();
        assert_eq!(e.expr, ">=x.y.z.w");
    }
}
