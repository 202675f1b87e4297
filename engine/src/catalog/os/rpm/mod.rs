//! rpm: the installed-package database in any of its three formats → RPM packages, decoding
//! the header blobs natively (no librpm, no `rpm -qa`).
//!
//! | file (under `/var/lib/rpm/` or `/usr/lib/sysimage/rpm/`) | format | reader |
//! |---|---|---|
//! | `rpmdb.sqlite` | SQLite, table `Packages(hnum, blob)` | [`sqlite`] |
//! | `Packages` | Berkeley DB hash | [`bdb`] |
//! | `Packages.db` | NDB | [`ndb`] |
//!
//! The format is sniffed from the first bytes (the name only decides when nothing matches).
//! Each blob goes through [`header`]; a package gets name, version `[epoch:]version-release`
//! (epoch only when the header has one, like `rpm -q --qf '%{EVR}'`), arch, licenses (SPDX
//! when [`license::normalize`] maps every term, else the declared string), the source package
//! parsed from `SOURCERPM` (`openssl-3.0.7-25.el9.src.rpm` → `openssl`, `3.0.7-25.el9`; set
//! only when it differs, as dpkg does), metadata `epoch`, `source_rpm` (the purl's
//! `upstream`), `modularity_label`, `vendor`, and its files (`DIRNAMES[DIRINDEXES[i]] +
//! BASENAMES[i]`, or legacy `OLDFILENAMES`; directories left out by `FILEMODES`) for the
//! [`ownership`](crate::catalog::ownership) rule.
//!
//! Not packages: `gpg-pubkey` entries (imported signing keys rpm keeps as pseudo-packages)
//! are skipped. When one directory holds several formats, rpm reads one: `rpmdb.sqlite` wins
//! over `Packages.db`, which wins over `Packages` (an empty newer file does not count); the
//! others are skipped with a problem.
//!
//! Bad input never panics: a blob that does not decode, an index entry outside its blob, an
//! absurd count, a non-UTF-8 string, a damaged page or slot is a problem naming the file and
//! the record skipped; a database from which nothing decodes says so.

pub(crate) mod bdb;
pub(crate) mod header;
pub(crate) mod ndb;
pub(crate) mod sqlite;
#[cfg(test)]
pub(crate) mod testdata;

use header::tag;

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, Package, PackageType, Tag, license,
};

/// The rpm database cataloger.
#[derive(Debug, Clone, Copy)]
pub struct RpmCataloger;

const ID: &str = "rpm-db-cataloger";

/// Database file names, newest format first (the precedence within one directory).
const DB_NAMES: [&str; 3] = ["rpmdb.sqlite", "Packages.db", "Packages"];

impl Cataloger for RpmCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Os, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &[
            "/var/lib/rpm/rpmdb.sqlite",
            "/var/lib/rpm/Packages",
            "/var/lib/rpm/Packages.db",
            "/usr/lib/sysimage/rpm/rpmdb.sqlite",
            "/usr/lib/sysimage/rpm/Packages",
            "/usr/lib/sysimage/rpm/Packages.db",
        ]
    }
    fn reads(&self) -> &'static [&'static str] {
        &[
            "/var/lib/rpm/rpmdb.sqlite-wal",
            "/usr/lib/sysimage/rpm/rpmdb.sqlite-wal",
        ]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let (dir, name) = file.path.rsplit_once('/').unwrap_or(("", file.path));
        if let Some(newer) = DB_NAMES
            .iter()
            .take_while(|n| **n != name)
            .find(|n| cx.entry(&format!("{dir}/{n}")).is_some_and(|e| e.size > 0))
        {
            found.problem(
                ID,
                file.path,
                format!(
                    "skipped: `{dir}/{newer}` is in the same directory and rpm reads the newer format"
                ),
            );
            return Ok(found);
        }
        let scan = read_db(file.path, name, file.data, cx)?;
        for p in scan.problems {
            found.problem(ID, file.path, p);
        }
        let mut decoded = 0usize;
        for rec in &scan.records {
            match decode(&rec.blob) {
                Ok((pkg, notes)) => {
                    decoded += 1;
                    for n in notes {
                        found.problem(ID, file.path, format!("record {}: {n}", rec.key));
                    }
                    if let Some(p) = pkg {
                        found.packages.push(to_package(p, file.path, cx));
                    }
                }
                Err(why) => found.problem(
                    ID,
                    file.path,
                    format!("record {}: {why}; record skipped", rec.key),
                ),
            }
        }
        if decoded == 0 && !file.data.is_empty() {
            found.problem(
                ID,
                file.path,
                format!(
                    "no package could be read from the database ({} record(s) found, none decoded)",
                    scan.records.len()
                ),
            );
        }
        Ok(found)
    }
}

