//! [`Image`](crate::image::Image) → [`Inventory`]: the distro, every OS and language package,
//! the file list and the small text files gates read, plus the problems met on the way.
//!
//! - [`Cataloger`] is the extension point: one unit struct per ecosystem, listed once in
//!   [`CATALOGERS`]. Each declares the globs it reads; [`content_request`] is their union, so
//!   the image stage keeps exactly the bytes the catalogers need.
//! - [`run`] detects the distro ([`distro`]), runs every selected cataloger over the files its
//!   globs match (on all cores), applies the OS-ownership rule ([`ownership`]), fills PURLs
//!   ([`purl`]) and stable ids, and sorts the packages.
//! - [`sbom_input::read`] turns a CycloneDX / SPDX / syft JSON file into an [`Inventory`] for
//!   the `sbom:PATH` source.
//!
//! Does not: match vulnerabilities (`matcher`), scan secrets (the pipeline fills
//! `Inventory::secrets` from the image stage's content hits), touch the network or print.
//!
//! Invariants: malformed input never panics and never vanishes silently — every file a
//! cataloger could not read becomes a [`Problem`] naming it; packages are sorted by
//! (type, name, version, first path); `Package::id` is stable for the same image.

pub mod distro;
mod error;
pub mod lang;
pub mod license;
mod model;
pub mod os;
pub mod ownership;
mod parse;
pub mod purl;
pub mod sbom_input;
pub mod secrets;

pub use error::CatalogError;
pub use model::*;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use crate::image::{ContentRequest, FileEntry, FileKind, FileTree, Image};

/// What kind of evidence a cataloger reads; used by `--catalogers` selection and by the
/// default choice of catalogers per source kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Operating-system package databases.
    Os,
    /// Language ecosystems.
    Language,
    /// Evidence of something actually installed (package DBs, installed metadata, binaries).
    Installed,
    /// Declarations of what *would* be installed (lock files). Off by default for images,
    /// on for `dir:` sources, like syft.
    Declared,
    /// Reads compiled binaries.
    Binary,
}

impl Tag {
    /// The kebab-case name used in selectors.
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Os => "os",
            Tag::Language => "language",
            Tag::Installed => "installed",
            Tag::Declared => "declared",
            Tag::Binary => "binary",
        }
    }
}

/// One file handed to a cataloger: its metadata and retained bytes.
#[derive(Debug, Clone, Copy)]
pub struct FileRef<'a> {
    /// Absolute path inside the image.
    pub path: &'a str,
    /// Its metadata.
    pub entry: &'a FileEntry,
    /// Its bytes.
    pub data: &'a [u8],
}

/// Read access to the rest of the image for catalogers that combine several files (dpkg reads
/// `info/*.list` and copyright files next to `status`).
#[derive(Debug, Clone, Copy)]
pub struct CatalogCx<'a> {
    image: &'a Image,
    /// The detected distro, when there is one.
    pub distro: Option<&'a Distro>,
    /// The options of this run.
    pub opts: &'a CatalogOptions,
}

impl<'a> CatalogCx<'a> {
    /// Builds a context over `image`.
    pub fn new(image: &'a Image, distro: Option<&'a Distro>, opts: &'a CatalogOptions) -> Self {
        CatalogCx {
            image,
            distro,
            opts,
        }
    }

    /// The squashed filesystem.
    pub fn files(&self) -> &'a FileTree {
        &self.image.files
    }

    /// Retained bytes of `path` (declared in the cataloger's `globs` or `reads`).
    pub fn content(&self, path: &str) -> Option<&'a [u8]> {
        self.image.files.content(path)
    }

    /// Metadata of `path`.
    pub fn entry(&self, path: &str) -> Option<&'a FileEntry> {
        self.image.files.get(path)
    }

    /// A [`Location`] for `path`, attributed to the layer that last wrote it.
    pub fn location(&self, path: &str) -> Location {
        let layer_index = self.entry(path).map(|e| e.layer).unwrap_or(0);
        Location {
            path: path.to_string(),
            layer_digest: layer_digest(self.image, layer_index),
            layer_index,
        }
    }
}

fn layer_digest(image: &Image, index: usize) -> String {
    image
        .layers
        .get(index)
        .map(|l| {
            if l.diff_id.is_empty() {
                l.digest.clone()
            } else {
                l.diff_id.clone()
            }
        })
        .or_else(|| image.config.diff_ids.get(index).cloned())
        .unwrap_or_default()
}

