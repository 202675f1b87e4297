//! dpkg: `/var/lib/dpkg/status` and distroless `/var/lib/dpkg/status.d/<pkg>` → Debian
//! packages, with source package (`Source: src` and `Source: src (version)`), architecture,
//! owned files (`info/<pkg>[:<arch>].list`, or `status.d/<pkg>.md5sums`) and licenses from
//! `/usr/share/doc/<pkg>/copyright` (machine-readable `License:` fields, else
//! `/usr/share/common-licenses/X` references).
//!
//! Only installed entries count: a stanza with a `Status:` whose last word is not `installed`
//! (`deinstall ok config-files`, `half-installed`) is skipped; `status.d` stanzas have no
//! `Status:` and are all installed. Malformed lines and stanzas become problems naming the
//! line; the rest of the file is still read.

use std::collections::BTreeSet;

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, Package, PackageType, Tag, license,
};

/// The dpkg database cataloger.
#[derive(Debug, Clone, Copy)]
pub struct DpkgCataloger;

const ID: &str = "dpkg-db-cataloger";

impl Cataloger for DpkgCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Os, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["/var/lib/dpkg/status", "/var/lib/dpkg/status.d/*"]
    }
    fn reads(&self) -> &'static [&'static str] {
        &["/var/lib/dpkg/info/*.list", "/usr/share/doc/*/copyright"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        if file.path.ends_with(".md5sums") {
            // Side file of a status.d entry, read with its stanza.
            return Ok(Found::default());
        }
        let mut found = Found::default();
        let text = found.decode(ID, file.path, file.data);
        let distroless = file.path.starts_with("/var/lib/dpkg/status.d/");
        let stanzas = parse_stanzas(&text, |line, msg| {
            found.problem(ID, file.path, format!("line {line}: {msg}; line skipped"));
        });
        let mut seen_any = false;
        for st in stanzas {
            seen_any = true;
            let Some(name) = st.get("Package").filter(|s| !s.is_empty()) else {
                found.problem(
                    ID,
                    file.path,
                    format!(
                        "stanza at line {} has no `Package:` field; skipped",
                        st.line
                    ),
                );
                continue;
            };
            if let Some(status) = st.get("Status")
                && status.split_whitespace().last() != Some("installed")
            {
                continue;
            }
            let Some(version) = st.get("Version").filter(|s| !s.is_empty()) else {
                found.problem(
                    ID,
                    file.path,
                    format!(
                        "package `{name}` (line {}) has no `Version:`; skipped",
                        st.line
                    ),
                );
                continue;
            };
            let mut p = Package {
                name: name.to_string(),
                version: version.to_string(),
                kind: PackageType::Deb,
                arch: st.get("Architecture").map(str::to_string),
                locations: vec![cx.location(file.path)],
                ..Package::default()
            };
            if let Some(src) = st.get("Source") {
                let (sn, sv) = parse_source(src);
                let sv = sv.filter(|v| *v != p.version);
                if sn != p.name || sv.is_some() {
                    p.source_name = Some(sn.to_string());
                }
                p.source_version = sv.map(str::to_string);
            }
            for (k, key) in [
                ("Maintainer", "maintainer"),
                ("Installed-Size", "installed_size"),
                ("Priority", "priority"),
                ("Section", "section"),
            ] {
                if let Some(v) = st.get(k) {
                    p.metadata.insert(key.into(), v.into());
                }
            }
            // Owned files.
            let arch = p.arch.clone().unwrap_or_default();
            let files_from = if distroless {
                let md5 = format!("{}.md5sums", file.path);
                cx.content(&md5).map(|d| (md5, parse_md5sums(d)))
            } else {
                [
                    format!("/var/lib/dpkg/info/{name}:{arch}.list"),
                    format!("/var/lib/dpkg/info/{name}.list"),
                ]
                .into_iter()
                .find_map(|l| cx.content(&l).map(|d| (l, parse_list(d))))
            };
            if let Some((list_path, files)) = files_from {
                p.files = files
                    .into_iter()
                    .filter(|f| {
                        cx.entry(f)
                            .is_none_or(|e| e.kind != crate::image::FileKind::Directory)
                    })
                    .collect();
                p.locations.push(cx.location(&list_path));
            }
            // Licenses.
            let copyright = format!("/usr/share/doc/{name}/copyright");
            if let Some(real) = cx.files().resolve(&copyright)
                && let Some(data) = cx.content(&real)
            {
                p.licenses = copyright_licenses(&String::from_utf8_lossy(data));
                p.locations.push(cx.location(&real));
            }
            found.packages.push(p);
        }
        if !seen_any && !text.trim().is_empty() {
            found.problem(
                ID,
                file.path,
                "no package stanza could be read from the file",
            );
        }
        Ok(found)
    }
}

