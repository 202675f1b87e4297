//! Java archives (`.jar .war .ear .jpi .hpi` and the rarer `.par .sar .nar .kar .lpkg`) →
//! Maven packages, including archives nested inside archives (`WEB-INF/lib/*.jar`,
//! `BOOT-INF/lib/*.jar`, jars in ears), read from memory to a bounded depth.
//!
//! **Identity** of one archive, first match wins (as syft does):
//! 1. `META-INF/maven/<g>/<a>/pom.properties` (`groupId`, `artifactId`, `version`). An archive
//!    may hold several (shaded jars): each becomes a package. The archive's *own* package is the
//!    one whose `artifactId` matches the file name (`log4j-core-2.14.1.jar` →
//!    `log4j-core`), or the only one when there is just one and neither the file name's version
//!    nor the manifest's `Implementation-Version`/`Bundle-Version` contradicts it (else it is a
//!    shaded library and the archive's own identity comes from tier 3/4).
//! 2. `META-INF/maven/<g>/<a>/pom.xml` for a `<g>/<a>` directory without `pom.properties`
//!    (own coordinates, parent's group/version as fallback, simple `${…}` properties).
//! 3. `META-INF/MANIFEST.MF` main section, when it carries a version, combined with the file
//!    name the way syft does it: name = Jenkins `Short-Name`, else the file name's name part
//!    (`guice.jar` → `guice`; a Maven artifactId far more often than the manifest's titles), else
//!    `Implementation-Title` (when one word, not a prose title), else `Bundle-SymbolicName`
//!    (without `;attributes`), else `Specification-Title`, else `Automatic-Module-Name`;
//!    version = the file name's version (`asm-9.4.jar`), else `Implementation-Version`, else
//!    `Bundle-Version`, else `Specification-Version`, else (Jenkins) `Plugin-Version`; group =
//!    `Implementation-Vendor-Id`, else Jenkins `Group-Id`, else a reverse-domain
//!    `Bundle-SymbolicName` / `Automatic-Module-Name` / `Extension-Name` (`com.google.inject`),
//!    else none (the purl is then `pkg:maven/<name>@<version>`).
//! 4. The file name, `name-1.2.3.jar` (see [`filename`]); marked `metadata.evidence =
//!    "filename"` so the OS-ownership rule drops it when a distro package owns the file.
//!
//! When tier 1/2 found packages but none is the archive's own, the archive gets its own
//! package from tier 3/4 only if that has a version (a versionless wrapper is not a package).
//! Licenses: `Bundle-License` of the manifest (URLs of well-known licenses mapped to SPDX ids)
//! for the archive's own package, `<licenses>` of a pom.xml for its package.
//!
//! **Packages**: type `java-archive`, name = artifactId, `metadata.group_id` /
//! `metadata.artifact_id` (the purl `pkg:maven/<group>/<artifact>@<version>` and the matcher's
//! OSV `Maven` name `group:artifact` come from them), `metadata.evidence` (`pom.properties`,
//! `pom.xml`, `manifest`, `filename`), `metadata.pom_path` for pom-based ones. The location is
//! the outer file (path + layer); for nested archives its path is the nesting chain
//! `/app/x.war!/WEB-INF/lib/y.jar` (the OS-ownership rule reads the part before the first `!`).
//!
//! **Limits** ([`ArchiveLimits`], per outer file): nesting depth (outer = 1), entries in one
//! central directory (checked on the end-of-central-directory record *before* the directory is
//! parsed), bytes of one member read into memory, total bytes read from one outer file
//! (nested members included), and the uncompressed/compressed ratio of members over 1 MiB
//! (zip bombs; enforced on the bytes actually inflated, not only on the declared sizes). Each
//! cap hit is a problem naming the chain and what was skipped; the rest continues.
//!
//! **Fast**: only the central directory is parsed; only the manifest, pom files and nested
//! archives are read; class files are never inflated; stored (uncompressed) nested archives,
//! as Spring Boot writes them, are used in place without a copy.
//!
//! Does not: read `.class` files, shaded-class fingerprints, `.rar` resource adapters, or
//! native-image/jlink runtimes; compute archive digests; resolve Maven parents beyond the
//! `<parent>` element.