/// What a cataloger found in one file: packages, plus problems with parts it had to skip.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Packages found (PURL and id may be left empty: [`run`] fills them).
    pub packages: Vec<Package>,
    /// Non-fatal problems (a skipped record, an unreadable side file).
    pub problems: Vec<Problem>,
}

impl Found {
    /// One problem about `path`, from `source`.
    pub fn problem(&mut self, source: &str, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            source: source.to_string(),
            path: Some(path.to_string()),
            message: message.into(),
        });
    }
}

/// One ecosystem's reader. Implementers are unit structs listed in [`CATALOGERS`]; they hold
/// no state, and configuration arrives through [`CatalogCx::opts`].
pub trait Cataloger: Sync {
    /// Kebab-case id, used in selectors and as `Package::found_by`.
    fn id(&self) -> &'static str;
    /// What kind of evidence it reads.
    fn tags(&self) -> &'static [Tag];
    /// Globs over absolute paths: each regular file matching one is handed to
    /// [`Cataloger::catalog`].
    fn globs(&self) -> &'static [&'static str];
    /// Further globs it may read through [`CatalogCx::content`] (side files such as dpkg
    /// `info/*.list`); they are retained but do not trigger `catalog`.
    fn reads(&self) -> &'static [&'static str] {
        &[]
    }
    /// True when it wants every retained executable (ELF, Mach-O, PE) as well.
    fn executables(&self) -> bool {
        false
    }
    /// Byte strings at least one of which is in every executable it can read (Go's build-info
    /// magic, a section name), so the image stage keeps only executables containing one.
    /// Empty (the default) means it needs every executable.
    fn executable_markers(&self) -> &'static [&'static [u8]] {
        &[]
    }
    /// Reads one file.
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError>;
}

/// Every cataloger, in the order their problems are reported.
pub static CATALOGERS: &[&dyn Cataloger] = &[
    &os::dpkg::DpkgCataloger,
    &os::apk::ApkCataloger,
    &os::rpm::RpmCataloger,
    &lang::python::PythonCataloger,
    &lang::npm::NpmPackageCataloger,
    &lang::npm::NpmLockCataloger,
    &lang::npm::YarnLockCataloger,
    &lang::npm::PnpmLockCataloger,
    &lang::go_binary::GoBinaryCataloger,
    &lang::java::JavaArchiveCataloger,
    &lang::cargo_auditable::CargoAuditableCataloger,
    &lang::rust::CargoLockCataloger,
    &lang::ruby::GemspecCataloger,
    &lang::ruby::GemfileLockCataloger,
    &lang::php::ComposerInstalledCataloger,
    &lang::php::ComposerLockCataloger,
    &lang::dotnet::DotnetDepsCataloger,
    &lang::dotnet::DotnetPackagesLockCataloger,
];

/// Caps for archives read inside archives (Java).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// How deep archives may nest inside each other (the outer archive is depth 1).
    pub max_depth: usize,
    /// Largest uncompressed size of one member read into memory.
    pub max_entry_bytes: u64,
    /// Largest total uncompressed bytes read from one outer archive, nested members included.
    pub max_total_bytes: u64,
    /// Largest uncompressed/compressed ratio of a member over 1 MiB (zip bombs).
    pub max_ratio: u64,
    /// Most entries one archive's central directory may list (checked before it is parsed).
    pub max_entries: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 4,
            max_entry_bytes: 64 * 1024 * 1024,
            max_total_bytes: 512 * 1024 * 1024,
            max_ratio: 200,
            max_entries: 200_000,
        }
    }
}

/// Options of one catalog run.
#[derive(Debug, Clone, Default)]
pub struct CatalogOptions {
    /// Run the [`Tag::Declared`] (lock-file) catalogers. `None` = on only for `dir:` sources.
    pub declared: Option<bool>,
    /// Selectors, applied in order: `id` or `tag` replaces the default set with the matches of
    /// all plain selectors; `+x` adds, `-x` removes (x = a cataloger id or a tag name).
    pub select: Vec<String>,
    /// Caps for nested archives.
    pub archive: ArchiveLimits,
}

