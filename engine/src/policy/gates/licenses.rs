//! Gate `licenses`: installed packages whose license tokens are denylisted (exact or substring).
//!
//! Reads `Inventory.packages[].licenses`; each declared expression is split on whitespace into
//! tokens, as Anchore does (`GPL-2 LGPL-2.1+` → two). A package without license reads `N/A`.

use super::{Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec};

/// The `licenses` gate.
pub(crate) struct Licenses;

static LICENSES: &[ParamSpec] =
    &[ParamSpec::new("licenses", ParamKind::CommaList, true).doc("license names (comma list)")];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "blacklist_exact_match",
        aliases: &["denylist_exact_match"],
        description: "Fires once if any package has a license token equal to a listed name.",
        params: LICENSES,
        eval: exact,
    },
    TriggerSpec {
        name: "blacklist_partial_match",
        aliases: &["denylist_partial_match"],
        description: "Fires once if any package has a license token containing a listed string.",
        params: LICENSES,
        eval: partial,
    },
];

fn matches(input: &GateInput<'_>, p: &RuleParams<'_>, exact: bool) -> Vec<String> {
    let wanted = p.list("licenses");
    let mut hits = Vec::new();
    for pkg in &input.inventory.packages {
        let mut tokens: Vec<&str> = pkg
            .licenses
            .iter()
            .flat_map(|l| l.split_whitespace())
            .collect();
        if tokens.is_empty() {
            tokens.push("N/A");
        }
        for tok in tokens {
            let hit = wanted.iter().any(|w| {
                if exact {
                    tok == w
                } else {
                    tok.contains(w.as_str())
                }
            });
            if hit {
                hits.push(format!("{}({})", pkg.name, tok));
            }
        }
    }
    hits
}

fn exact(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let hits = matches(input, p, true);
    if !hits.is_empty() {
        out.push(Fired::msg(format!(
            "LICFULLMATCH Packages are installed that have blacklisted licenses: {}",
            hits.join(", ")
        )));
    }
}

fn partial(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let hits = matches(input, p, false);
    if !hits.is_empty() {
        out.push(Fired::msg(format!(
            "LICSUBMATCH Packages are installed that have blacklisted licenses: {}",
            hits.join(", ")
        )));
    }
}

impl Gate for Licenses {
    fn name(&self) -> &'static str {
        "licenses"
    }
    fn description(&self) -> &'static str {
        "License checks against all installed packages."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
