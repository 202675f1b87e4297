//! npm range expressions, desugared and evaluated the way node-semver does.
//!
//! `range := set ('||' set)*`; a set is a hyphen range (`1.2 - 2.3.4`) or blank-separated
//! comparators, each one of: `OP? partial` (`>=1.2`, `<2`, `=1.x`), `~partial` / `~>partial`,
//! `^partial`, or `*`/`x`/empty (any). Partial versions may use `x`, `X` or `*` for missing
//! parts. Tildes, carets, x-ranges and hyphens expand into plain `>=`/`<`/`<=` comparators with
//! exactly node-semver's rules (`replaceTilde`, `replaceCaret`, `replaceXRange`,
//! `hyphenReplace`), including the `-0` lower bounds when pre-releases are included.
//!
//! A pre-release version only satisfies a set when some comparator of the set names a
//! pre-release of the same `major.minor.patch` (node-semver `testSet`), unless pre-releases are
//! included explicitly. This module exists because the `nodejs-semver` crate rejects `~x`, `^x`
//! and `1.0.0 - x` and mishandles x-ranges with pre-releases, which node-semver's own fixtures
//! cover. Only node-semver's strict (non-`loose`) grammar is accepted.

use std::cmp::Ordering;

use super::Scheme;
use super::semver::SemVer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    version: SemVer,
}

impl Comparator {
    fn test(&self, v: &SemVer) -> bool {
        let ord = v.cmp(&self.version);
        match self.op {
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Eq => ord == Ordering::Equal,
        }
    }
}

/// A parsed npm range: OR of comparator sets; an empty set matches every version.
#[derive(Debug, Clone)]
pub(crate) struct NpmRange {
    sets: Vec<Vec<Comparator>>,
}

/// A partial version `M[.m[.p[-pre][+build]]]`, `None` for an x part.
#[derive(Debug, Clone)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    /// Pre-release text (without `-`), empty when none.
    pre: String,
}

fn is_x(s: &str) -> bool {
    s == "x" || s == "X" || s == "*"
}

fn parse_partial(text: &str) -> Result<Partial, String> {
    let s = text.trim_start_matches(['v', '=']);
    if s.is_empty() {
        return Err(format!("`{text}` is not a version"));
    }
    let (rest, _build) = s.split_once('+').unwrap_or((s, ""));
    let (core, pre) = match rest.split_once('-') {
        Some((_, "")) => return Err(format!("`{text}` has an empty pre-release")),
        Some((c, p)) => (c, p),
        None => (rest, ""),
    };
    if !pre.is_empty() {
        // Validate the pre-release identifiers with the version grammar.
        sv(&format!("0.0.0-{pre}")).map_err(|e| format!("`{text}`: {e}"))?;
    }
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 {
        return Err(format!("`{text}` has more than three numeric parts"));
    }
    let mut nums = [None, None, None];
    let mut seen_x = false;
    for (slot, p) in nums.iter_mut().zip(&parts) {
        if is_x(p) {
            seen_x = true;
            continue;
        }
        if seen_x {
            // node-semver's `invalidXRangeOrder`: a number after an x (`1.x.3`, `x.2`).
            return Err(format!("`{text}`: a number cannot follow an x"));
        }
        if p.is_empty()
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return Err(format!("`{p}` in `{text}` is not a version number"));
        }
        *slot = Some(
            p.parse::<u64>()
                .map_err(|_| format!("`{p}` is too large"))?,
        );
    }
    if !pre.is_empty() && (parts.len() < 3 || nums[2].is_none()) {
        return Err(format!("`{text}`: a pre-release needs a full version"));
    }
    Ok(Partial {
        major: nums[0],
        minor: nums[1],
        patch: nums[2],
        pre: pre.to_string(),
    })
}

fn sv(text: &str) -> Result<SemVer, String> {
    SemVer::parse(Scheme::Npm, text)
}

fn cmp(op: Op, text: &str) -> Result<Comparator, String> {
    Ok(Comparator {
        op,
        version: sv(text)?,
    })
}

fn with_pre(base: String, pre: &str) -> String {
    if pre.is_empty() {
        base
    } else {
        format!("{base}-{pre}")
    }
}

