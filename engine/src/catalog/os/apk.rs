//! apk: `/lib/apk/db/installed` → Alpine packages (name `P:`, version `V:`, arch `A:`, origin
//! `o:`, license `L:`, files from `F:` directory + `R:` file lines).
//!
//! The database is blank-line separated records of `X:value` lines. A record without `P:` or
//! `V:` is a problem naming its line; unknown keys are ignored (apk adds new ones).

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, Package, PackageType, Tag, license,
};

/// The apk installed database cataloger.
#[derive(Debug, Clone, Copy)]
pub struct ApkCataloger;

const ID: &str = "apk-db-cataloger";

impl Cataloger for ApkCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Os, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["/lib/apk/db/installed", "/usr/lib/apk/db/installed"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let text = found.decode(ID, file.path, file.data);
        let mut rec: Option<Record> = None;
        let flush = |rec: Option<Record>, found: &mut Found| {
            let Some(r) = rec else { return };
            match (r.name, r.version) {
                (Some(name), Some(version)) => {
                    let mut p = Package {
                        name,
                        version,
                        kind: PackageType::Apk,
                        arch: r.arch,
                        locations: vec![cx.location(file.path)],
                        files: r.files,
                        ..Package::default()
                    };
                    if let Some(o) = r.origin.filter(|o| *o != p.name) {
                        p.source_name = Some(o);
                    }
                    p.licenses
                        .extend(r.license.as_deref().and_then(apk_license));
                    for (k, v) in r.extra {
                        p.metadata.insert(k.into(), v.into());
                    }
                    found.packages.push(p);
                }
                _ => found.problem(
                    ID,
                    file.path,
                    format!("record at line {} has no `P:` or `V:`; skipped", r.line),
                ),
            }
        };
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                flush(rec.take(), &mut found);
                continue;
            }
            let Some((k, v)) = line.split_once(':') else {
                found.problem(
                    ID,
                    file.path,
                    format!("line {}: not a `K:value` line; skipped", i + 1),
                );
                continue;
            };
            let r = rec.get_or_insert_with(|| Record {
                line: i + 1,
                ..Record::default()
            });
            match k {
                "P" => r.name = Some(v.to_string()),
                "V" => r.version = Some(v.to_string()),
                "A" => r.arch = Some(v.to_string()),
                "o" => r.origin = Some(v.to_string()),
                "L" => r.license = Some(v.to_string()),
                "F" => r.dir = v.to_string(),
                "R" => {
                    let path = if r.dir.is_empty() {
                        format!("/{v}")
                    } else {
                        format!("/{}/{v}", r.dir)
                    };
                    r.files.push(path);
                }
                "m" => r.extra.push(("maintainer", v.to_string())),
                "U" => r.extra.push(("url", v.to_string())),
                "c" => r.extra.push(("commit", v.to_string())),
                _ => {}
            }
        }
        flush(rec.take(), &mut found);
        if found.packages.is_empty() && found.problems.is_empty() && !text.trim().is_empty() {
            found.problem(ID, file.path, "no package record could be read");
        }
        Ok(found)
    }
}

#[derive(Debug, Default)]
struct Record {
    line: usize,
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    origin: Option<String>,
    license: Option<String>,
    dir: String,
    files: Vec<String>,
    extra: Vec<(&'static str, String)>,
}

/// apk licenses are space-separated lists (`MIT BSD-2-Clause`) or expressions.
fn apk_license(raw: &str) -> Option<String> {
    if spdx::Expression::parse(raw).is_ok() {
        return Some(raw.to_string());
    }
    let parts: Vec<String> = raw
        .split_whitespace()
        .filter(|w| !matches!(w.to_ascii_lowercase().as_str(), "and" | "or"))
        .filter_map(license::normalize)
        .collect();
    if raw.to_ascii_lowercase().contains(" or ") {
        return license::normalize(raw);
    }
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(parts.join(" AND ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogOptions, run};
    use crate::image::{FileEntry, FileKind, Image};
    use std::sync::Arc;

    fn image(db: &str) -> Image {
        let mut img = Image::default();
        for (p, c) in [
            ("/lib/apk/db/installed", db),
            ("/etc/alpine-release", "3.19.1\n"),
        ] {
            img.files.entries.insert(
                p.into(),
                FileEntry {
                    path: p.into(),
                    kind: FileKind::Regular,
                    size: c.len() as u64,
                    ..Default::default()
                },
            );
            img.files.contents.insert(p.into(), Arc::from(c.as_bytes()));
        }
        img
    }

    #[test]
    fn installed_db() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:libssl3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\nF:usr/lib\nR:libssl.so.3\n\n";
        let inv = run(&image(db), &CatalogOptions::default());
        assert_eq!(inv.packages.len(), 2, "{:?}", inv.problems);
        let ssl = inv.packages.iter().find(|p| p.name == "libssl3").unwrap();
        assert_eq!(ssl.source_name.as_deref(), Some("openssl"));
        assert_eq!(ssl.files, vec!["/usr/lib/libssl.so.3"]);
        assert_eq!(
            ssl.purl,
            "pkg:apk/alpine/libssl3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl"
        );
        assert_eq!(inv.distro.unwrap().id, "alpine");
    }

    #[test]
    fn corrupt_records_are_problems() {
        let inv = run(
            &image("V:1.0\ngarbage\n\nP:ok\nV:1\n"),
            &CatalogOptions::default(),
        );
        assert_eq!(inv.packages.len(), 1);
        assert_eq!(inv.problems.len(), 2, "{:?}", inv.problems);
        // An empty database in an image with a distro is said, not silent.
        let inv = run(&image(""), &CatalogOptions::default());
        assert!(
            inv.problems
                .iter()
                .any(|p| p.message.contains("no OS package"))
        );
    }

    #[test]
    fn license_lists() {
        assert_eq!(
            apk_license("MIT BSD-2-Clause").as_deref(),
            Some("MIT AND BSD-2-Clause")
        );
        assert_eq!(apk_license("GPL-2.0-only").as_deref(), Some("GPL-2.0-only"));
    }
}
