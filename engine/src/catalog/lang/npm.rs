//! JavaScript: installed npm packages (`node_modules/<name>/package.json` and
//! `node_modules/@scope/<name>/package.json` at any depth, and Debian's `/usr/share/nodejs`
//! and `/usr/lib/nodejs` trees), plus the declared lock files `package-lock.json` (v1–v3),
//! `yarn.lock` (classic and berry) and `pnpm-lock.yaml` (v5–v9).
//!
//! Every installed copy is its own package (one per path): nested duplicates are real, each
//! can be a different version, and each is a separate finding. A `package.json` in those
//! places without `name` and `version` is reported as a problem, not guessed.
//!
//! Does not: resolve dependency graphs, or read a project's own top-level `package.json`
//! (that is the application, not a dependency).

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, Package, PackageType, Tag, license, parse,
};

/// Installed packages from `package.json`.
#[derive(Debug, Clone, Copy)]
pub struct NpmPackageCataloger;

const PKG_ID: &str = "javascript-package-cataloger";

impl Cataloger for NpmPackageCataloger {
    fn id(&self) -> &'static str {
        PKG_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &[
            "**/node_modules/*/package.json",
            "**/node_modules/@*/*/package.json",
            "/usr/share/nodejs/*/package.json",
            "/usr/share/nodejs/@*/*/package.json",
            "/usr/lib/nodejs/*/package.json",
            "/usr/lib/nodejs/@*/*/package.json",
        ]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let v = parse::json(PKG_ID, file.path, file.data)?;
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let version = v
            .get("version")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let (Some(name), Some(version)) = (name, version) else {
            found.problem(
                PKG_ID,
                file.path,
                "package.json has no `name` or no `version`; not reported as a package",
            );
            return Ok(found);
        };
        let mut p = Package {
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageType::Npm,
            licenses: package_json_licenses(&v),
            locations: vec![cx.location(file.path)],
            ..Package::default()
        };
        for key in ["description", "homepage"] {
            if let Some(s) = v.get(key).and_then(Value::as_str) {
                p.metadata.insert(key.into(), s.into());
            }
        }
        if v.get("private").and_then(Value::as_bool) == Some(true) {
            p.metadata.insert("private".into(), true.into());
        }
        found.packages.push(p);
        Ok(found)
    }
}

fn package_json_licenses(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |x: &Value| {
        let s = match x {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("type").and_then(Value::as_str),
            _ => None,
        };
        if let Some(l) = s.and_then(license::normalize) {
            out.push(l);
        }
    };
    match v.get("license") {
        Some(Value::Array(a)) => a.iter().for_each(&mut push),
        Some(x) => push(x),
        None => {}
    }
    if let Some(Value::Array(a)) = v.get("licenses") {
        a.iter().for_each(&mut push);
    }
    out.dedup();
    out
}

fn declared(name: &str, version: &str, cx: &CatalogCx<'_>, path: &str, dev: bool) -> Package {
    let mut p = cx.package(PackageType::Npm, name, version, path);
    if dev {
        p.metadata.insert("dev".into(), true.into());
    }
    p
}

/// `package-lock.json` / `npm-shrinkwrap.json`, lockfile versions 1–3.
#[derive(Debug, Clone, Copy)]
pub struct NpmLockCataloger;

const LOCK_ID: &str = "javascript-lock-cataloger";

impl Cataloger for NpmLockCataloger {
    fn id(&self) -> &'static str {
        LOCK_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Declared]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/package-lock.json", "**/npm-shrinkwrap.json"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let v = parse::json(LOCK_ID, file.path, file.data)?;
        let mut found = Found::default();
        let mut seen = BTreeSet::new();
        if let Some(Value::Object(pkgs)) = v.get("packages") {
            for (key, entry) in pkgs {
                if key.is_empty() || entry.get("link").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let name = entry
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| key.rsplit_once("node_modules/").map(|(_, n)| n.to_string()));
                let version = entry.get("version").and_then(Value::as_str);
                let (Some(name), Some(version)) = (name, version) else {
                    continue;
                };
                if seen.insert((name.clone(), version.to_string())) {
                    let dev = entry.get("dev").and_then(Value::as_bool) == Some(true);
                    let mut p = declared(&name, version, cx, file.path, dev);
                    p.licenses = package_json_licenses(entry);
                    found.packages.push(p);
                }
            }
        } else if let Some(Value::Object(deps)) = v.get("dependencies") {
            walk_v1(deps, cx, file.path, &mut seen, &mut found, 0);
        } else {
            return Err(CatalogError::malformed(
                LOCK_ID,
                file.path,
                "neither `packages` (v2/v3) nor `dependencies` (v1)",
            ));
        }
        Ok(found)
    }
}

fn walk_v1(
    deps: &serde_json::Map<String, Value>,
    cx: &CatalogCx<'_>,
    path: &str,
    seen: &mut BTreeSet<(String, String)>,
    found: &mut Found,
    depth: usize,
) {
    if depth > 64 {
        found.problem(
            LOCK_ID,
            path,
            "dependencies nested deeper than 64 levels; rest skipped",
        );
        return;
    }
    for (name, entry) in deps {
        if let Some(version) = entry.get("version").and_then(Value::as_str)
            && !version.starts_with("file:")
            && seen.insert((name.clone(), version.to_string()))
        {
            let dev = entry.get("dev").and_then(Value::as_bool) == Some(true);
            found.packages.push(declared(name, version, cx, path, dev));
        }
        if let Some(Value::Object(nested)) = entry.get("dependencies") {
            walk_v1(nested, cx, path, seen, found, depth + 1);
        }
    }
}