/// node-semver `replaceTilde`.
fn tilde(p: &Partial, include_pre: bool) -> Result<Vec<Comparator>, String> {
    let z = if include_pre { "-0" } else { "" };
    let Some(ma) = p.major else {
        return Ok(Vec::new());
    };
    let Some(mi) = p.minor else {
        return Ok(vec![
            cmp(Op::Ge, &format!("{ma}.0.0{z}"))?,
            cmp(Op::Lt, &format!("{}.0.0-0", ma + 1))?,
        ]);
    };
    let lower = match p.patch {
        None => format!("{ma}.{mi}.0{z}"),
        Some(pa) => with_pre(format!("{ma}.{mi}.{pa}"), &p.pre),
    };
    Ok(vec![
        cmp(Op::Ge, &lower)?,
        cmp(Op::Lt, &format!("{ma}.{}.0-0", mi + 1))?,
    ])
}

/// node-semver `replaceCaret`.
fn caret(p: &Partial, include_pre: bool) -> Result<Vec<Comparator>, String> {
    let z = if include_pre { "-0" } else { "" };
    let Some(ma) = p.major else {
        return Ok(Vec::new());
    };
    let Some(mi) = p.minor else {
        return Ok(vec![
            cmp(Op::Ge, &format!("{ma}.0.0{z}"))?,
            cmp(Op::Lt, &format!("{}.0.0-0", ma + 1))?,
        ]);
    };
    let Some(pa) = p.patch else {
        let upper = if ma == 0 {
            format!("0.{}.0-0", mi + 1)
        } else {
            format!("{}.0.0-0", ma + 1)
        };
        return Ok(vec![
            cmp(Op::Ge, &format!("{ma}.{mi}.0{z}"))?,
            cmp(Op::Lt, &upper)?,
        ]);
    };
    let lower = if p.pre.is_empty() {
        format!("{ma}.{mi}.{pa}")
    } else {
        format!("{ma}.{mi}.{pa}-{}", p.pre)
    };
    let upper = if ma == 0 && mi == 0 {
        format!("0.0.{}-0", pa + 1)
    } else if ma == 0 {
        format!("0.{}.0-0", mi + 1)
    } else {
        format!("{}.0.0-0", ma + 1)
    };
    Ok(vec![cmp(Op::Ge, &lower)?, cmp(Op::Lt, &upper)?])
}

/// node-semver `replaceXRange` plus the plain comparator case.
fn xrange(op_text: &str, p: &Partial, include_pre: bool) -> Result<Vec<Comparator>, String> {
    let any_x = p.patch.is_none();
    let pr = if include_pre { "-0" } else { "" };
    let mut op_text = op_text;
    if op_text == "=" && any_x {
        op_text = "";
    }
    let Some(ma) = p.major else {
        return Ok(if op_text == ">" || op_text == "<" {
            vec![cmp(Op::Lt, "0.0.0-0")?]
        } else {
            Vec::new()
        });
    };
    if !op_text.is_empty() && any_x {
        let (mut ma, mut mi, mut pa) = (ma, p.minor.unwrap_or(0), 0);
        let xm = p.minor.is_none();
        let mut op = op_text;
        if op == ">" {
            op = ">=";
            if xm {
                ma += 1;
                mi = 0;
                pa = 0;
            } else {
                mi += 1;
                pa = 0;
            }
        } else if op == "<=" {
            op = "<";
            if xm {
                ma += 1;
            } else {
                mi += 1;
            }
        }
        let pr = if op == "<" { "-0" } else { pr };
        let op = parse_op(op)?;
        return Ok(vec![cmp(op, &format!("{ma}.{mi}.{pa}{pr}"))?]);
    }
    match (p.minor, p.patch) {
        (None, _) => Ok(vec![
            cmp(Op::Ge, &format!("{ma}.0.0{pr}"))?,
            cmp(Op::Lt, &format!("{}.0.0-0", ma + 1))?,
        ]),
        (Some(mi), None) => Ok(vec![
            cmp(Op::Ge, &format!("{ma}.{mi}.0{pr}"))?,
            cmp(Op::Lt, &format!("{ma}.{}.0-0", mi + 1))?,
        ]),
        (Some(mi), Some(pa)) => {
            let op = parse_op(op_text)?;
            Ok(vec![cmp(op, &with_pre(format!("{ma}.{mi}.{pa}"), &p.pre))?])
        }
    }
}

fn parse_op(op: &str) -> Result<Op, String> {
    Ok(match op {
        "" | "=" => Op::Eq,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        other => return Err(format!("unknown operator `{other}`")),
    })
}