/// Picks the reader by magic, else by file name.
fn read_db(
    path: &str,
    name: &str,
    data: &[u8],
    cx: &CatalogCx<'_>,
) -> Result<bdb::Scan, CatalogError> {
    let corrupt = |(offset, reason): bdb::Fatal| CatalogError::CorruptDb {
        path: path.to_string(),
        offset,
        reason,
    };
    if sqlite::sniff(data) || (name == "rpmdb.sqlite" && !ndb::sniff(data) && !bdb::sniff(data)) {
        let wal = cx.content(&format!("{path}-wal")).filter(|w| !w.is_empty());
        return sqlite::read(path, data, wal);
    }
    if ndb::sniff(data) || (name == "Packages.db" && !bdb::sniff(data)) {
        return ndb::read(data).map_err(corrupt);
    }
    bdb::read(data).map_err(corrupt)
}

/// The fields of one installed package, as decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RpmHeader {
    pub(crate) name: String,
    pub(crate) epoch: Option<u32>,
    pub(crate) version: String,
    pub(crate) release: String,
    pub(crate) arch: Option<String>,
    pub(crate) source_rpm: Option<String>,
    pub(crate) license: Option<String>,
    pub(crate) modularity_label: Option<String>,
    pub(crate) vendor: Option<String>,
    pub(crate) files: Vec<String>,
}

impl RpmHeader {
    /// `[epoch:]version-release`.
    pub(crate) fn evr(&self) -> String {
        let vr = if self.release.is_empty() {
            self.version.clone()
        } else {
            format!("{}-{}", self.version, self.release)
        };
        match self.epoch {
            Some(e) => format!("{e}:{vr}"),
            None => vr,
        }
    }
}

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;

/// Decodes one header blob. `Ok(None)` for pseudo-packages (`gpg-pubkey`); the notes are
/// non-fatal oddities (non-UTF-8 text, a bad file list, a bad region trailer).
pub(crate) fn decode(blob: &[u8]) -> Result<(Option<RpmHeader>, Vec<String>), String> {
    let h = header::parse(blob)?;
    let mut notes = h.notes.clone();
    let text = |t: u32, what: &str, notes: &mut Vec<String>| -> Result<Option<String>, String> {
        match h.string(t) {
            Ok(Some(v)) => {
                if v.lossy {
                    notes.push(format!(
                        "{what} is not valid UTF-8; invalid bytes replaced with U+FFFD"
                    ));
                }
                Ok(Some(v.value))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(format!("{what}: {e}")),
        }
    };
    let name = text(tag::NAME, "NAME", &mut notes)?
        .filter(|n| !n.is_empty())
        .ok_or("header has no NAME")?;
    if name == "gpg-pubkey" {
        return Ok((None, notes));
    }
    let version = text(tag::VERSION, "VERSION", &mut notes)?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("package `{name}` has no VERSION"))?;
    let release = text(tag::RELEASE, "RELEASE", &mut notes)?.unwrap_or_default();
    // Optional fields: a broken one is a note, the package is still reported.
    let optional = |t: u32, what: &str, notes: &mut Vec<String>| match text(t, what, notes) {
        Ok(v) => v.filter(|s| !s.is_empty()),
        Err(e) => {
            notes.push(format!("package `{name}`: {e}; field ignored"));
            None
        }
    };
    let arch = optional(tag::ARCH, "ARCH", &mut notes);
    let source_rpm = optional(tag::SOURCERPM, "SOURCERPM", &mut notes);
    let license = optional(tag::LICENSE, "LICENSE", &mut notes);
    let modularity_label = optional(tag::MODULARITYLABEL, "MODULARITYLABEL", &mut notes);
    let vendor = optional(tag::VENDOR, "VENDOR", &mut notes);
    let epoch = match h.int32(tag::EPOCH) {
        Ok(e) => e,
        Err(e) => {
            notes.push(format!("package `{name}`: EPOCH: {e}; field ignored"));
            None
        }
    };
    let files = match files(&h) {
        Ok(f) => f,
        Err(e) => {
            notes.push(format!(
                "package `{name}`: file list: {e}; files not recorded"
            ));
            Vec::new()
        }
    };
    Ok((
        Some(RpmHeader {
            name,
            epoch,
            version,
            release,
            arch,
            source_rpm,
            license,
            modularity_label,
            vendor,
            files,
        }),
        notes,
    ))
}