/// `yarn.lock`, classic (v1) and berry (v2+).
#[derive(Debug, Clone, Copy)]
pub struct YarnLockCataloger;

const YARN_ID: &str = "javascript-yarn-lock-cataloger";

impl Cataloger for YarnLockCataloger {
    fn id(&self) -> &'static str {
        YARN_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Declared]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/yarn.lock"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let text = found.decode(YARN_ID, file.path, file.data);
        let mut seen = BTreeSet::new();
        for (name, version) in parse_yarn_lock(&text) {
            if seen.insert((name.clone(), version.clone())) {
                found
                    .packages
                    .push(declared(&name, &version, cx, file.path, false));
            }
        }
        if found.packages.is_empty() && text.lines().any(|l| l.ends_with(':')) {
            return Err(CatalogError::malformed(
                YARN_ID,
                file.path,
                "no entry with a version",
            ));
        }
        Ok(found)
    }
}

/// (name, version) pairs of a yarn.lock.
pub(crate) fn parse_yarn_lock(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            current = None;
            let header = line.trim_end_matches(':');
            let first = header
                .split(", ")
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            if first == "__metadata" {
                continue;
            }
            let Some(at) = first.get(1..).and_then(|s| s.find('@')).map(|i| i + 1) else {
                continue;
            };
            let (name, range) = (&first[..at], &first[at + 1..]);
            if range.starts_with("workspace:") || range.starts_with("link:") {
                continue;
            }
            current = Some(name.to_string());
            continue;
        }
        let t = line.trim();
        if let Some(name) = &current
            && line.starts_with("  ")
            && !line.starts_with("    ")
        {
            let version = t
                .strip_prefix("version: ")
                .or_else(|| t.strip_prefix("version "))
                .map(|v| v.trim().trim_matches('"'));
            if let Some(v) = version.filter(|v| !v.is_empty()) {
                out.push((name.clone(), v.to_string()));
                current = None;
            }
        }
    }
    out
}

/// `pnpm-lock.yaml`, lockfile versions 5–9.
#[derive(Debug, Clone, Copy)]
pub struct PnpmLockCataloger;

const PNPM_ID: &str = "javascript-pnpm-lock-cataloger";

impl Cataloger for PnpmLockCataloger {
    fn id(&self) -> &'static str {
        PNPM_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Declared]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/pnpm-lock.yaml"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let doc: yaml_serde::Value = yaml_serde::from_slice(file.data)
            .map_err(|e| CatalogError::malformed(PNPM_ID, file.path, e.to_string()))?;
        let mut found = Found::default();
        let Some(pkgs) = doc.get("packages").and_then(|v| v.as_mapping()) else {
            return Ok(found);
        };
        let mut seen = BTreeSet::new();
        for (key, entry) in pkgs {
            let Some(key) = key.as_str() else { continue };
            let Some((name, version)) = parse_pnpm_key(key) else {
                found.problem(
                    PNPM_ID,
                    file.path,
                    format!("cannot read package key `{key}`"),
                );
                continue;
            };
            if seen.insert((name.clone(), version.clone())) {
                let dev = entry.get("dev").and_then(|d| d.as_bool()) == Some(true);
                found
                    .packages
                    .push(declared(&name, &version, cx, file.path, dev));
            }
        }
        Ok(found)
    }
}

/// `/name/1.0.0` (v5), `/@s/name@1.0.0(peer@2)` (v6), `name@1.0.0` (v9) → (name, version).
pub(crate) fn parse_pnpm_key(key: &str) -> Option<(String, String)> {
    let key = key.trim_start_matches('/');
    let key = key.split('(').next().unwrap_or(key);
    if let Some(at) = key.get(1..).and_then(|s| s.rfind('@')).map(|i| i + 1) {
        let (n, v) = (&key[..at], &key[at + 1..]);
        if !n.is_empty() && !v.is_empty() {
            return Some((n.to_string(), v.to_string()));
        }
    }
    let (n, v) = key.rsplit_once('/')?;
    let v = v.split('_').next().unwrap_or(v);
    (!n.is_empty() && !v.is_empty()).then(|| (n.to_string(), v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yarn_classic_and_berry() {
        let classic = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"x\"\n  dependencies:\n    version \"9\"\n\nlodash@^4.17.15:\n  version \"4.17.21\"\n";
        assert_eq!(
            parse_yarn_lock(classic),
            vec![
                ("@babel/code-frame".to_string(), "7.12.13".to_string()),
                ("lodash".to_string(), "4.17.21".to_string())
            ]
        );
        let berry = "__metadata:\n  version: 6\n\n\"lodash@npm:^4.17.21\":\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n";
        assert_eq!(
            parse_yarn_lock(berry),
            vec![("lodash".to_string(), "4.17.21".to_string())]
        );
    }

    #[test]
    fn pnpm_keys() {
        let k = |s| parse_pnpm_key(s).unwrap();
        assert_eq!(k("/lodash/4.17.21"), ("lodash".into(), "4.17.21".into()));
        assert_eq!(
            k("/@types/node/18.0.0_abc"),
            ("@types/node".into(), "18.0.0".into())
        );
        assert_eq!(
            k("/@types/node@18.0.0(x@1)"),
            ("@types/node".into(), "18.0.0".into())
        );
        assert_eq!(k("express@4.18.2"), ("express".into(), "4.18.2".into()));
    }

    #[test]
    fn license_shapes() {
        let v: Value =
            serde_json::json!({"license": {"type": "MIT"}, "licenses": [{"type": "Apache-2.0"}]});
        assert_eq!(package_json_licenses(&v), vec!["MIT", "Apache-2.0"]);
    }
}