/// node-semver `hyphenReplace`.
fn hyphen(from: &Partial, to: &Partial, include_pre: bool) -> Result<Vec<Comparator>, String> {
    let z = if include_pre { "-0" } else { "" };
    let mut out = Vec::new();
    if let Some(ma) = from.major {
        let lower = match (from.minor, from.patch) {
            (None, _) => format!("{ma}.0.0{z}"),
            (Some(mi), None) => format!("{ma}.{mi}.0{z}"),
            (Some(mi), Some(pa)) if !from.pre.is_empty() => format!("{ma}.{mi}.{pa}-{}", from.pre),
            (Some(mi), Some(pa)) => format!("{ma}.{mi}.{pa}{z}"),
        };
        out.push(cmp(Op::Ge, &lower)?);
    }
    if let Some(ma) = to.major {
        out.push(match (to.minor, to.patch) {
            (None, _) => cmp(Op::Lt, &format!("{}.0.0-0", ma + 1))?,
            (Some(mi), None) => cmp(Op::Lt, &format!("{ma}.{}.0-0", mi + 1))?,
            (Some(mi), Some(pa)) if !to.pre.is_empty() => {
                cmp(Op::Le, &format!("{ma}.{mi}.{pa}-{}", to.pre))?
            }
            (Some(mi), Some(pa)) if include_pre => cmp(Op::Lt, &format!("{ma}.{mi}.{}-0", pa + 1))?,
            (Some(mi), Some(pa)) => cmp(Op::Le, &format!("{ma}.{mi}.{pa}"))?,
        });
    }
    Ok(out)
}

/// Splits a leading operator off a comparator token.
fn split_op(tok: &str) -> (&str, &str) {
    for op in ["~>", ">=", "<=", "~", "^", ">", "<", "="] {
        if let Some(rest) = tok.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("", tok)
}

fn parse_set(set: &str, include_pre: bool) -> Result<Vec<Comparator>, String> {
    let set = set.trim();
    // Hyphen range: exactly `A - B` with blanks around the dash.
    let words: Vec<&str> = set.split_whitespace().collect();
    if words.len() == 3 && words[1] == "-" {
        return hyphen(
            &parse_partial(words[0])?,
            &parse_partial(words[2])?,
            include_pre,
        );
    }
    // Glue operators to the version that follows them (`>= 1.2` → `>=1.2`).
    let mut tokens: Vec<String> = Vec::new();
    let mut pending = String::new();
    for w in words {
        let (op, rest) = split_op(w);
        if rest.is_empty() && !op.is_empty() {
            pending.push_str(op);
            continue;
        }
        tokens.push(format!("{pending}{w}"));
        pending.clear();
    }
    if !pending.is_empty() {
        return Err(format!("operator `{pending}` has no version"));
    }
    let mut out = Vec::new();
    for tok in tokens {
        let (op, rest) = split_op(&tok);
        let rest = rest.trim_start_matches(['=', 'v']);
        if rest.is_empty() || rest == "*" && matches!(op, "" | "=" | ">=" | "<=" | ">" | "<") {
            if rest.is_empty() && !op.is_empty() {
                return Err(format!("operator `{op}` has no version"));
            }
            // `*`, `>=*`: any version (node-semver `replaceStars`); `<*`/`>*` match nothing.
            if op == "<" || op == ">" {
                out.push(cmp(Op::Lt, "0.0.0-0")?);
            }
            continue;
        }
        let p = parse_partial(rest)?;
        out.extend(match op {
            "~" | "~>" => tilde(&p, include_pre)?,
            "^" => caret(&p, include_pre)?,
            _ => xrange(op, &p, include_pre)?,
        });
    }
    // node-semver `replaceGTE0`: `>=0.0.0` (`>=0.0.0-0` with pre-releases) is "any".
    let floor = if include_pre { "0.0.0-0" } else { "0.0.0" };
    let floor = sv(floor)?;
    out.retain(|c| {
        !(c.op == Op::Ge
            && c.version == floor
            && c.version.is_prerelease() == floor.is_prerelease())
    });
    Ok(out)
}

impl NpmRange {
    pub(crate) fn parse(expr: &str, include_pre: bool) -> Result<NpmRange, String> {
        if expr.len() > 256 {
            return Err("longer than npm's 256-character limit".into());
        }
        let sets = expr
            .split("||")
            .map(|s| parse_set(s, include_pre))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NpmRange { sets })
    }

    /// node-semver `Range.test` (with `testSet`'s pre-release rule unless `include_pre`).
    pub(crate) fn contains(&self, v: &SemVer, include_pre: bool) -> bool {
        self.sets.iter().any(|set| {
            if !set.iter().all(|c| c.test(v)) {
                return false;
            }
            if v.is_prerelease() && !include_pre {
                return set.iter().any(|c| {
                    c.version.is_prerelease()
                        && (c.version.major, c.version.minor, c.version.patch)
                            == (v.major, v.minor, v.patch)
                });
            }
            true
        })
    }
}