mod filename;
mod manifest;
mod pom;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::io::{Cursor, Read};

use zip::ZipArchive;

use super::super::{
    ArchiveLimits, CatalogCx, CatalogError, Cataloger, FileRef, Found, Location, Package,
    PackageType, Problem, Tag, ownership,
};

/// Java archives, nested ones included.
#[derive(Debug, Clone, Copy)]
pub struct JavaArchiveCataloger;

const ID: &str = "java-archive-cataloger";

/// Archive extensions opened, top-level and nested (lower case).
const EXTENSIONS: &[&str] = &[
    "jar", "war", "ear", "jpi", "hpi", "par", "sar", "nar", "kar", "lpkg",
];

/// Largest manifest / pom file read.
const MAX_METADATA_BYTES: u64 = 1024 * 1024;
/// Members below this size are never treated as bombs by ratio.
const RATIO_FLOOR: u64 = 1024 * 1024;

impl Cataloger for JavaArchiveCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &[
            "**/*.jar",
            "**/*.war",
            "**/*.ear",
            "**/*.jpi",
            "**/*.hpi",
            "**/*.par",
            "**/*.sar",
            "**/*.nar",
            "**/*.kar",
            "**/*.lpkg",
        ]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut walk = Walk {
            limits: &cx.opts.archive,
            outer: cx.location(file.path),
            used: 0,
            found: Found::default(),
        };
        walk.archive(file.data, file.path, 1)
            .map_err(|reason| CatalogError::malformed(ID, file.path, reason))?;
        Ok(walk.found)
    }
}

/// True when `name` ends with one of [`EXTENSIONS`] (case-insensitive).
fn is_archive_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && !stem.ends_with('/')
            && EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
    })
}

/// One outer file's traversal: limits, the bytes budget used so far, and the findings.
struct Walk<'l> {
    limits: &'l ArchiveLimits,
    outer: Location,
    used: u64,
    found: Found,
}

/// Why a member was not read.
enum Skip {
    /// A cap was hit (reported as an archive-limit problem).
    Limit(String),
    /// The member could not be read (reported as malformed).
    Broken(String),
}

/// The entries of one archive that matter.
#[derive(Default)]
struct Listing {
    manifest: Option<usize>,
    /// (index, member path, group dir, artifact dir)
    pom_properties: Vec<(usize, String, String, String)>,
    pom_xml: Vec<(usize, String, String, String)>,
    nested: Vec<(usize, String)>,
}

