//! Gate `tag_drift` (Anchore Enterprise): packages added, removed or modified since the previous
//! image analysed under the same tag.
//!
//! Reads `Inventory.packages` and [`GateInput::previous`] (from the local store). Without a
//! previous analysis nothing fires. Packages are keyed by (type, name, first location path) so
//! two copies of one npm package in different directories are distinct.

use std::collections::BTreeMap;

use super::{Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec};
use crate::catalog::{Inventory, Package};

/// The `tag_drift` gate.
pub(crate) struct TagDrift;

static PARAMS: &[ParamSpec] = &[ParamSpec::new("package_type", ParamKind::Str, false)
    .doc("only this package type (deb, apk, rpm, python, npm, java-archive, …; all when absent)")];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "packages_added",
        aliases: &[],
        description: "Fires per package present now but not in the previous image of the tag.",
        params: PARAMS,
        eval: added,
    },
    TriggerSpec {
        name: "packages_removed",
        aliases: &[],
        description: "Fires per package of the previous image of the tag that is gone.",
        params: PARAMS,
        eval: removed,
    },
    TriggerSpec {
        name: "packages_modified",
        aliases: &[],
        description: "Fires per package whose version changed since the previous image of the tag.",
        params: PARAMS,
        eval: modified,
    },
];

type Key = (String, String, String);

fn index<'a>(inv: &'a Inventory, kind: Option<&str>) -> BTreeMap<Key, &'a Package> {
    inv.packages
        .iter()
        .filter(|p| {
            kind.is_none_or(|k| p.kind.as_str() == k || (k == "dpkg" && p.kind.as_str() == "deb"))
        })
        .map(|p| {
            let loc = p
                .locations
                .first()
                .map(|l| l.path.clone())
                .unwrap_or_default();
            ((p.kind.as_str().to_string(), p.name.clone(), loc), p)
        })
        .collect()
}

fn diff(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>, which: u8) {
    let Some(prev) = input.previous else { return };
    let kind = p.get_nonempty("package_type");
    let now = index(input.inventory, kind);
    let before = index(prev, kind);
    match which {
        0 => {
            for (k, pkg) in &now {
                if !before.contains_key(k) {
                    out.push(Fired { package: Some(pkg.name.clone()), ..Fired::msg(format!("Package {} ({}) version {} was added since the previous image of this tag", pkg.name, pkg.kind, pkg.version)) });
                }
            }
        }
        1 => {
            for (k, pkg) in &before {
                if !now.contains_key(k) {
                    out.push(Fired { package: Some(pkg.name.clone()), ..Fired::msg(format!("Package {} ({}) version {} was removed since the previous image of this tag", pkg.name, pkg.kind, pkg.version)) });
                }
            }
        }
        _ => {
            for (k, pkg) in &now {
                if let Some(old) = before.get(k)
                    && old.version != pkg.version
                {
                    out.push(Fired { package: Some(pkg.name.clone()), ..Fired::msg(format!("Package {} ({}) was modified since the previous image of this tag: {} -> {}", pkg.name, pkg.kind, old.version, pkg.version)) });
                }
            }
        }
    }
}

fn added(i: &GateInput<'_>, p: &RuleParams<'_>, o: &mut Vec<Fired>) {
    diff(i, p, o, 0);
}
fn removed(i: &GateInput<'_>, p: &RuleParams<'_>, o: &mut Vec<Fired>) {
    diff(i, p, o, 1);
}
fn modified(i: &GateInput<'_>, p: &RuleParams<'_>, o: &mut Vec<Fired>) {
    diff(i, p, o, 2);
}

impl Gate for TagDrift {
    fn name(&self) -> &'static str {
        "tag_drift"
    }
    fn description(&self) -> &'static str {
        "Package changes since the previous image of the same tag (from the local store)."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