impl CatalogOptions {
    /// The catalogers this run uses, in table order.
    pub fn selected(&self, source_scheme: &str) -> Vec<&'static dyn Cataloger> {
        let declared = self.declared.unwrap_or(source_scheme == "dir");
        let matches = |c: &dyn Cataloger, sel: &str| {
            c.id() == sel
                || c.id()
                    .strip_prefix(sel)
                    .is_some_and(|rest| rest.starts_with('-'))
                || c.tags().iter().any(|t| t.as_str() == sel)
        };
        let plain: Vec<&str> = self
            .select
            .iter()
            .map(String::as_str)
            .filter(|s| !s.starts_with('+') && !s.starts_with('-'))
            .collect();
        CATALOGERS
            .iter()
            .copied()
            .filter(|c| {
                let mut on = if plain.is_empty() {
                    declared || !c.tags().contains(&Tag::Declared)
                } else {
                    plain.iter().any(|s| matches(*c, s))
                };
                for sel in &self.select {
                    if let Some(s) = sel.strip_prefix('+') {
                        on |= matches(*c, s);
                    } else if let Some(s) = sel.strip_prefix('-') {
                        on &= !matches(*c, s);
                    }
                }
                on
            })
            .collect()
    }
}

/// Files retained for gates as text (`Inventory::retrieved_files`).
/// `/etc/shadow` is not among them: no default gate reads it and its hashes must not reach
/// reports (a bundle rule naming it gets it, masked by [`secrets::redact_retrieved`]).
pub const RETRIEVED_FILES: &[&str] = &["/etc/passwd", "/etc/group"];

/// What the catalog stage needs the image stage to keep: every cataloger's globs and side
/// files, executables (Go and Rust binaries), the distro files and [`RETRIEVED_FILES`].
pub fn content_request() -> ContentRequest {
    let mut globs: Vec<String> = Vec::new();
    for c in CATALOGERS {
        globs.extend(c.globs().iter().map(|g| (*g).to_string()));
        globs.extend(c.reads().iter().map(|g| (*g).to_string()));
    }
    globs.extend(distro::FILES.iter().map(|g| (*g).to_string()));
    globs.extend(RETRIEVED_FILES.iter().map(|g| (*g).to_string()));
    globs.sort();
    globs.dedup();
    // Executables are kept only when they carry a marker some binary cataloger reads, unless
    // one of them needs every executable.
    let exec: Vec<&dyn Cataloger> = CATALOGERS
        .iter()
        .copied()
        .filter(|c| c.executables())
        .collect();
    let executable_markers = if exec.iter().all(|c| !c.executable_markers().is_empty()) {
        exec.iter()
            .flat_map(|c| c.executable_markers().iter().map(|m| m.to_vec()))
            .collect()
    } else {
        Vec::new()
    };
    ContentRequest {
        globs,
        executables: !exec.is_empty(),
        executable_markers,
        max_file_size: 64 * 1024 * 1024,
        ..ContentRequest::default()
    }
}

/// Compiles one glob the way catalogers mean it: `*` stays within one path component, `**`
/// crosses any number.
pub(crate) fn compile_glob(glob: &str) -> Option<globset::Glob> {
    GlobBuilder::new(glob).literal_separator(true).build().ok()
}

/// True when `data` starts with an ELF, Mach-O (thin or fat) or PE (`MZ`) magic.
pub fn is_executable(data: &[u8]) -> bool {
    let Some(head) = data.get(..4) else {
        return false;
    };
    head == b"\x7fELF"
        || head == [0xfe, 0xed, 0xfa, 0xce]
        || head == [0xfe, 0xed, 0xfa, 0xcf]
        || head == [0xce, 0xfa, 0xed, 0xfe]
        || head == [0xcf, 0xfa, 0xed, 0xfe]
        || head == [0xca, 0xfe, 0xba, 0xbe]
        || head.starts_with(b"MZ")
}

struct Job<'a> {
    cataloger: &'static dyn Cataloger,
    entry: &'a FileEntry,
    data: Option<&'a [u8]>,
}

