//! PHP: Composer packages installed under `vendor/` (`vendor/composer/installed.json`, the
//! Composer 1 top-level array and the Composer 2 `{"packages": [...]}` object) and, for `dir:`
//! sources, the declared `composer.lock` (`packages` and `packages-dev`).
//!
//! Each entry with a `name` (`vendor/package`) and a `version` is one package; the version is
//! kept as Composer wrote it (`v4.4.0`: the matcher drops the `v`). Licenses (`license`,
//! a string or an array) go through [`license::normalize`]; `metadata.dev` marks dev-only
//! packages (Composer 2's `dev-package-names`, or `packages-dev` of a lock file) and
//! `metadata.package_type` keeps Composer's `type` (`library`, `metapackage`, …).
//!
//! Bad input: a file that is not JSON, or JSON of neither shape, is an error naming the file;
//! an entry without a name or version is a problem naming its index.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, PackageType, Tag, license,
    parse::{json, str_field},
};

/// Installed Composer packages (`vendor/composer/installed.json`).
#[derive(Debug, Clone, Copy)]
pub struct ComposerInstalledCataloger;

const INSTALLED_ID: &str = "php-composer-installed-cataloger";

impl Cataloger for ComposerInstalledCataloger {
    fn id(&self) -> &'static str {
        INSTALLED_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/vendor/composer/installed.json"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let v = json(INSTALLED_ID, file.path, file.data)?;
        let (entries, dev_names): (&[Value], BTreeSet<&str>) = match &v {
            Value::Array(a) => (a.as_slice(), BTreeSet::new()),
            Value::Object(o) => match o.get("packages") {
                Some(Value::Array(a)) => (
                    a.as_slice(),
                    o.get("dev-package-names")
                        .and_then(Value::as_array)
                        .map(|n| n.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default(),
                ),
                _ => {
                    return Err(CatalogError::malformed(
                        INSTALLED_ID,
                        file.path,
                        "object without a `packages` array (neither Composer 1 nor 2 installed.json)",
                    ));
                }
            },
            _ => {
                return Err(CatalogError::malformed(
                    INSTALLED_ID,
                    file.path,
                    "neither an array (Composer 1) nor an object with `packages` (Composer 2)",
                ));
            }
        };
        let mut found = Found::default();
        let mut seen = BTreeSet::new();
        read_entries(
            INSTALLED_ID,
            "packages",
            entries,
            |name| dev_names.contains(name),
            file.path,
            cx,
            &mut seen,
            &mut found,
        );
        Ok(found)
    }
}

/// `composer.lock`.
#[derive(Debug, Clone, Copy)]
pub struct ComposerLockCataloger;

const LOCK_ID: &str = "php-composer-lock-cataloger";

impl Cataloger for ComposerLockCataloger {
    fn id(&self) -> &'static str {
        LOCK_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Declared]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/composer.lock"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let v = json(LOCK_ID, file.path, file.data)?;
        let mut found = Found::default();
        let mut seen = BTreeSet::new();
        let mut any = false;
        for (key, dev) in [("packages", false), ("packages-dev", true)] {
            match v.get(key) {
                Some(Value::Array(entries)) => {
                    any = true;
                    read_entries(
                        LOCK_ID,
                        key,
                        entries,
                        |_| dev,
                        file.path,
                        cx,
                        &mut seen,
                        &mut found,
                    );
                }
                Some(Value::Null) | None => {}
                Some(_) => found.problem(
                    LOCK_ID,
                    file.path,
                    format!("`{key}` is not an array; skipped"),
                ),
            }
        }
        if !any {
            return Err(CatalogError::malformed(
                LOCK_ID,
                file.path,
                "no `packages` array: not a Composer lock file",
            ));
        }
        Ok(found)
    }
}