impl Walk<'_> {
    fn problem(&mut self, path: &str, err: CatalogError) {
        self.found.problems.push(Problem {
            source: ID.to_string(),
            path: Some(path.to_string()),
            message: err.to_string(),
        });
    }

    fn limit(&mut self, path: &str, reason: String) {
        self.problem(
            path,
            CatalogError::ArchiveLimit {
                path: path.to_string(),
                reason,
            },
        );
    }

    /// Catalogs the archive `data` found at `chain` (nesting `depth`, outer = 1). An error is
    /// the reason the archive as a whole could not be read.
    fn archive(&mut self, data: &[u8], chain: &str, depth: usize) -> Result<(), String> {
        if let Some(n) = declared_entries(data)
            && n > self.limits.max_entries as u64
        {
            self.limit(
                chain,
                format!(
                    "its central directory declares {n} entries, over the cap of {}; the archive and everything nested in it was not read",
                    self.limits.max_entries
                ),
            );
            return Ok(());
        }
        let mut zip = ZipArchive::new(Cursor::new(data))
            .map_err(|e| format!("not a readable zip archive: {e}"))?;
        if zip.len() > self.limits.max_entries {
            self.limit(
                chain,
                format!(
                    "{} entries, over the cap of {}; the archive and everything nested in it was not read",
                    zip.len(),
                    self.limits.max_entries
                ),
            );
            return Ok(());
        }
        let listing = list(&zip);

        let mut lossy_manifest = false;
        let manifest = match listing.manifest {
            Some(i) => {
                let member = format!("{chain}!/META-INF/MANIFEST.MF");
                match self.read(&mut zip, data, i, MAX_METADATA_BYTES) {
                    Ok(bytes) => {
                        let (text, lossy) = super::super::text(&bytes);
                        lossy_manifest = lossy;
                        Some(manifest::Manifest::parse(manifest::main_section(&text)))
                    }
                    Err(skip) => {
                        self.skipped(&member, skip, "manifest not read");
                        None
                    }
                }
            }
            None => None,
        };
        if lossy_manifest {
            self.found.problem(
                ID,
                &format!("{chain}!/META-INF/MANIFEST.MF"),
                "not valid UTF-8; invalid bytes replaced with U+FFFD",
            );
        }

        let mut coords: Vec<(pom::Coordinates, String, &'static str)> = Vec::new();
        for (i, path, g, a) in &listing.pom_properties {
            let member = format!("{chain}!/{path}");
            match self.read(&mut zip, data, *i, MAX_METADATA_BYTES) {
                Ok(bytes) => {
                    let (text, lossy) = super::super::text(&bytes);
                    if lossy {
                        self.found.problem(
                            ID,
                            &member,
                            "not valid UTF-8; invalid bytes replaced with U+FFFD",
                        );
                    }
                    let mut c = pom::from_properties(&text);
                    fill_from_dirs(&mut c, g, a);
                    if c.version.is_empty() {
                        self.found
                            .problem(ID, &member, "no `version` property; entry skipped");
                        continue;
                    }
                    coords.push((c, path.clone(), "pom.properties"));
                }
                Err(skip) => self.skipped(&member, skip, "pom.properties not read"),
            }
        }
        for (i, path, g, a) in &listing.pom_xml {
            if listing
                .pom_properties
                .iter()
                .any(|(_, _, pg, pa)| pg == g && pa == a)
            {
                continue;
            }
            let member = format!("{chain}!/{path}");
            match self.read(&mut zip, data, *i, MAX_METADATA_BYTES) {
                Ok(bytes) => {
                    let (text, _) = super::super::text(&bytes);
                    let mut c = pom::from_pom_xml(&text);
                    fill_from_dirs(&mut c, g, a);
                    if c.version.is_empty() {
                        self.found.problem(
                            ID,
                            &member,
                            "no resolvable `<version>` (own or parent); entry skipped",
                        );
                        continue;
                    }
                    coords.push((c, path.clone(), "pom.xml"));
                }
                Err(skip) => self.skipped(&member, skip, "pom.xml not read"),
            }
        }

        self.identify(chain, manifest.as_ref(), coords);

        for (i, name) in &listing.nested {
            let member = format!("{chain}!/{name}");
            if depth >= self.limits.max_depth {
                self.limit(
                    &member,
                    format!(
                        "nested {} levels deep, over the depth cap of {}; not opened",
                        depth + 1,
                        self.limits.max_depth
                    ),
                );
                continue;
            }
            let cap = self.limits.max_entry_bytes;
            match self.read(&mut zip, data, *i, cap) {
                Ok(bytes) => {
                    if let Err(reason) = self.archive(&bytes, &member, depth + 1) {
                        self.problem(&member, CatalogError::malformed(ID, &member, reason));
                    }
                }
                Err(skip) => self.skipped(&member, skip, "nested archive not opened"),
            }
        }
        Ok(())
    }

    fn skipped(&mut self, member: &str, skip: Skip, what: &str) {
        match skip {
            Skip::Limit(reason) => self.limit(member, format!("{reason}; {what}")),
            Skip::Broken(reason) => self.problem(
                member,
                CatalogError::malformed(ID, member, format!("{reason}; {what}")),
            ),
        }
    }

    /// Reads member `index` of `zip` (whose bytes are `data`) within the caps: at most `cap`
    /// bytes, the remaining total budget, and the compression-ratio cap. Stored members are
    /// borrowed from `data`.
    fn read<'d>(
        &mut self,
        zip: &mut ZipArchive<Cursor<&'d [u8]>>,
        data: &'d [u8],
        index: usize,
        cap: u64,
    ) -> Result<Cow<'d, [u8]>, Skip> {
        let (size, compressed, encrypted, method) = {
            let e = zip
                .by_index_data(index)
                .map_err(|e| Skip::Broken(e.to_string()))?;
            (
                e.size(),
                e.compressed_size(),
                e.encrypted(),
                e.compression(),
            )
        };
        if encrypted {
            return Err(Skip::Broken("encrypted member".into()));
        }
        let remaining = self.limits.max_total_bytes.saturating_sub(self.used);
        if size > cap {
            return Err(Skip::Limit(format!(
                "declares {size} bytes uncompressed, over the per-member cap of {cap}"
            )));
        }
        if size > remaining {
            return Err(Skip::Limit(format!(
                "declares {size} bytes uncompressed, over the {remaining} bytes left of the {}-byte total cap for this archive",
                self.limits.max_total_bytes
            )));
        }
        let ratio_cap = compressed
            .saturating_mul(self.limits.max_ratio)
            .max(RATIO_FLOOR);
        if size > ratio_cap {
            return Err(Skip::Limit(format!(
                "compression ratio over {}:1 ({size} bytes from {compressed}), a likely zip bomb",
                self.limits.max_ratio
            )));
        }
        if method == zip::CompressionMethod::Stored && compressed == size {
            let file = zip
                .by_index_raw(index)
                .map_err(|e| Skip::Broken(e.to_string()))?;
            let start = file
                .data_start()
                .and_then(|s| usize::try_from(s).ok())
                .ok_or_else(|| Skip::Broken("no data offset".into()))?;
            let len = usize::try_from(size).map_err(|_| Skip::Broken("too large".into()))?;
            let slice = start
                .checked_add(len)
                .and_then(|end| data.get(start..end))
                .ok_or_else(|| {
                    Skip::Broken("member data runs past the end of the archive".into())
                })?;
            self.used += size;
            return Ok(Cow::Borrowed(slice));
        }
        // Inflate, trusting no declared size: stop one byte past the tightest cap.
        let limit = cap.min(remaining).min(ratio_cap);
        let mut out = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
        let result = zip
            .by_index(index)
            .map_err(|e| Skip::Broken(e.to_string()))
            .and_then(|f| {
                f.take(limit + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| Skip::Broken(e.to_string()))
            });
        self.used += out.len() as u64;
        result?;
        if out.len() as u64 > limit {
            return Err(Skip::Limit(format!(
                "inflates past {limit} bytes (declared {size}; caps: member {cap}, total left {remaining}, ratio {}:1), a likely zip bomb",
                self.limits.max_ratio
            )));
        }
        Ok(Cow::Owned(out))
    }

    /// Turns what one archive holds into packages (see the module doc for the precedence).
    fn identify(
        &mut self,
        chain: &str,
        manifest: Option<&manifest::Manifest>,
        coords: Vec<(pom::Coordinates, String, &'static str)>,
    ) {
        let file_name = chain.rsplit(['/', '!']).next().unwrap_or(chain);
        let (file_stem_name, file_version) = filename::split(file_name);
        let stem = file_name
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or(file_name);
        let own = coords
            .iter()
            .position(|(c, _, _)| {
                c.artifact == file_stem_name
                    || stem == c.artifact
                    || stem == format!("{}-{}", c.artifact, c.version)
            })
            .or_else(|| {
                // A lone pom whose artifactId does not match the file name is still the
                // archive's own (a renamed `app.jar`) unless the file name's or the manifest's
                // version says otherwise (`guice-4.2.3.jar` shading one cglib pom).
                let [(c, _, _)] = coords.as_slice() else {
                    return None;
                };
                let manifest_version = manifest.and_then(|m| {
                    ["Implementation-Version", "Bundle-Version"]
                        .iter()
                        .find_map(|k| m.get(k))
                });
                let agrees = |v: Option<&str>| v.is_none_or(|v| v.is_empty() || v == c.version);
                (agrees(Some(file_version.as_str())) && agrees(manifest_version)).then_some(0)
            });
        let manifest_licenses: Vec<String> = manifest
            .and_then(|m| m.get("Bundle-License"))
            .map(manifest::bundle_licenses)
            .unwrap_or_default();
        let location = Location {
            path: chain.to_string(),
            ..self.outer.clone()
        };
        let had_coords = !coords.is_empty();
        for (i, (c, pom_path, evidence)) in coords.into_iter().enumerate() {
            let is_own = Some(i) == own;
            let mut p = package(&c.artifact, &c.version, &c.group, &location, evidence);
            p.metadata.insert("pom_path".into(), pom_path.into());
            if let Some(n) = c.name.filter(|n| !n.is_empty()) {
                p.metadata.insert("pom_name".into(), n.into());
            }
            p.licenses = c
                .licenses
                .iter()
                .filter_map(|l| manifest::license_name(l))
                .collect();
            if is_own {
                for l in &manifest_licenses {
                    if !p.licenses.contains(l) {
                        p.licenses.push(l.clone());
                    }
                }
            } else {
                // Shaded into an archive whose own identity is another one (or unknown).
                p.metadata.insert("shaded".into(), true.into());
            }
            self.found.packages.push(p);
        }
        if own.is_some() {
            return;
        }
        let from_manifest =
            manifest.and_then(|m| manifest_identity(m, &file_stem_name, &file_version));
        let mut p = match from_manifest {
            Some((name, version, group)) => {
                let mut p = package(&name, &version, &group, &location, "manifest");
                if let Some(m) = manifest {
                    for (key, meta) in [
                        ("Implementation-Title", "implementation_title"),
                        ("Bundle-SymbolicName", "bundle_symbolic_name"),
                        ("Automatic-Module-Name", "automatic_module_name"),
                        ("Main-Class", "main_class"),
                    ] {
                        if let Some(v) = m.get(key) {
                            p.metadata.insert(meta.into(), v.into());
                        }
                    }
                }
                p
            }
            None => {
                if had_coords && file_version.is_empty() {
                    return;
                }
                if file_stem_name.is_empty() {
                    return;
                }
                let mut p = package(&file_stem_name, &file_version, "", &location, "filename");
                p.metadata
                    .insert(ownership::EVIDENCE_KEY.into(), "filename".into());
                p
            }
        };
        if had_coords && p.version.is_empty() {
            return;
        }
        if manifest
            .is_some_and(|m| m.get("Short-Name").is_some() && m.get("Plugin-Version").is_some())
        {
            p.metadata
                .insert("java_type".into(), "jenkins-plugin".into());
        }
        p.licenses = manifest_licenses;
        self.found.packages.push(p);
    }
}