/// Catalogs `image`: distro, packages (sorted, with PURLs and ids), every file's metadata,
/// [`RETRIEVED_FILES`] as text, and the problems met. Never fails: unreadable inputs become
/// problems. `secrets` is left empty for the pipeline to fill.
pub fn run(image: &Image, opts: &CatalogOptions) -> Inventory {
    let mut problems = Vec::new();
    let mut detected = distro::detect(&image.files, &mut problems);
    let catalogers = opts.selected(&image.source.scheme);

    let mut set = GlobSetBuilder::new();
    let mut owners: Vec<usize> = Vec::new();
    for (ci, c) in catalogers.iter().enumerate() {
        for g in c.globs() {
            if let Some(glob) = compile_glob(g) {
                set.add(glob);
                owners.push(ci);
            }
        }
    }
    let set = set.build().unwrap_or_else(|_| GlobSet::empty());
    let exec_catalogers: Vec<&'static dyn Cataloger> = catalogers
        .iter()
        .copied()
        .filter(|c| c.executables())
        .collect();

    let mut jobs: Vec<Job<'_>> = Vec::new();
    let mut hits = Vec::new();
    for (path, entry) in &image.files.entries {
        if !matches!(entry.kind, FileKind::Regular | FileKind::Hardlink) {
            continue;
        }
        let data = image.files.content(path);
        set.matches_into(path.as_str(), &mut hits);
        let mut matched: Vec<usize> = hits
            .iter()
            .filter_map(|&i| owners.get(i).copied())
            .collect();
        matched.sort_unstable();
        matched.dedup();
        for ci in &matched {
            if let Some(c) = catalogers.get(*ci) {
                jobs.push(Job {
                    cataloger: *c,
                    entry,
                    data,
                });
            }
        }
        if matched.is_empty()
            && let Some(d) = data
            && is_executable(d)
        {
            for c in &exec_catalogers {
                jobs.push(Job {
                    cataloger: *c,
                    entry,
                    data,
                });
            }
        }
    }

    let cx = CatalogCx::new(image, detected.as_ref(), opts);
    let results = run_jobs(&jobs, &cx);
    let mut packages = Vec::new();
    for (found, problem) in results {
        packages.extend(found.packages);
        problems.extend(found.problems);
        problems.extend(problem);
    }

    if detected.is_none() {
        detected = distro::infer_from_packages(&packages);
    }
    ownership::apply(&mut packages);
    finish_packages(&mut packages, detected.as_ref());

    if detected.is_some() && !packages.iter().any(|p| p.kind.is_os()) {
        let id = detected.as_ref().map(|d| d.id.clone()).unwrap_or_default();
        problems.push(Problem {
            source: "catalog".into(),
            path: None,
            message: format!(
                "the image has an operating system (`{id}`) but no OS package was found: the package database is missing, empty or unreadable, so OS vulnerabilities cannot be matched"
            ),
        });
    }

    let mut retrieved_files = BTreeMap::new();
    for path in RETRIEVED_FILES {
        if let Some(data) = image.files.content(path) {
            retrieved_files.insert(
                (*path).to_string(),
                String::from_utf8_lossy(data).into_owned(),
            );
        }
    }

    Inventory {
        source: image.source.clone(),
        config: image.config.clone(),
        layers: image.layers.clone(),
        distro: detected,
        packages,
        files: image.files.entries.values().cloned().collect(),
        secrets: Vec::new(),
        retrieved_files,
        problems,
    }
}

/// Loads `reference` and catalogs it: an image through the image stage with
/// [`content_request`], or an `sbom:PATH` through [`sbom_input::read`]. Secrets are not
/// scanned here (that is the pipeline's), so this is what `tollgate sbom` runs.
pub async fn load(
    reference: &crate::image::Reference,
    load: &crate::image::LoadOptions,
    opts: &CatalogOptions,
) -> crate::Result<Inventory> {
    if let crate::image::Source::Sbom { path } = &reference.source {
        return Ok(sbom_input::read(path)?);
    }
    let image = crate::image::load(reference, load, &content_request()).await?;
    Ok(run(&image, opts))
}

/// What one job gave: its findings, or the problem that replaced them.
type JobResult = (Found, Option<Problem>);

/// Runs the jobs on all cores; results come back in job order so output is deterministic.
fn run_jobs(jobs: &[Job<'_>], cx: &CatalogCx<'_>) -> Vec<JobResult> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(jobs.len().max(1))
        .min(8);
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<JobResult>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            let out = run_one(job, cx);
            if let Ok(mut s) = slots.lock()
                && let Some(slot) = s.get_mut(i)
            {
                *slot = Some(out);
            }
        }
    };
    if workers <= 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(work);
            }
        });
    }
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn run_one(job: &Job<'_>, cx: &CatalogCx<'_>) -> JobResult {
    let id = job.cataloger.id();
    let path = job.entry.path.as_str();
    let Some(data) = job.data else {
        return (
            Found::default(),
            Some(Problem {
                source: id.to_string(),
                path: Some(path.to_string()),
                message: format!(
                    "file not read: its contents ({} bytes) were not retained by the image stage (over the size cap)",
                    job.entry.size
                ),
            }),
        );
    };
    let file = FileRef {
        path,
        entry: job.entry,
        data,
    };
    match job.cataloger.catalog(&file, cx) {
        Ok(mut found) => {
            for p in &mut found.packages {
                if p.found_by.is_empty() {
                    p.found_by = id.to_string();
                }
            }
            (found, None)
        }
        Err(e) => (
            Found::default(),
            Some(Problem {
                source: id.to_string(),
                path: Some(path.to_string()),
                message: e.to_string(),
            }),
        ),
    }
}