/// One control stanza: fields in order, plus the line it starts on (1-based).
#[derive(Debug, Default)]
pub(crate) struct Stanza {
    pub(crate) line: usize,
    pub(crate) fields: Vec<(String, String)>,
}

impl Stanza {
    /// The value of field `key` (case-insensitive), first line and continuations joined by
    /// `\n`, trimmed.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    }
}

/// Splits deb822 text into stanzas. Lines that are neither `Key: value` nor continuations are
/// reported through `bad(line, message)` and skipped.
pub(crate) fn parse_stanzas(text: &str, mut bad: impl FnMut(usize, &str)) -> Vec<Stanza> {
    let mut out = Vec::new();
    let mut cur: Option<Stanza> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            if let Some(st) = cur.take()
                && !st.fields.is_empty()
            {
                out.push(st);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            match cur.as_mut().and_then(|s| s.fields.last_mut()) {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => bad(n, "continuation line without a field"),
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v))
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                cur.get_or_insert_with(|| Stanza {
                    line: n,
                    fields: Vec::new(),
                })
                .fields
                .push((k.to_string(), v.trim().to_string()));
            }
            _ => bad(n, "not a `Field: value` line"),
        }
    }
    if let Some(st) = cur
        && !st.fields.is_empty()
    {
        out.push(st);
    }
    out
}

/// `Source: glibc (2.36-9+deb12u4)` → (`glibc`, `Some("2.36-9+deb12u4")`).
pub(crate) fn parse_source(src: &str) -> (&str, Option<&str>) {
    let src = src.trim();
    match src.split_once('(') {
        Some((name, rest)) => (
            name.trim(),
            rest.split(')')
                .next()
                .map(str::trim)
                .filter(|v| !v.is_empty()),
        ),
        None => (src, None),
    }
}

fn parse_list(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('/') && *l != "/.")
        .map(str::to_string)
        .collect()
}

fn parse_md5sums(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| l.split_once(char::is_whitespace).map(|(_, p)| p.trim()))
        .filter(|p| !p.is_empty())
        .map(|p| format!("/{}", p.trim_start_matches('/')))
        .collect()
}

/// Licenses from a Debian copyright file, normalised to SPDX where possible.
pub(crate) fn copyright_licenses(text: &str) -> Vec<String> {
    let mut raw: BTreeSet<String> = BTreeSet::new();
    let machine = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.starts_with("Format:"));
    if machine {
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("License:") {
                let v = v.trim();
                if !v.is_empty() {
                    raw.insert(v.to_string());
                }
            }
        }
    }
    if raw.is_empty() {
        let marker = "/usr/share/common-licenses/";
        for (i, _) in text.match_indices(marker) {
            let name: String = text[i + marker.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                raw.insert(name.to_string());
            }
        }
    }
    let mut out: Vec<String> = raw.iter().filter_map(|r| license::normalize(r)).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_with_continuations_and_garbage() {
        let text = "Package: a\nVersion: 1\nDescription: x\n more\n\n\ngarbage line\nPackage: b\nVersion: 2\n";
        let mut bad = Vec::new();
        let st = parse_stanzas(text, |n, _| bad.push(n));
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].get("description"), Some("x\nmore"));
        assert_eq!(bad, vec![7]);
        assert_eq!(st[1].line, 8);
    }

    #[test]
    fn source_forms() {
        assert_eq!(parse_source("glibc (2.36-9)"), ("glibc", Some("2.36-9")));
        assert_eq!(parse_source("glibc"), ("glibc", None));
    }

    #[test]
    fn machine_readable_copyright() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: x\nLicense: Expat\n\nLicense: GPL-2+\n text\n";
        assert_eq!(copyright_licenses(text), vec!["GPL-2.0-or-later", "MIT"]);
        let legacy = "see /usr/share/common-licenses/GPL-3.\n";
        assert_eq!(copyright_licenses(legacy), vec!["GPL-3.0-only"]);
    }
}
