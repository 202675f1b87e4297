//! Rust: `Cargo.lock` (lockfile formats v1–v4) → the crates a project declares.
//!
//! A declared source ([`Tag::Declared`]): on by default for `dir:` sources only, like the npm
//! lock files, because a lock file in an image says what *would* be built, not what is
//! installed (compiled crates are found in binaries by
//! [`cargo_auditable`](super::cargo_auditable)).
//!
//! Every `[[package]]` with a `name` and a `version` is one package (and the `[root]` table of
//! pre-2017 v1 files); `metadata.source` says where it comes from: `crates.io` (the default
//! registry, git or sparse index), `git`, `registry` (another registry) or `local` (a workspace
//! member or path dependency: no `source` key). The file is parsed as TOML with the `toml`
//! crate, so anything Cargo itself could read is read here.
//!
//! Bad input: a file that is not TOML is an error naming the line; a `[[package]]` entry
//! without a name or version is a problem naming its index; a TOML file without any package
//! table says so instead of returning nothing.

use std::collections::BTreeSet;

use toml::{Table, Value};

use super::super::{CatalogCx, CatalogError, Cataloger, FileRef, Found, PackageType, Tag};

/// `Cargo.lock` files.
#[derive(Debug, Clone, Copy)]
pub struct CargoLockCataloger;

const ID: &str = "rust-cargo-lock-cataloger";

impl Cataloger for CargoLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Declared]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/Cargo.lock"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let text = found.decode(ID, file.path, file.data);
        let table: Table = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text.get(..s.start).unwrap_or("").lines().count().max(1));
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            CatalogError::malformed(
                ID,
                file.path,
                format!("not valid TOML{at}: {}; file skipped", e.message().trim()),
            )
        })?;
        let mut entries: Vec<&Table> = Vec::new();
        if let Some(Value::Table(root)) = table.get("root") {
            entries.push(root);
        }
        match table.get("package") {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::Table(t) => entries.push(t),
                        _ => found.problem(
                            ID,
                            file.path,
                            format!("`[[package]]` #{i} is not a table; skipped"),
                        ),
                    }
                }
            }
            Some(_) => {
                return Err(CatalogError::malformed(
                    ID,
                    file.path,
                    "`package` is not an array of tables; file skipped",
                ));
            }
            None if entries.is_empty() => {
                return Err(CatalogError::malformed(
                    ID,
                    file.path,
                    "no `[[package]]` tables: not a Cargo lock file",
                ));
            }
            None => {}
        }
        let mut seen = BTreeSet::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let field = |k: &str| {
                entry
                    .get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let (Some(name), Some(version)) = (field("name"), field("version")) else {
                found.problem(
                    ID,
                    file.path,
                    format!("package entry #{i} has no `name` or no `version`; skipped"),
                );
                continue;
            };
            let source = source_kind(field("source"));
            if !seen.insert((name, version, source)) {
                continue;
            }
            let mut p = cx.package(PackageType::RustCrate, name, version, file.path);
            p.metadata.insert("source".into(), source.into());
            if let Some(sum) = field("checksum") {
                p.metadata.insert("checksum".into(), sum.into());
            }
            found.packages.push(p);
        }
        Ok(found)
    }
}

/// Where a locked crate comes from, from its `source` value.
pub fn source_kind(source: Option<&str>) -> &'static str {
    match source {
        None => "local",
        Some(s) if s.starts_with("git+") => "git",
        Some(
            "registry+https://github.com/rust-lang/crates.io-index"
            | "sparse+https://index.crates.io/",
        ) => "crates.io",
        Some(_) => "registry",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogOptions, parse::test_image, run};

    const V3: &str = r#"# This file is automatically @generated by Cargo.
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "smallvec",
 "time",
]

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "fe0f37c9e8f3c5a4a66ad655a93c74daac4ad00c441533bf5c6e7990bb42604e"

[[package]]
name = "time"
version = "0.1.43"
source = "sparse+https://index.crates.io/"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://example.invalid/forked#abc"
"#;

    const V1: &str = r#"[root]
name = "old-app"
version = "0.0.1"
dependencies = ["libc 0.2.20 (registry+https://github.com/rust-lang/crates.io-index)"]

[[package]]
name = "libc"
version = "0.2.20"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.20 (registry+https://github.com/rust-lang/crates.io-index)" = "abc"
"#;

    fn rows(files: &[(&str, &[u8])]) -> crate::catalog::Inventory {
        run(&test_image("dir", files), &CatalogOptions::default())
    }

    #[test]
    fn lock_v3_and_v1() {
        let inv = rows(&[
            ("/src/Cargo.lock", V3.as_bytes()),
            ("/old/Cargo.lock", V1.as_bytes()),
        ]);
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        let got: Vec<_> = inv
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.metadata["source"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("app", "0.1.0", "local"),
                ("forked", "0.2.0", "git"),
                ("libc", "0.2.20", "crates.io"),
                ("old-app", "0.0.1", "local"),
                ("smallvec", "1.6.0", "crates.io"),
                ("time", "0.1.43", "crates.io"),
            ]
        );
        let sv = inv.packages.iter().find(|p| p.name == "smallvec").unwrap();
        assert_eq!(sv.purl, "pkg:cargo/smallvec@1.6.0");
        assert_eq!(sv.found_by, ID);
    }

    #[test]
    fn lock_files_are_declared_only() {
        let inv = run(
            &test_image("oci-dir", &[("/src/Cargo.lock", V3.as_bytes())]),
            &CatalogOptions::default(),
        );
        assert!(inv.packages.is_empty());
    }

    #[test]
    fn malformed_locks_are_problems() {
        let inv = rows(&[
            ("/a/Cargo.lock", b"[[package]]\nname = \"x\"\nversion = \n"),
            (
                "/b/Cargo.lock",
                b"[[package]]\nname = \"x\"\n\n[[package]]\nname = \"y\"\nversion = \"1.0.0\"\n",
            ),
            ("/c/Cargo.lock", b"title = \"not a lock\"\n"),
            ("/d/Cargo.lock", b"package = 3\n"),
            (
                "/e/Cargo.lock",
                b"[[package]]\nname = \"z\xff\"\nversion = \"1.0.0\"\n",
            ),
        ]);
        let msg = |path: &str| {
            inv.problems
                .iter()
                .filter(|p| p.path.as_deref() == Some(path))
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        assert!(
            msg("/a/Cargo.lock").contains("line 3"),
            "{}",
            msg("/a/Cargo.lock")
        );
        assert!(
            msg("/b/Cargo.lock").contains("#0"),
            "{}",
            msg("/b/Cargo.lock")
        );
        assert!(msg("/c/Cargo.lock").contains("no `[[package]]`"));
        assert!(msg("/d/Cargo.lock").contains("not an array"));
        assert!(msg("/e/Cargo.lock").contains("UTF-8"));
        let names: Vec<_> = inv.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["y", "z\u{fffd}"]);
    }
}
