//! Gate `distro` (Anchore Enterprise): deny images by distro name and version.
//!
//! Reads `Inventory.distro`. Versions compare with a digit-aware order (`3.10 > 3.9`).

use std::cmp::Ordering;

use super::{Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec};
use crate::catalog::PackageType;

/// The `distro` gate.
pub(crate) struct DistroGate;

static PARAMS: &[ParamSpec] = &[
    ParamSpec::new("distro", ParamKind::Str, true).doc("distro id (debian, alpine, rhel, …)"),
    ParamSpec::new("version", ParamKind::Str, false)
        .doc("version to compare with (any version when absent)"),
    ParamSpec::new(
        "check",
        ParamKind::Enum(&["=", "!=", "<", ">", "<=", ">="]),
        false,
    )
    .default("=")
    .doc("version comparison"),
];

static TRIGGERS: &[TriggerSpec] = &[TriggerSpec {
    name: "deny",
    aliases: &[],
    description: "Fires once if the image distro is the named one and its version satisfies the check.",
    params: PARAMS,
    eval: deny,
}];

fn deny(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(d) = &input.inventory.distro else {
        return;
    };
    let Some(name) = p.get("distro") else { return };
    if !d.id.eq_ignore_ascii_case(name.trim()) {
        return;
    }
    let check = p.get("check").unwrap_or("=");
    if let Some(v) = p.get_nonempty("version") {
        let o = super::packages::compare_versions(PackageType::Unknown, &d.version_id, v);
        let holds = match check {
            "=" => o == Ordering::Equal,
            "!=" => o != Ordering::Equal,
            "<" => o == Ordering::Less,
            ">" => o == Ordering::Greater,
            "<=" => o != Ordering::Greater,
            ">=" => o != Ordering::Less,
            _ => false,
        };
        if !holds {
            return;
        }
        out.push(Fired::msg(format!(
            "Distro {} {} is denied by policy (version {check} {v})",
            d.id, d.version_id
        )));
    } else {
        out.push(Fired::msg(format!(
            "Distro {} {} is denied by policy",
            d.id, d.version_id
        )));
    }
}

impl Gate for DistroGate {
    fn name(&self) -> &'static str {
        "distro"
    }
    fn description(&self) -> &'static str {
        "Deny images by distro and version (Anchore Enterprise gate)."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