/// A `java-archive` package with the common metadata.
fn package(name: &str, version: &str, group: &str, location: &Location, evidence: &str) -> Package {
    let mut p = Package {
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageType::JavaArchive,
        locations: vec![location.clone()],
        ..Package::default()
    };
    if !group.is_empty() {
        p.metadata.insert("group_id".into(), group.into());
    }
    p.metadata.insert("artifact_id".into(), name.into());
    p.metadata
        .insert(ownership::EVIDENCE_KEY.into(), evidence.into());
    p
}

/// (name, version, group) for an archive without its own pom, from its manifest and file
/// name, as syft chooses them; `None` when the manifest has no version.
fn manifest_identity(
    m: &manifest::Manifest,
    file_name: &str,
    file_version: &str,
) -> Option<(String, String, String)> {
    let manifest_version = [
        "Implementation-Version",
        "Bundle-Version",
        "Specification-Version",
        "Plugin-Version",
    ]
    .iter()
    .find_map(|k| m.get(k))?;
    let version = if file_version.is_empty() {
        manifest_version
    } else {
        file_version
    };
    let one_word = |v: &&str| !v.is_empty() && !v.chars().any(char::is_whitespace);
    let symbolic = m
        .get("Bundle-SymbolicName")
        .map(|v| v.split(';').next().unwrap_or(v).trim())
        .filter(one_word);
    let name = m
        .get("Short-Name")
        .filter(one_word)
        .or(Some(file_name).filter(one_word))
        .or_else(|| m.get("Implementation-Title").filter(one_word))
        .or(symbolic)
        .or_else(|| m.get("Specification-Title").filter(one_word))
        .or_else(|| m.get("Automatic-Module-Name").filter(one_word))?
        .to_string();
    let group = m
        .get("Implementation-Vendor-Id")
        .or_else(|| m.get("Group-Id"))
        .filter(one_word)
        .or_else(|| {
            symbolic
                .or_else(|| m.get("Automatic-Module-Name"))
                .or_else(|| m.get("Extension-Name"))
                .filter(|v| looks_like_package(v))
        })
        .unwrap_or("")
        .to_string();
    Some((name, version.to_string(), group))
}