/// Fills PURLs and ids, merges exact duplicates (same type, name, version and first path
/// from two catalogers) and sorts by (type, name, version, first path).
pub(crate) fn finish_packages(packages: &mut Vec<Package>, distro: Option<&Distro>) {
    for p in packages.iter_mut() {
        if p.purl.is_empty() {
            p.purl = purl::package_purl(p, distro);
        }
        p.locations.dedup();
    }
    packages.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    packages.dedup_by(|b, a| {
        a.kind == b.kind
            && a.name == b.name
            && a.version == b.version
            && a.locations.first().map(|l| &l.path) == b.locations.first().map(|l| &l.path)
    });
    for p in packages.iter_mut() {
        p.id = package_id(p);
    }
}

fn sort_key(p: &Package) -> (PackageType, &str, &str, &str) {
    (
        p.kind,
        p.name.as_str(),
        p.version.as_str(),
        p.locations.first().map(|l| l.path.as_str()).unwrap_or(""),
    )
}

/// The stable id of a package: the first 16 hex digits of the SHA-256 of its type, name,
/// version and first location path.
pub fn package_id(p: &Package) -> String {
    let mut h = Sha256::new();
    for part in [
        p.kind.as_str(),
        p.name.as_str(),
        p.version.as_str(),
        p.locations.first().map(|l| l.path.as_str()).unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    hex::encode(&digest[..8])
}

/// Decodes text that should be UTF-8; invalid bytes become U+FFFD and `lossy` is set so the
/// caller can record a problem.
pub(crate) fn text(data: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(data) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(data), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for c in CATALOGERS {
            assert!(seen.insert(c.id()), "duplicate id {}", c.id());
            assert!(
                c.id()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                "{} is not kebab-case",
                c.id()
            );
            for g in c.globs().iter().chain(c.reads()) {
                assert!(compile_glob(g).is_some(), "bad glob {g} in {}", c.id());
            }
        }
    }

    #[test]
    fn globs_match_absolute_paths() {
        let g = compile_glob("**/node_modules/*/package.json")
            .unwrap()
            .compile_matcher();
        assert!(g.is_match("/app/node_modules/x/package.json"));
        assert!(!g.is_match("/app/node_modules/x/lib/package.json"));
        assert!(g.is_match("/a/node_modules/b/node_modules/c/package.json"));
    }

    #[test]
    fn declared_catalogers_follow_source_kind() {
        let opts = CatalogOptions::default();
        let image: Vec<_> = opts.selected("oci-dir").iter().map(|c| c.id()).collect();
        let dir: Vec<_> = opts.selected("dir").iter().map(|c| c.id()).collect();
        assert!(!image.contains(&"javascript-lock-cataloger"));
        assert!(dir.contains(&"javascript-lock-cataloger"));
        let only = CatalogOptions {
            select: vec!["python".into(), "+dpkg-db-cataloger".into()],
            ..Default::default()
        };
        let ids: Vec<_> = only.selected("oci-dir").iter().map(|c| c.id()).collect();
        assert_eq!(ids, vec!["dpkg-db-cataloger", "python-package-cataloger"]);
        let minus = CatalogOptions {
            select: vec!["-language".into()],
            ..Default::default()
        };
        assert!(
            minus
                .selected("oci-dir")
                .iter()
                .all(|c| c.tags().contains(&Tag::Os))
        );
    }

    #[test]
    fn content_request_covers_os_files() {
        let r = content_request();
        assert!(r.executables);
        for g in ["/var/lib/dpkg/status", "/etc/passwd", "/etc/os-release"] {
            assert!(r.globs.iter().any(|x| x == g), "{g} missing");
        }
    }
}
