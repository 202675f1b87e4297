//! Gate `packages`: required packages, denylisted packages, and verification of OS-package
//! file manifests against the image's files.
//!
//! Reads `Inventory.packages` and `Inventory.files`. `verify` reports `missing` files from each
//! OS package's file list, and `changed` files whose md5 (computed during the scan only when a
//! `verify` rule can check `changed`) differs from dpkg's `md5sums` ([`GateInput::files`]).
//! Only dpkg records digests Tollgate reads; rpm and apk packages are checked for `missing`
//! only. dpkg's md5sums exclude conffiles, so config files are skipped as Anchore does.

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
    let check = p.get("check");
    let selected = |pkg: &str, file: &str| {
        (only_packages.is_empty() || only_packages.iter().any(|n| n == pkg))
            && (only_dirs.is_empty() || only_dirs.iter().any(|d| file.starts_with(d.as_str())))
    };
    let fire = |out: &mut Vec<Fired>, pkg: &str, file: &str, status: &str| {
        out.push(Fired {
            package: Some(pkg.to_string()),
            ..Fired::msg(format!("VERIFY check against package db for package '{pkg}' failed on entry '{file}' with status: '{status}'"))
        });
    };
    let tree = Tree::new(&input.inventory.files);
    let mut missing_reported = std::collections::HashSet::new();
    if check != Some("changed") {
        for pkg in input.inventory.packages.iter().filter(|p| p.kind.is_os()) {
            for file in &pkg.files {
                if selected(&pkg.name, file) && tree.find(file).is_none() {
                    missing_reported.insert((pkg.name.as_str(), file.as_str()));
                    fire(out, &pkg.name, file, "missing");
                }
            }
        }
    }
    let Some(facts) = input.files.filter(|f| f.md5_computed) else {
        return;
    };
    let installed: std::collections::HashSet<&str> = input
        .inventory
        .packages
        .iter()
        .filter(|p| p.kind == PackageType::Deb)
        .map(|p| p.name.as_str())
        .collect();
    for (pkg, entries) in &facts.package_md5 {
        if !installed.contains(pkg.as_str()) {
            continue;
        }
        for (file, recorded) in entries {
            if !selected(pkg, file) {
                continue;
            }
            match tree.find(file) {
                None => {
                    if check != Some("changed")
                        && !missing_reported.contains(&(pkg.as_str(), file.as_str()))
                    {
                        fire(out, pkg, file, "missing");
                    }
                }
                Some(entry) => {
                    // Only regular files have content digests; a digest absent because the
                    // file is over the size cap or outside md5_prefixes proves nothing.
                    if check == Some("missing")
                        || !matches!(entry.kind, crate::image::FileKind::Regular)
                    {
                        continue;
                    }
                    if let Some(actual) = facts.md5.get(entry.path.as_str())
                        && actual != recorded
                    {
                        fire(out, pkg, file, "changed");
                    }
                }
            }
        }
    }
}

/// The image's file list with symlinked directories followed, as a path lookup inside the
/// image sees them (`/bin/ls` is `/usr/bin/ls` when `/bin -> usr/bin`, as in merged-/usr
/// Debian, whose package lists still name `/bin/...`).
struct Tree<'a> {
    by_path: std::collections::HashMap<&'a str, &'a crate::image::FileEntry>,
}

impl<'a> Tree<'a> {
    fn new(files: &'a [crate::image::FileEntry]) -> Self {
        Tree {
            by_path: files.iter().map(|f| (f.path.as_str(), f)).collect(),
        }
    }

    /// The entry at `path`, following symlinks in its directory part (at most 40 hops).
    fn find(&self, path: &str) -> Option<&'a crate::image::FileEntry> {
        let mut current = path.to_string();
        for _ in 0..40 {
            if let Some(e) = self.by_path.get(current.as_str()) {
                return Some(e);
            }
            // The longest existing prefix that is a symlink.
            let mut cut = current.len();
            let rewritten = loop {
                let Some(i) = current[..cut].rfind('/') else {
                    break None;
                };
                if i == 0 {
                    break None;
                }
                cut = i;
                let dir = &current[..i];
                if let Some(e) = self.by_path.get(dir)
                    && e.kind == crate::image::FileKind::Symlink
                    && let Some(target) = &e.link_target
                {
                    let base = dir.rsplit_once('/').map_or("", |(b, _)| b);
                    let joined = if target.starts_with('/') {
                        format!("{target}{}", &current[i..])
                    } else {
                        format!("{base}/{target}{}", &current[i..])
                    };
                    break crate::image::normalize_path(&joined);
                }
            };
            current = rewritten?;
        }
        None
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
    fn tree_follows_symlinked_directories() {
        use crate::image::{FileEntry, FileKind};
        let f = |path: &str, kind: FileKind, target: Option<&str>| FileEntry {
            path: path.into(),
            kind,
            link_target: target.map(Into::into),
            ..Default::default()
        };
        let files = vec![
            f("/bin", FileKind::Symlink, Some("usr/bin")),
            f("/usr/bin", FileKind::Directory, None),
            f("/usr/bin/ls", FileKind::Regular, None),
            f("/lib", FileKind::Symlink, Some("/usr/lib")),
            f("/loop", FileKind::Symlink, Some("loop")),
        ];
        let t = Tree::new(&files);
        assert_eq!(
            t.find("/bin/ls").map(|e| e.path.as_str()),
            Some("/usr/bin/ls")
        );
        assert!(t.find("/bin/cat").is_none());
        assert!(t.find("/lib/x").is_none());
        assert!(t.find("/loop/x").is_none());
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("1.10", "1.9"), Ordering::Greater);
        assert_eq!(natural_cmp("1.2.0", "1.2"), Ordering::Greater);
        assert_eq!(natural_cmp("2.0", "2.0"), Ordering::Equal);
    }
}