/// The package's non-directory files, absolute.
fn files(h: &header::Header<'_>) -> Result<Vec<String>, String> {
    let modes = h.int16_array(tag::FILEMODES)?.unwrap_or_default();
    let is_dir = |i: usize| modes.get(i).is_some_and(|m| m & S_IFMT == S_IFDIR);
    let Some(bases) = h.string_array(tag::BASENAMES)? else {
        let old = h.string_array(tag::OLDFILENAMES)?.unwrap_or_default();
        return Ok(old
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !is_dir(*i))
            .map(|(_, t)| t.value)
            .collect());
    };
    let dirs = h.string_array(tag::DIRNAMES)?.unwrap_or_default();
    let idx = h.int32_array(tag::DIRINDEXES)?.unwrap_or_default();
    if idx.len() != bases.len() {
        return Err(format!(
            "{} BASENAMES but {} DIRINDEXES",
            bases.len(),
            idx.len()
        ));
    }
    let mut out = Vec::with_capacity(bases.len());
    for (i, (base, d)) in bases.iter().zip(&idx).enumerate() {
        let Some(dir) = dirs.get(*d as usize) else {
            return Err(format!(
                "DIRINDEXES[{i}] = {d} but there are {} DIRNAMES",
                dirs.len()
            ));
        };
        if is_dir(i) {
            continue;
        }
        out.push(format!("{}{}", dir.value, base.value));
    }
    Ok(out)
}

/// Splits `name-version-release.arch.rpm` (arch `src` or `nosrc`) into name and
/// `version-release`.
pub(crate) fn parse_source_rpm(srpm: &str) -> Option<(String, String)> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))
        .or_else(|| srpm.strip_suffix(".rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}

/// Fedora's legacy ("Callaway") short names that the SPDX list does not know, still used by
/// RHEL 8/9 and their rebuilds.
const FEDORA_NAMES: &[(&str, &str)] = &[
    ("ASL 2.0", "Apache-2.0"),
    ("ASL 1.1", "Apache-1.1"),
    ("ASL 1.0", "Apache-1.0"),
    ("MPLv2.0", "MPL-2.0"),
    ("MPLv1.1", "MPL-1.1"),
    ("MPLv1.0", "MPL-1.0"),
    ("Artistic 2.0", "Artistic-2.0"),
    ("Boost", "BSL-1.0"),
    ("zlib", "Zlib"),
    ("GPL+", "GPL-1.0-or-later"),
    ("LGPL+", "LGPL-2.0-or-later"),
    ("CC0", "CC0-1.0"),
];

/// An rpm `License:` as an SPDX expression when every term maps (Fedora short names first,
/// then [`license::normalize`]); otherwise the declared string, verbatim.
pub(crate) fn rpm_license(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let mut s = raw.to_string();
    for (from, to) in FEDORA_NAMES {
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while let Some(i) = rest.find(from) {
            let before = rest[..i].chars().next_back();
            let after = rest[i + from.len()..].chars().next();
            let bounded = |c: Option<char>| c.is_none_or(|c| c == ' ' || c == '(' || c == ')');
            out.push_str(&rest[..i]);
            out.push_str(if bounded(before) && bounded(after) {
                to
            } else {
                from
            });
            rest = &rest[i + from.len()..];
        }
        out.push_str(rest);
        s = out;
    }
    // rpm spells operators in lower case; SPDX wants them upper case.
    let s = s
        .replace(" and ", " AND ")
        .replace(" or ", " OR ")
        .replace(" with ", " WITH ");
    match license::normalize(&s) {
        Some(e) if spdx::Expression::parse(&e).is_ok() => Some(e),
        _ => Some(raw.to_string()),
    }
}

fn to_package(h: RpmHeader, path: &str, cx: &CatalogCx<'_>) -> Package {
    let mut p = Package {
        name: h.name.clone(),
        version: h.evr(),
        kind: PackageType::Rpm,
        arch: h.arch.clone(),
        locations: vec![cx.location(path)],
        licenses: h
            .license
            .as_deref()
            .and_then(rpm_license)
            .into_iter()
            .collect(),
        ..Package::default()
    };
    if let Some((sn, sv)) = h.source_rpm.as_deref().and_then(parse_source_rpm) {
        let vr = h.evr();
        let vr = vr.split_once(':').map(|(_, r)| r).unwrap_or(&vr);
        let differs = sv != vr;
        if sn != p.name || differs {
            p.source_name = Some(sn);
        }
        if differs {
            // The source rpm's file name has no epoch; the binary's applies.
            p.source_version = Some(match h.epoch {
                Some(e) => format!("{e}:{sv}"),
                None => sv,
            });
        }
    }
    if let Some(e) = h.epoch {
        p.metadata.insert("epoch".into(), e.into());
    }
    for (k, v) in [
        ("source_rpm", h.source_rpm),
        ("modularity_label", h.modularity_label),
        ("vendor", h.vendor),
    ] {
        if let Some(v) = v {
            p.metadata.insert(k.into(), v.into());
        }
    }
    p.files = h
        .files
        .into_iter()
        .filter(|f| {
            cx.entry(f)
                .is_none_or(|e| e.kind != crate::image::FileKind::Directory)
        })
        .collect();
    p
}

#[cfg(test)]
mod tests;