#[allow(clippy::too_many_arguments)]
fn read_entries<'a>(
    id: &'static str,
    key: &str,
    entries: &'a [Value],
    is_dev: impl Fn(&str) -> bool,
    path: &str,
    cx: &CatalogCx<'_>,
    seen: &mut BTreeSet<(&'a str, &'a str)>,
    found: &mut Found,
) {
    for (i, entry) in entries.iter().enumerate() {
        let (Some(name), Some(version)) = (str_field(entry, "name"), str_field(entry, "version"))
        else {
            found.problem(
                id,
                path,
                format!("`{key}` entry #{i} has no `name` or no `version`; skipped"),
            );
            continue;
        };
        if !seen.insert((name, version)) {
            continue;
        }
        let mut p = cx.package(PackageType::PhpComposer, name, version, path);
        p.licenses = match entry.get("license") {
            Some(Value::String(s)) => license::normalize(s).into_iter().collect(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .filter_map(license::normalize)
                .collect(),
            _ => Vec::new(),
        };
        p.licenses.dedup();
        if let Some(t) = str_field(entry, "type") {
            p.metadata.insert("package_type".into(), t.into());
        }
        if let Some(url) = entry.pointer("/source/url").and_then(Value::as_str) {
            p.metadata.insert("source_url".into(), url.into());
        }
        if is_dev(name) {
            p.metadata.insert("dev".into(), true.into());
        }
        found.packages.push(p);
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{CatalogOptions, Inventory, parse::test_image, run};

    const V2: &str = r#"{
        "packages": [
            {"name": "symfony/http-kernel", "version": "v4.4.0", "type": "library",
             "license": ["MIT"], "source": {"type": "git", "url": "https://example.invalid/hk.git"}},
            {"name": "phpunit/phpunit", "version": "9.6.13", "license": "BSD-3-Clause"},
            {"name": "broken/entry"}
        ],
        "dev": true,
        "dev-package-names": ["phpunit/phpunit"]
    }"#;

    const V1: &str = r#"[{"name": "monolog/monolog", "version": "1.25.0", "license": ["MIT"]}]"#;

    fn rows(inv: &Inventory) -> Vec<(&str, &str, &str)> {
        inv.packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect()
    }

    #[test]
    fn installed_json_both_composer_versions() {
        let inv = run(
            &test_image(
                "oci-dir",
                &[
                    ("/var/www/vendor/composer/installed.json", V2.as_bytes()),
                    ("/old/vendor/composer/installed.json", V1.as_bytes()),
                    ("/bad/vendor/composer/installed.json", b"{\"packages\": [}"),
                    ("/shape/vendor/composer/installed.json", b"{\"x\": 1}"),
                ],
            ),
            &CatalogOptions::default(),
        );
        assert_eq!(
            rows(&inv),
            vec![
                (
                    "monolog/monolog",
                    "1.25.0",
                    "pkg:composer/monolog/monolog@1.25.0"
                ),
                (
                    "phpunit/phpunit",
                    "9.6.13",
                    "pkg:composer/phpunit/phpunit@9.6.13"
                ),
                (
                    "symfony/http-kernel",
                    "v4.4.0",
                    "pkg:composer/symfony/http-kernel@v4.4.0"
                ),
            ]
        );
        assert_eq!(inv.packages[1].metadata["dev"], true);
        assert_eq!(inv.packages[1].licenses, vec!["BSD-3-Clause"]);
        assert_eq!(inv.packages[2].licenses, vec!["MIT"]);
        assert!(!inv.packages[2].metadata.contains_key("dev"));
        let paths: Vec<_> = inv
            .problems
            .iter()
            .map(|p| p.path.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(
            paths,
            vec![
                "/bad/vendor/composer/installed.json",
                "/shape/vendor/composer/installed.json",
                "/var/www/vendor/composer/installed.json",
            ],
            "{:?}",
            inv.problems
        );
        assert!(inv.problems[0].message.contains("JSON"));
        assert!(inv.problems[1].message.contains("packages"));
        assert!(inv.problems[2].message.contains("#2"));
    }

    #[test]
    fn composer_lock() {
        let lock = r#"{"_readme": ["x"], "content-hash": "abc",
            "packages": [{"name": "guzzlehttp/psr7", "version": "1.8.1", "license": ["MIT"]}],
            "packages-dev": [{"name": "phpunit/phpunit", "version": "9.6.13"}]}"#;
        let inv = run(
            &test_image(
                "dir",
                &[
                    ("/app/composer.lock", lock.as_bytes()),
                    ("/b/composer.lock", b"{\"name\": \"not/a-lock\"}"),
                ],
            ),
            &CatalogOptions::default(),
        );
        assert_eq!(inv.packages.len(), 2);
        assert_eq!(inv.packages[1].metadata["dev"], true);
        assert_eq!(inv.problems.len(), 1);
        assert!(inv.problems[0].message.contains("not a Composer lock"));
        // Lock files are declared: off for images.
        let inv = run(
            &test_image("oci-dir", &[("/app/composer.lock", lock.as_bytes())]),
            &CatalogOptions::default(),
        );
        assert!(inv.packages.is_empty());
    }
}
