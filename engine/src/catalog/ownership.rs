//! The rule for files owned by OS packages, applied once after every cataloger ran.
//!
//! **The rule.** A language package whose evidence file (its first location: a `METADATA`,
//! `package.json`, jar, binary, …) is listed among the files of an OS package (dpkg
//! `info/*.list` / `status.d/*.md5sums`, apk `R:` lines, rpm file lists) is
//! - **kept** when its identity comes from the ecosystem's own metadata (dist-info/egg-info,
//!   package.json, pom.properties or a manifest version, Go build info, cargo-auditable data,
//!   gemspecs, …): it really is a package of that ecosystem, and that ecosystem's advisories
//!   apply to its upstream version. It gets `metadata.os_package = "<owner>"` so reports and
//!   policies can tell that the distro ships it (e.g. Debian's `python3-pip` →
//!   `pip 23.0.1`, `node-undici` → `undici`);
//! - **dropped** when its identity was only guessed from a file name (metadata
//!   `evidence = "filename"`: a jar without `pom.properties` and without a manifest version):
//!   the OS package already reports that file, and a guessed second identity would be a
//!   phantom.
//!
//! Does not: merge OS packages with each other, or look into file contents.

use std::collections::HashMap;

use super::Package;

/// Metadata key naming the OS package that owns a language package's evidence file.
pub const OS_PACKAGE_KEY: &str = "os_package";
/// Metadata key marking how a package's identity was established (`filename` = guessed).
pub const EVIDENCE_KEY: &str = "evidence";

/// Applies the rule in place.
pub fn apply(packages: &mut Vec<Package>) {
    let mut owners: HashMap<&str, usize> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        if p.kind.is_os() {
            for f in &p.files {
                owners.entry(f.as_str()).or_insert(i);
            }
        }
    }
    if owners.is_empty() {
        return;
    }
    let mut owner_of: Vec<Option<String>> = Vec::with_capacity(packages.len());
    for p in packages.iter() {
        let owner = if p.kind.is_os() {
            None
        } else {
            p.locations
                .first()
                .and_then(|l| {
                    // An archive member (`a.war!WEB-INF/lib/b.jar`) is owned through its
                    // outer file.
                    let outer = l.path.split('!').next().unwrap_or(&l.path);
                    owners.get(outer)
                })
                .and_then(|&i| packages.get(i))
                .map(|o| o.name.clone())
        };
        owner_of.push(owner);
    }
    let mut keep = Vec::with_capacity(packages.len());
    for (p, owner) in packages.iter_mut().zip(owner_of) {
        let Some(owner) = owner else {
            keep.push(true);
            continue;
        };
        let guessed = p
            .metadata
            .get(EVIDENCE_KEY)
            .and_then(|v| v.as_str())
            .is_some_and(|e| e == "filename");
        if guessed {
            keep.push(false);
        } else {
            p.metadata
                .insert(OS_PACKAGE_KEY.into(), serde_json::Value::String(owner));
            keep.push(true);
        }
    }
    let mut it = keep.into_iter();
    packages.retain(|_| it.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Location, PackageType};

    fn lang(name: &str, path: &str, guessed: bool) -> Package {
        let mut p = Package {
            name: name.into(),
            version: "1".into(),
            kind: PackageType::JavaArchive,
            locations: vec![Location {
                path: path.into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        if guessed {
            p.metadata.insert(EVIDENCE_KEY.into(), "filename".into());
        }
        p
    }

    #[test]
    fn owned_real_packages_are_kept_and_annotated_guessed_ones_dropped() {
        let os = Package {
            name: "libfoo-java".into(),
            kind: PackageType::Deb,
            files: vec![
                "/usr/share/java/foo.jar".into(),
                "/usr/share/java/bar.jar".into(),
            ],
            ..Default::default()
        };
        let mut pkgs = vec![
            os,
            lang("foo", "/usr/share/java/foo.jar", false),
            lang("bar", "/usr/share/java/bar.jar", true),
            lang("baz", "/app/baz.jar", true),
        ];
        apply(&mut pkgs);
        let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["libfoo-java", "foo", "baz"]);
        assert_eq!(pkgs[1].metadata[OS_PACKAGE_KEY], "libfoo-java");
        assert!(!pkgs[2].metadata.contains_key(OS_PACKAGE_KEY));
    }
}
