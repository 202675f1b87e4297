//! Python: installed distributions from `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and
//! single-file `*.egg-info`, with owned files from `RECORD` / `installed-files.txt`.
//!
//! `name` is kept as the metadata spells it (`Django`, `PyYAML`), which is what pip shows;
//! the PEP 503 normalised form (`pyyaml`) goes to `metadata.normalized_name` and the purl,
//! and is what the matcher should query. Licenses: `License-Expression`, else a short
//! `License:` value, else the trove classifiers.
//!
//! Does not: read `requirements.txt`/`poetry.lock` (declared, not installed), or import code.

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, Package, PackageType, Tag, license,
};
use crate::image::normalize_path;

/// Installed Python distributions.
#[derive(Debug, Clone, Copy)]
pub struct PythonCataloger;

const ID: &str = "python-package-cataloger";

impl Cataloger for PythonCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &[
            "**/*.dist-info/METADATA",
            "**/*.egg-info/PKG-INFO",
            "**/*.egg-info",
        ]
    }
    fn reads(&self) -> &'static [&'static str] {
        &["**/*.dist-info/RECORD", "**/*.egg-info/installed-files.txt"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let text = found.decode(ID, file.path, file.data);
        let headers = parse_headers(&text);
        let get = |k: &str| {
            headers
                .iter()
                .find(|(hk, _)| hk.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        let Some(name) = get("Name") else {
            return Err(CatalogError::malformed(ID, file.path, "no `Name:` header"));
        };
        let Some(version) = get("Version") else {
            return Err(CatalogError::malformed(
                ID,
                file.path,
                "no `Version:` header",
            ));
        };
        let mut p = Package {
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageType::Python,
            locations: vec![cx.location(file.path)],
            ..Package::default()
        };
        p.metadata
            .insert("normalized_name".into(), normalize_name(name).into());
        if let Some(expr) = get("License-Expression").and_then(license::normalize) {
            p.licenses.push(expr);
        } else if let Some(l) = get("License")
            .filter(|l| !l.contains('\n') && l.len() <= 80)
            .and_then(license::normalize)
        {
            p.licenses.push(l);
        } else {
            for (k, v) in &headers {
                if k.eq_ignore_ascii_case("Classifier")
                    && v.starts_with("License ::")
                    && let Some(id) = license::from_classifier(v)
                {
                    p.licenses.push(id);
                }
            }
        }
        p.licenses.dedup();
        for (k, key) in [
            ("Author", "author"),
            ("Home-page", "home_page"),
            ("Summary", "summary"),
        ] {
            if let Some(v) = get(k) {
                p.metadata.insert(key.into(), v.into());
            }
        }
        // Owned files.
        let (meta_dir, base) = match file.path.rsplit_once('/') {
            Some((dir, "METADATA" | "PKG-INFO")) => (
                dir.to_string(),
                dir.rsplit_once('/').map(|(b, _)| b).unwrap_or(""),
            ),
            _ => (
                String::new(),
                file.path.rsplit_once('/').map(|(b, _)| b).unwrap_or(""),
            ),
        };
        if !meta_dir.is_empty() {
            let record = format!("{meta_dir}/RECORD");
            let installed = format!("{meta_dir}/installed-files.txt");
            if let Some(data) = cx.content(&record) {
                p.files = parse_record(&String::from_utf8_lossy(data), base);
            } else if let Some(data) = cx.content(&installed) {
                p.files = String::from_utf8_lossy(data)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .filter_map(|l| normalize_path(&format!("{meta_dir}/{}", l.trim())))
                    .collect();
            }
        }
        found.packages.push(p);
        Ok(found)
    }
}

/// PEP 503 normalisation: lower-case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// RFC 822-style headers up to the first blank line (the body is the long description).
fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// `RECORD` CSV rows → absolute paths (relative entries are relative to `base`, the
/// site-packages directory).
fn parse_record(text: &str, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let path = if let Some(rest) = line.strip_prefix('"') {
            rest.split('"').next().unwrap_or("")
        } else {
            line.split(',').next().unwrap_or("")
        };
        if path.is_empty() {
            continue;
        }
        let abs = if path.starts_with('/') {
            normalize_path(path)
        } else {
            normalize_path(&format!("{base}/{path}"))
        };
        out.extend(abs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("PyYAML"), "pyyaml");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("Foo__Bar-.baz"), "foo-bar-baz");
    }

    #[test]
    fn record_paths() {
        let r = "six.py,sha256=x,123\n\"we,ird.py\",,\n../../../bin/tool,,\n";
        assert_eq!(
            parse_record(r, "/usr/local/lib/python3.11/site-packages"),
            vec![
                "/usr/local/lib/python3.11/site-packages/six.py",
                "/usr/local/lib/python3.11/site-packages/we,ird.py",
                "/usr/local/bin/tool"
            ]
        );
    }

    #[test]
    fn headers_stop_at_body() {
        let h = parse_headers("Name: a\nLicense: long\n  text\n\nName: body\n");
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].1, "long\ntext");
    }
}