/// A reverse-domain Java package name (`org.objectweb.asm`, `com.google.inject`).
fn looks_like_package(v: &str) -> bool {
    const TLDS: &[&str] = &[
        "org", "com", "io", "net", "javax", "jakarta", "edu", "dev", "ch", "de", "fr", "uk", "eu",
        "info", "me",
    ];
    let mut labels = v.split('.');
    labels.next().is_some_and(|first| TLDS.contains(&first))
        && v.split('.').count() >= 2
        && v.split('.').all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// Group and artifact from the `META-INF/maven/<g>/<a>/` directory when the file omits them.
fn fill_from_dirs(c: &mut pom::Coordinates, group: &str, artifact: &str) {
    if c.group.is_empty() {
        c.group = group.to_string();
    }
    if c.artifact.is_empty() {
        c.artifact = artifact.to_string();
    }
}

/// The members that matter, from the central directory only.
fn list(zip: &ZipArchive<Cursor<&[u8]>>) -> Listing {
    let mut l = Listing::default();
    for (i, raw) in zip.file_names_raw().enumerate() {
        let name = String::from_utf8_lossy(raw);
        if name.ends_with('/') {
            continue;
        }
        if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            if l.manifest.is_none() {
                l.manifest = Some(i);
            }
            continue;
        }
        if let Some(rest) = name.strip_prefix("META-INF/maven/") {
            let parts: Vec<&str> = rest.split('/').collect();
            if let [g, a, file] = parts.as_slice()
                && !g.is_empty()
                && !a.is_empty()
            {
                let entry = (i, name.to_string(), (*g).to_string(), (*a).to_string());
                match *file {
                    "pom.properties" => l.pom_properties.push(entry),
                    "pom.xml" => l.pom_xml.push(entry),
                    _ => {}
                }
            }
            continue;
        }
        if is_archive_name(&name) {
            l.nested.push((i, name.into_owned()));
        }
    }
    l
}

