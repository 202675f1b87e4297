//! Gate `packages`: required packages, denylisted packages, and verification of OS-package
//! file manifests against the image's files.
//!
//! Reads `Inventory.packages` and `Inventory.files`. `verify` can only detect `missing` files:
//! the inventory keeps no per-file digests from the package DBs, so `changed` never fires
//! (documented in the README).

use std::cmp::Ordering;

use super::{Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec};
use crate::catalog::PackageType;
use crate::version::{self, Scheme};

/// The `packages` gate.
pub(crate) struct Packages;

static REQUIRED: &[ParamSpec] = &[
    ParamSpec::new("name", ParamKind::Str, true).doc("package name"),
    ParamSpec::new("version", ParamKind::Str, false).doc("version to require"),
    ParamSpec::new(
        "version_match_type",
        ParamKind::Enum(&["exact", "minimum"]),
        false,
    )
    .default("exact")
    .doc("exact: version must equal; minimum: version must be at least"),
];
static VERIFY: &[ParamSpec] = &[
    ParamSpec::new("only_packages", ParamKind::CommaList, false).doc("only these packages"),
    ParamSpec::new("only_directories", ParamKind::CommaList, false)
        .doc("only files under these path prefixes"),
    ParamSpec::new("check", ParamKind::Enum(&["changed", "missing"]), false)
        .doc("which check (both when absent)"),
];
static DENY: &[ParamSpec] = &[
    ParamSpec::new("name", ParamKind::Str, true).doc("package name"),
    ParamSpec::new("version", ParamKind::Str, false).doc("exact version (any when absent)"),
];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "required_package",
        aliases: &[],
        description: "Fires if the named package is absent, or not at the exact / minimum version.",
        params: REQUIRED,
        eval: required,
    },
    TriggerSpec {
        name: "verify",
        aliases: &[],
        description: "Fires per file of an OS package manifest that is missing from the image.",
        params: VERIFY,
        eval: verify,
    },
    TriggerSpec {
        name: "blacklist",
        aliases: &["denylist"],
        description: "Fires per installed package with that name (and exact version).",
        params: DENY,
        eval: denylist,
    },
];

fn scheme(kind: PackageType) -> Option<Scheme> {
    Some(match kind {
        PackageType::Deb => Scheme::Deb,
        PackageType::Rpm => Scheme::Rpm,
        PackageType::Apk => Scheme::Apk,
        PackageType::Python => Scheme::Pep440,
        PackageType::Npm => Scheme::Npm,
        PackageType::JavaArchive => Scheme::Maven,
        PackageType::GoModule => Scheme::Go,
        PackageType::RustCrate => Scheme::Cargo,
        PackageType::Gem => Scheme::Gem,
        PackageType::PhpComposer => Scheme::Composer,
        PackageType::Dotnet => Scheme::Nuget,
        PackageType::Unknown => return None,
    })
}

/// Compares versions with the package's scheme, falling back to a digit-aware comparison when
/// the scheme cannot parse one side.
pub(crate) fn compare_versions(kind: PackageType, a: &str, b: &str) -> Ordering {
    if let Some(s) = scheme(kind)
        && let Ok(o) = version::compare(s, a, b)
    {
        return o;
    }
    natural_cmp(a, b)
}

fn natural_cmp(a: &str, b: &str) -> Ordering {
    let tokens = |s: &str| -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, t)) if *d == digit && c.is_ascii_alphanumeric() => t.push(c),
                _ if c.is_ascii_alphanumeric() => out.push((digit, c.to_string())),
                _ => out.push((false, String::new())),
            }
        }
        out
    };
    let (ta, tb) = (tokens(a), tokens(b));
    for (x, y) in ta.iter().zip(tb.iter()) {
        let o = if x.0 && y.0 {
            let xa = x.1.trim_start_matches('0');
            let yb = y.1.trim_start_matches('0');
            xa.len().cmp(&yb.len()).then_with(|| xa.cmp(yb))
        } else {
            x.1.cmp(&y.1)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ta.len().cmp(&tb.len())
}

fn required(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(name) = p.get("name") else { return };
    let version = p.get_nonempty("version");
    let pkg = input.inventory.packages.iter().find(|pkg| pkg.name == name);
    let Some(pkg) = pkg else {
        let what = match version {
            Some(v) => format!("({name},{v})"),
            None => format!("({name})"),
        };
        out.push(Fired {
            package: Some(name.to_string()),
            ..Fired::msg(format!(
                "Required input package {what} is not present in container image"
            ))
        });
        return;
    };
    let Some(version) = version else { return };
    if p.get("version_match_type") == Some("minimum") {
        if compare_versions(pkg.kind, &pkg.version, version) == Ordering::Less {
            out.push(Fired {
                package: Some(name.to_string()),
                ..Fired::msg(format!("Required min-version input package ({name}) is present ({}), but is lower version than what is specified in policy ({version})", pkg.version))
            });
        }
    } else if pkg.version != version {
        // Anchore prints the package name where the version is meant (quirk §9.5).
        out.push(Fired {
            package: Some(name.to_string()),
            ..Fired::msg(format!("Required input package ({name}) is present ({}), but not at the version specified in policy ({name})", pkg.version))
        });
    }
}

fn verify(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let only_packages = p.list("only_packages");
    let only_dirs = p.list("only_directories");
    if p.get("check") == Some("changed") {
        return;
    }
    let present: std::collections::HashSet<&str> = input
        .inventory
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    for pkg in input.inventory.packages.iter().filter(|p| p.kind.is_os()) {
        if !only_packages.is_empty() && !only_packages.contains(&pkg.name) {
            continue;
        }
        for file in &pkg.files {
            if !only_dirs.is_empty() && !only_dirs.iter().any(|d| file.starts_with(d.as_str())) {
                continue;
            }
            if !present.contains(file.as_str()) {
                out.push(Fired {
                    package: Some(pkg.name.clone()),
                    ..Fired::msg(format!("VERIFY check against package db for package '{}' failed on entry '{file}' with status: 'missing'", pkg.name))
                });
            }
        }
    }
}

fn denylist(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(name) = p.get("name") else { return };
    let version = p.get_nonempty("version");
    for pkg in &input.inventory.packages {
        if pkg.name != name || version.is_some_and(|v| v != pkg.version) {
            continue;
        }
        let what = match version {
            Some(v) => format!("{name}-{v}"),
            None => name.to_string(),
        };
        out.push(Fired {
            package: Some(name.to_string()),
            ..Fired::msg(format!("Package is blacklisted: {what}"))
        });
    }
}

impl Gate for Packages {
    fn name(&self) -> &'static str {
        "packages"
    }
    fn description(&self) -> &'static str {
        "Distro package checks: required, denylisted, manifest verification."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("1.10", "1.9"), Ordering::Greater);
        assert_eq!(natural_cmp("1.2.0", "1.2"), Ordering::Greater);
        assert_eq!(natural_cmp("2.0", "2.0"), Ordering::Equal);
    }
}
