//! .NET: NuGet packages from the `<app>.deps.json` files the SDK writes next to every built
//! application and, for `dir:` sources, the declared `packages.lock.json`.
//!
//! `deps.json`: every `libraries` entry of `"type": "package"` is one package; its key is
//! `Name/1.2.3`, split at the last `/`. `project` (the application and its project references)
//! and `reference`/`runtimepack` entries are not NuGet packages and are skipped. `sha512` and
//! `path` go to metadata.
//!
//! `packages.lock.json`: every dependency of every target framework whose `type` is not
//! `Project`, at its `resolved` version, once per (name, version); `metadata.direct` marks
//! `Direct` dependencies.
//!
//! Does not: read `*.csproj`/`packages.config` or NuGet's global package folder. NuGet license
//! metadata is not in either file, so licenses stay empty. Bad input: not JSON, or no
//! `libraries`/`dependencies` object, is an error naming the file; a malformed entry is a
//! problem naming its key.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, PackageType, Tag,
    parse::{json, str_field},
};

/// `*.deps.json` files.
#[derive(Debug, Clone, Copy)]
pub struct DotnetDepsCataloger;

const DEPS_ID: &str = "dotnet-deps-cataloger";

impl Cataloger for DotnetDepsCataloger {
    fn id(&self) -> &'static str {
        DEPS_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/*.deps.json"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let v = json(DEPS_ID, file.path, file.data)?;
        let Some(libraries) = v.get("libraries").and_then(Value::as_object) else {
            return Err(CatalogError::malformed(
                DEPS_ID,
                file.path,
                "no `libraries` object: not a .NET deps.json",
            ));
        };
        let mut found = Found::default();
        for (key, lib) in libraries {
            let Some(kind) = str_field(lib, "type") else {
                found.problem(
                    DEPS_ID,
                    file.path,
                    format!("library `{key}` has no `type`; skipped"),
                );
                continue;
            };
            if kind != "package" {
                continue;
            }
            let Some((name, version)) = key
                .rsplit_once('/')
                .filter(|(n, v)| !n.trim().is_empty() && !v.trim().is_empty())
            else {
                found.problem(
                    DEPS_ID,
                    file.path,
                    format!("library key `{key}` is not `Name/version`; skipped"),
                );
                continue;
            };
            let mut p = cx.package(PackageType::Dotnet, name.trim(), version.trim(), file.path);
            for (field, meta) in [("sha512", "sha512"), ("path", "nuget_path")] {
                if let Some(s) = str_field(lib, field) {
                    p.metadata.insert(meta.into(), s.into());
                }
            }
            found.packages.push(p);
        }
        Ok(found)
    }
}

/// NuGet `packages.lock.json` files.
#[derive(Debug, Clone, Copy)]
pub struct DotnetPackagesLockCataloger;

const LOCK_ID: &str = "dotnet-packages-lock-cataloger";

impl Cataloger for DotnetPackagesLockCataloger {
    fn id(&self) -> &'static str {
        LOCK_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Declared]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/packages.lock.json"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let v = json(LOCK_ID, file.path, file.data)?;
        let Some(frameworks) = v.get("dependencies").and_then(Value::as_object) else {
            return Err(CatalogError::malformed(
                LOCK_ID,
                file.path,
                "no `dependencies` object: not a NuGet packages.lock.json",
            ));
        };
        let mut found = Found::default();
        let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        for (framework, deps) in frameworks {
            let Some(deps) = deps.as_object() else {
                found.problem(
                    LOCK_ID,
                    file.path,
                    format!("target `{framework}` is not an object; skipped"),
                );
                continue;
            };
            for (name, dep) in deps {
                let kind = str_field(dep, "type").unwrap_or("");
                if kind.eq_ignore_ascii_case("project") {
                    continue;
                }
                let Some(version) = str_field(dep, "resolved") else {
                    found.problem(
                        LOCK_ID,
                        file.path,
                        format!(
                            "`{framework}` dependency `{name}` has no `resolved` version; skipped"
                        ),
                    );
                    continue;
                };
                if !seen.insert((name.as_str(), version)) {
                    continue;
                }
                let mut p = cx.package(PackageType::Dotnet, name, version, file.path);
                if kind.eq_ignore_ascii_case("direct") {
                    p.metadata.insert("direct".into(), true.into());
                }
                found.packages.push(p);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{CatalogOptions, parse::test_image, run};

    const DEPS: &str = r#"{
      "runtimeTarget": {"name": ".NETCoreApp,Version=v6.0", "signature": ""},
      "compilationOptions": {},
      "targets": {".NETCoreApp,Version=v6.0": {"App/1.0.0": {"dependencies": {"Newtonsoft.Json": "12.0.1"}}}},
      "libraries": {
        "App/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
        "Newtonsoft.Json/12.0.1": {"type": "package", "serviceable": true,
          "sha512": "sha512-abc", "path": "newtonsoft.json/12.0.1"},
        "System.Text.Encodings.Web/4.5.0": {"type": "package"},
        "Broken": {"type": "package"},
        "NoType/1.0.0": {}
      }
    }"#;

    #[test]
    fn deps_json() {
        let inv = run(
            &test_image(
                "oci-dir",
                &[
                    ("/app/App.deps.json", DEPS.as_bytes()),
                    ("/other/x.deps.json", b"[1, 2"),
                    ("/third/y.deps.json", b"{\"runtimeTarget\": {}}"),
                ],
            ),
            &CatalogOptions::default(),
        );
        let rows: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (
                    "Newtonsoft.Json",
                    "12.0.1",
                    "pkg:nuget/Newtonsoft.Json@12.0.1"
                ),
                (
                    "System.Text.Encodings.Web",
                    "4.5.0",
                    "pkg:nuget/System.Text.Encodings.Web@4.5.0"
                ),
            ]
        );
        assert_eq!(inv.packages[0].metadata["sha512"], "sha512-abc");
        let msgs: Vec<_> = inv
            .problems
            .iter()
            .map(|p| format!("{} {}", p.path.as_deref().unwrap_or(""), p.message))
            .collect();
        assert_eq!(msgs.len(), 4, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("`Broken`")));
        assert!(msgs.iter().any(|m| m.contains("`NoType/1.0.0`")));
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("/other/x.deps.json") && m.contains("JSON"))
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("/third/y.deps.json") && m.contains("libraries"))
        );
    }

    #[test]
    fn packages_lock() {
        let lock = r#"{"version": 1, "dependencies": {
            "net6.0": {
              "Newtonsoft.Json": {"type": "Direct", "requested": "[12.0.1, )", "resolved": "12.0.1"},
              "Serilog": {"type": "Transitive", "resolved": "2.10.0"},
              "MyLib": {"type": "Project"},
              "Bad": {"type": "Transitive"}
            },
            "net7.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "12.0.1"}},
            "net8.0": 3
        }}"#;
        let inv = run(
            &test_image("dir", &[("/src/packages.lock.json", lock.as_bytes())]),
            &CatalogOptions::default(),
        );
        let rows: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![("Newtonsoft.Json", "12.0.1"), ("Serilog", "2.10.0")]
        );
        assert_eq!(inv.packages[0].metadata["direct"], true);
        assert_eq!(inv.problems.len(), 2, "{:?}", inv.problems);
    }
}