/// The largest entry count declared by an end-of-central-directory record in the tail of
/// `data` (for zip64 archives, by the zip64 record its locator points to). `None` when there
/// is none (the zip reader then reports the damage).
fn declared_entries(data: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const LOCATOR64: &[u8] = b"PK\x06\x07";
    const EOCD64: &[u8] = b"PK\x06\x06";
    let u16_at = |at: usize| {
        data.get(at..at + 2)
            .and_then(|s| <[u8; 2]>::try_from(s).ok())
            .map(|b| u64::from(u16::from_le_bytes(b)))
    };
    let u64_at = |at: usize| {
        data.get(at..at + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map(u64::from_le_bytes)
    };
    let tail_start = data.len().saturating_sub(22 + 65_535);
    let mut most: Option<u64> = None;
    for i in tail_start..data.len().saturating_sub(21) {
        if data.get(i..i + 4) != Some(EOCD) {
            continue;
        }
        let Some(mut n) = u16_at(i + 10) else {
            continue;
        };
        if n == 0xFFFF
            && let Some(loc) = i.checked_sub(20)
            && data.get(loc..loc + 4) == Some(LOCATOR64)
            && let Some(off) = u64_at(loc + 8).and_then(|o| usize::try_from(o).ok())
            && data.get(off..off.saturating_add(4)) == Some(EOCD64)
            && let Some(n64) = u64_at(off + 32)
        {
            n = n64;
        }
        most = Some(most.map_or(n, |m| m.max(n)));
    }
    most
}
