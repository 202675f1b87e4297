//! One layer blob → [`LayerRead`]: its entries (metadata), whiteouts, retained contents and
//! content-scanner hits, read in a single streaming pass.
//!
//! This is the only place that interprets tar entries, so all hostile-input rules live here:
//! entry paths are normalised to absolute `..`-free paths and an entry climbing above the root
//! is an error ([`ImageError::PathEscape`]); hard-link targets obey the same rule; symlink
//! targets are kept as written (they are resolved inside the root by [`super::FileTree::resolve`]);
//! device files and fifos are recorded, never created; decompressed bytes are counted against
//! an image-wide [`Budget`] (bomb cap); contents are read only for requested files and never
//! beyond the request's size caps; the blob digest (or the uncompressed diff_id) is verified
//! while streaming and checked after the stream ends. Nothing is written to disk.
//!
//! It does not apply whiteouts or resolve hard links across layers (that is [`super::squash`]).

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use super::error::ImageError;
use super::model::{ContentHit, ContentRequest, ContentScanner, FileEntry, FileKind};

/// The image-wide cap on decompressed bytes, shared by all layer readers of one image.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicU64,
    limit: u64,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Self {
        Budget {
            used: AtomicU64::new(0),
            limit,
        }
    }
}

/// Marker carried inside an `io::Error` when the budget is exhausted.
#[derive(Debug)]
struct BudgetExceeded;

impl std::fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("decompressed size limit exceeded")
    }
}

impl std::error::Error for BudgetExceeded {}

/// What to check a layer's bytes against.
#[derive(Debug, Clone)]
pub(crate) enum Verify {
    /// The stored blob must hash to this digest.
    Blob(String),
    /// The uncompressed tar must hash to this diff_id (docker-archive legacy layers).
    Uncompressed(String),
    /// Nothing to verify against.
    None,
}

/// What was kept of one file: its retained bytes (if kept) and scanner hits.
pub(crate) type Processed = (Option<Arc<[u8]>>, Vec<ContentHit>);

/// The compiled form of a [`ContentRequest`].
#[derive(Debug)]
pub(crate) struct Wants {
    globs: GlobSet,
    executables: bool,
    max_file_size: u64,
    max_binary_size: u64,
    /// Finds any of the request's executable markers; `None` keeps every executable.
    markers: Option<aho_corasick::AhoCorasick>,
    scanners: Vec<Arc<dyn ContentScanner>>,
}

impl Wants {
    /// Compiles the request's globs. A glob not starting with `/` or `*` is anchored at the root.
    pub(crate) fn new(request: &ContentRequest) -> Result<Self, ImageError> {
        let mut b = GlobSetBuilder::new();
        for g in &request.globs {
            b.add(compile_glob(g)?);
        }
        let globs = b.build().map_err(|e| ImageError::InvalidReference {
            input: request.globs.join(" "),
            reason: e.to_string(),
        })?;
        // No markers, or an empty one (found in every file): keep every executable.
        let markers = if request.executable_markers.is_empty()
            || request.executable_markers.iter().any(Vec::is_empty)
        {
            None
        } else {
            Some(
                aho_corasick::AhoCorasick::new(&request.executable_markers).map_err(|e| {
                    ImageError::Internal(format!("executable markers do not compile: {e}"))
                })?,
            )
        };
        Ok(Wants {
            globs,
            executables: request.executables,
            max_file_size: request.max_file_size,
            max_binary_size: request.max_binary_size,
            markers,
            scanners: request.scanners.clone(),
        })
    }

    pub(crate) fn keeps_glob(&self, path: &str) -> bool {
        !self.globs.is_empty() && self.globs.is_match(path)
    }

    /// Whether any content work might be needed for a regular file of this size.
    fn any(&self) -> bool {
        !self.globs.is_empty() || self.executables || !self.scanners.is_empty()
    }

    /// Decides what to do with one regular file's content, reading from `read`.
    /// Returns the retained bytes (if kept) and the scanner hits.
    pub(crate) fn process<R: Read>(
        &self,
        path: &str,
        size: u64,
        read: &mut R,
    ) -> io::Result<Processed> {
        if !self.any() {
            return Ok((None, Vec::new()));
        }
        let want_glob = size <= self.max_file_size && self.keeps_glob(path);
        let scanners: Vec<&Arc<dyn ContentScanner>> = self
            .scanners
            .iter()
            .filter(|s| s.wants(path, size))
            .collect();
        let exec_possible = self.executables && size >= 4 && size <= self.max_binary_size;
        if !want_glob && scanners.is_empty() && !exec_possible {
            return Ok((None, Vec::new()));
        }
        let mut data: Vec<u8> = Vec::new();
        let mut is_exec = false;
        if exec_possible {
            let mut magic = [0u8; 4];
            read.read_exact(&mut magic)?;
            is_exec = is_executable_magic(&magic);
            data.extend_from_slice(&magic);
            if !is_exec && !want_glob && scanners.is_empty() {
                return Ok((None, Vec::new()));
            }
            if is_exec
                && !want_glob
                && let Some(markers) = &self.markers
            {
                return self.filter_executable(path, size, magic, read, markers, &scanners);
            }
        }
        let target = if is_exec {
            size
        } else {
            size.min(self.max_file_size)
        };
        let have = data.len() as u64;
        if target > have {
            // `target` is bounded by the request's caps, so this allocation is too.
            data.reserve_exact((target - have) as usize);
            let got = read.take(target - have).read_to_end(&mut data)? as u64;
            if got < target - have {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file data ends before its declared size",
                ));
            }
        }
        let mut hits = Vec::new();
        let scan_len = data
            .len()
            .min(usize::try_from(self.max_file_size).unwrap_or(usize::MAX));
        for s in scanners {
            hits.extend(s.scan(path, &data[..scan_len]));
        }
        // An executable without any requested marker is not kept (unless a glob asked for it).
        let is_wanted_exec = is_exec
            && self
                .markers
                .as_ref()
                .is_none_or(|m| m.find(&data[..]).is_some());
        let keep = is_wanted_exec || (want_glob && data.len() as u64 == size);
        Ok((keep.then(|| Arc::from(data.into_boxed_slice())), hits))
    }
}

thread_local! {
    /// Per-thread buffer executables are read into while looking for markers, reused from file
    /// to file so most of them (shared libraries) cost no allocation, zeroing or page faults.
    static EXEC_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Buffers above this size are freed after use instead of being kept for the next file.
const EXEC_BUF_KEEP: usize = 64 * 1024 * 1024;

impl Wants {
    /// Reads one executable (its 4 magic bytes already read) into the thread's reused buffer,
    /// runs the scanners over it and keeps a copy only when it contains one of `markers`.
    fn filter_executable<R: Read>(
        &self,
        path: &str,
        size: u64,
        magic: [u8; 4],
        read: &mut R,
        markers: &aho_corasick::AhoCorasick,
        scanners: &[&Arc<dyn ContentScanner>],
    ) -> io::Result<Processed> {
        // `size` is at most `max_binary_size` (checked by the caller), so this is bounded.
        let n = usize::try_from(size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
        EXEC_BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            if buf.len() < n {
                buf.resize(n, 0);
            }
            buf[..4].copy_from_slice(&magic);
            let result = read.read_exact(&mut buf[4..n]).map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file data ends before its declared size",
                    )
                } else {
                    e
                }
            });
            let out = result.map(|()| {
                let data = &buf[..n];
                let scan_len = n.min(usize::try_from(self.max_file_size).unwrap_or(usize::MAX));
                let mut hits = Vec::new();
                for s in scanners {
                    hits.extend(s.scan(path, &data[..scan_len]));
                }
                let keep = markers.find(data).is_some();
                (keep.then(|| Arc::from(data)), hits)
            });
            if buf.len() > EXEC_BUF_KEEP {
                *buf = Vec::new();
            }
            out
        })
    }
}

/// A set of path globs with the image stage's anchoring rules: a glob not starting with `/` or
/// `*` is anchored at the root, and `*` does not cross `/` (use `**`).
#[derive(Debug, Clone)]
pub struct PathGlobs {
    set: GlobSet,
}

impl PathGlobs {
    /// Compiles `globs`.
    pub fn new(globs: &[String]) -> Result<Self, ImageError> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            b.add(compile_glob(g)?);
        }
        let set = b.build().map_err(|e| ImageError::InvalidReference {
            input: globs.join(" "),
            reason: e.to_string(),
        })?;
        Ok(PathGlobs { set })
    }

    /// Whether `path` (absolute) matches any glob; an empty set matches everything.
    pub fn is_match(&self, path: &str) -> bool {
        self.set.is_empty() || self.set.is_match(path)
    }
}

/// Compiles one user glob (see [`Wants::new`] for anchoring).
pub(crate) fn compile_glob(g: &str) -> Result<globset::Glob, ImageError> {
    let anchored = if g.starts_with('/') || g.starts_with('*') {
        g.to_string()
    } else {
        format!("/{g}")
    };
    GlobBuilder::new(&anchored)
        .literal_separator(true)
        .build()
        .map_err(|e| ImageError::InvalidReference {
            input: g.to_string(),
            reason: format!("bad glob: {e}"),
        })
}

fn is_executable_magic(m: &[u8; 4]) -> bool {
    matches!(
        m,
        [0x7f, b'E', b'L', b'F']
            | [0xfe, 0xed, 0xfa, 0xce]
            | [0xfe, 0xed, 0xfa, 0xcf]
            | [0xce, 0xfa, 0xed, 0xfe]
            | [0xcf, 0xfa, 0xed, 0xfe]
            | [0xca, 0xfe, 0xba, 0xbe]
    ) || m[..2] == *b"MZ"
}

/// One entry of a layer with what was read of it.
#[derive(Debug)]
pub(crate) struct LayerEntry {
    pub(crate) entry: FileEntry,
    pub(crate) content: Option<Arc<[u8]>>,
    pub(crate) hits: Vec<ContentHit>,
}

/// Everything one layer contributes, in tar order.
#[derive(Debug, Default)]
pub(crate) struct LayerRead {
    /// Added or replaced entries (whiteout markers excluded), in tar order.
    pub(crate) entries: Vec<LayerEntry>,
    /// Paths deleted from lower layers (`.wh.NAME`).
    pub(crate) whiteouts: Vec<String>,
    /// Directories whose lower-layer children are hidden (`.wh..wh..opq`).
    pub(crate) opaque: Vec<String>,
    /// Bytes of uncompressed tar streamed.
    pub(crate) uncompressed_size: u64,
    /// `sha256:` of the uncompressed tar, when it was computed.
    pub(crate) diff_id: Option<String>,
}

/// Where a layer stream is and what it is called, for errors.
#[derive(Debug)]
pub(crate) struct LayerCtx<'a> {
    /// Layer index in the image.
    pub(crate) index: usize,
    /// The layer's digest (or archive member name) for messages.
    pub(crate) label: &'a str,
    /// The source location for digest-mismatch messages.
    pub(crate) location: &'a str,
    /// What to verify.
    pub(crate) verify: &'a Verify,
    /// The image-wide decompression budget.
    pub(crate) budget: &'a Budget,
}

struct HashReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

impl<R> HashReader<R> {
    fn finish(&mut self) -> Option<String> {
        self.hasher
            .take()
            .map(|h| format!("sha256:{}", hex::encode(h.finalize())))
    }
}

struct Counting<'a, R> {
    inner: R,
    budget: &'a Budget,
    position: &'a Cell<u64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position.set(self.position.get() + n as u64);
        let used = self.budget.used.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if used > self.budget.limit {
            return Err(io::Error::other(BudgetExceeded));
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Tar,
    Gzip,
    Zstd,
}

fn detect(magic: &[u8]) -> Result<Compression, &'static str> {
    match magic {
        [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Compression::Zstd),
        [b'B', b'Z', b'h', ..] => Err("bzip2"),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => Err("xz"),
        _ => Ok(Compression::Tar),
    }
}

/// Output block size for decompressors.
const DECODE_BUF: usize = 256 * 1024;

/// Reads one layer blob from `raw` (the stored bytes) in one pass.
pub(crate) fn read_layer<R: Read>(
    raw: R,
    ctx: &LayerCtx<'_>,
    wants: &Wants,
) -> Result<LayerRead, ImageError> {
    let position = Cell::new(0u64);
    let corrupt = |source: io::Error| map_io(source, ctx, position.get());
    let mut raw = HashReader {
        inner: raw,
        hasher: matches!(ctx.verify, Verify::Blob(_)).then(Sha256::new),
    };
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut raw, &mut magic).map_err(&corrupt)?;
    let compression = detect(&magic[..n]).map_err(|c| ImageError::UnsupportedCompression {
        layer: ctx.label.to_string(),
        compression: c,
    })?;
    let mut out = LayerRead::default();
    {
        let src = io::Cursor::new(&magic[..n]).chain(&mut raw);
        let decoded: Box<dyn Read + '_> = match compression {
            Compression::Tar => Box::new(src),
            // Decompress in large blocks: tar reads 512-byte headers, and small reads
            // straight from the decoder cost a decoder call each.
            Compression::Gzip => Box::new(io::BufReader::with_capacity(
                DECODE_BUF,
                flate2::read::MultiGzDecoder::new(src),
            )),
            Compression::Zstd => Box::new(io::BufReader::with_capacity(
                DECODE_BUF,
                zstd::Decoder::new(src).map_err(&corrupt)?,
            )),
        };
        let mut plain = HashReader {
            inner: Counting {
                inner: decoded,
                budget: ctx.budget,
                position: &position,
            },
            hasher: matches!(ctx.verify, Verify::Uncompressed(_)).then(Sha256::new),
        };
        {
            let mut archive = tar::Archive::new(&mut plain);
            let entries = archive.entries().map_err(&corrupt)?;
            walk(entries, ctx, wants, &mut out, &position, None)?;
        }
        // Drain the tar padding and anything after it, so the digests cover the whole blob.
        io::copy(&mut plain, &mut io::sink()).map_err(&corrupt)?;
        out.uncompressed_size = position.get();
        out.diff_id = plain.finish();
    }
    io::copy(&mut raw, &mut io::sink()).map_err(&corrupt)?;
    let blob_digest = raw.finish();
    let (expected, actual) = match ctx.verify {
        Verify::Blob(d) => (Some(d), blob_digest),
        Verify::Uncompressed(d) => (Some(d), out.diff_id.clone()),
        Verify::None => (None, None),
    };
    if let (Some(expected), Some(actual)) = (expected, actual)
        && !expected.eq_ignore_ascii_case(&actual)
    {
        return Err(ImageError::DigestMismatch {
            expected: expected.clone(),
            actual,
            location: ctx.location.to_string(),
        });
    }
    Ok(out)
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn map_io(source: io::Error, ctx: &LayerCtx<'_>, offset: u64) -> ImageError {
    let is_budget = source
        .get_ref()
        .is_some_and(|e| e.downcast_ref::<BudgetExceeded>().is_some());
    if is_budget {
        ImageError::DecompressionLimit {
            layer: ctx.label.to_string(),
            limit: ctx.budget.limit,
        }
    } else {
        ImageError::CorruptLayer {
            layer: ctx.label.to_string(),
            offset,
            source,
        }
    }
}

/// Reads an uncompressed-or-not layer from a seekable reader of `len` bytes: a plain tar is
/// walked with seeks over file data (only headers and requested contents are read); anything
/// else streams through [`read_layer`]. `ctx.verify` is applied only on the streaming path, so
/// callers verify seekable blobs themselves (in parallel, see `assemble`).
pub(crate) fn read_layer_seekable<R: Read + Seek>(
    mut raw: R,
    ctx: &LayerCtx<'_>,
    wants: &Wants,
    len: u64,
) -> Result<LayerRead, ImageError> {
    let position = Cell::new(0u64);
    let corrupt = |source: io::Error| map_io(source, ctx, position.get());
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut raw, &mut magic).map_err(&corrupt)?;
    raw.seek(SeekFrom::Start(0)).map_err(&corrupt)?;
    if detect(&magic[..n]) != Ok(Compression::Tar) {
        return read_layer(raw, ctx, wants);
    }
    let counted = Counting {
        inner: raw,
        budget: ctx.budget,
        position: &position,
    };
    let mut archive = tar::Archive::new(counted);
    let entries = archive.entries_with_seek().map_err(&corrupt)?;
    let mut out = LayerRead::default();
    walk(entries, ctx, wants, &mut out, &position, Some(len))?;
    out.uncompressed_size = len;
    Ok(out)
}

fn walk<R: Read>(
    entries: tar::Entries<'_, R>,
    ctx: &LayerCtx<'_>,
    wants: &Wants,
    out: &mut LayerRead,
    position: &Cell<u64>,
    limit: Option<u64>,
) -> Result<(), ImageError> {
    let corrupt = |source: io::Error| map_io(source, ctx, position.get());
    for entry in entries {
        let mut entry = entry.map_err(&corrupt)?;
        // With seeks, data past the end is never read; catch entries claiming more than exists.
        if let Some(limit) = limit
            && entry.raw_file_position().saturating_add(entry.size()) > limit
        {
            return Err(ImageError::CorruptLayer {
                layer: ctx.label.to_string(),
                offset: entry.raw_header_position(),
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "entry data extends past the end of the layer",
                ),
            });
        }
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                FileKind::Regular
            }
            tar::EntryType::Directory => FileKind::Directory,
            tar::EntryType::Symlink => FileKind::Symlink,
            tar::EntryType::Link => FileKind::Hardlink,
            tar::EntryType::Char => FileKind::CharDevice,
            tar::EntryType::Block => FileKind::BlockDevice,
            tar::EntryType::Fifo => FileKind::Fifo,
            // PAX / GNU long-name headers are consumed by `tar`; global headers and unknown
            // types carry no filesystem entry.
            _ => continue,
        };
        let raw_path = entry.path_bytes();
        let Some(path) = clean_path(&raw_path) else {
            return Err(ImageError::PathEscape {
                layer: ctx.label.to_string(),
                path: String::from_utf8_lossy(&raw_path).into_owned(),
            });
        };
        if path == "/" {
            continue;
        }
        // Whiteout markers.
        let (parent, name) = split_parent(&path);
        if let Some(rest) = name.strip_prefix(".wh.") {
            if rest == ".wh..opq" {
                out.opaque.push(parent.to_string());
            } else if !rest.starts_with(".wh.") && !rest.is_empty() {
                let target = if parent == "/" {
                    format!("/{rest}")
                } else {
                    format!("{parent}/{rest}")
                };
                out.whiteouts.push(target);
            }
            continue;
        }
        let header = entry.header();
        let mode = header.mode().map_err(&corrupt)? & 0o7777;
        let uid = header.uid().map_err(&corrupt)?;
        let gid = header.gid().map_err(&corrupt)?;
        let size = if kind == FileKind::Regular {
            entry.size()
        } else {
            0
        };
        let link_target = match kind {
            FileKind::Symlink => entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned()),
            FileKind::Hardlink => {
                let raw_link = entry.link_name_bytes().unwrap_or_default();
                match clean_path(&raw_link) {
                    Some(t) => Some(t),
                    None => {
                        return Err(ImageError::PathEscape {
                            layer: ctx.label.to_string(),
                            path: String::from_utf8_lossy(&raw_link).into_owned(),
                        });
                    }
                }
            }
            _ => None,
        };
        let (content, hits) = if kind == FileKind::Regular {
            wants.process(&path, size, &mut entry).map_err(&corrupt)?
        } else {
            (None, Vec::new())
        };
        out.entries.push(LayerEntry {
            entry: FileEntry {
                path,
                kind,
                mode,
                uid,
                gid,
                size,
                link_target,
                layer: ctx.index,
            },
            content,
            hits,
        });
    }
    Ok(())
}

/// Splits an absolute normalised path into (parent, name); the parent of `/x` is `/`.
pub(crate) fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("/", path),
    }
}

/// Normalises a tar entry path to the absolute `..`-free form. Leading `/` and `./` are
/// stripped (as tar does); `None` when `..` would climb above the root.
pub(crate) fn clean_path(raw: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(raw);
    let simple = s
        .split('/')
        .enumerate()
        .all(|(i, c)| c != ".." && (c != "." || i == 0) && (!c.is_empty() || i == 0));
    if simple {
        let trimmed = s.trim_start_matches("./").trim_start_matches('/');
        let trimmed = trimmed.trim_end_matches('/');
        if trimmed.is_empty() || trimmed == "." {
            return Some("/".to_string());
        }
        let mut out = String::with_capacity(trimmed.len() + 1);
        out.push('/');
        out.push_str(trimmed);
        return Some(out);
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Some("/".to_string());
    }
    let mut out = String::with_capacity(s.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_rules() {
        assert_eq!(clean_path(b"./usr/bin/").as_deref(), Some("/usr/bin"));
        assert_eq!(clean_path(b"/etc/passwd").as_deref(), Some("/etc/passwd"));
        assert_eq!(clean_path(b"a/./b//c").as_deref(), Some("/a/b/c"));
        assert_eq!(clean_path(b"a/../b").as_deref(), Some("/b"));
        assert_eq!(clean_path(b"./").as_deref(), Some("/"));
        assert_eq!(clean_path(b"../etc/passwd"), None);
        assert_eq!(clean_path(b"a/../../x"), None);
        assert_eq!(clean_path(b"/../x"), None);
    }

    #[test]
    fn executables_without_a_marker_are_dropped() {
        let req = ContentRequest {
            globs: vec!["/app/kept".into()],
            executables: true,
            executable_markers: vec![b"\xff Go buildinf:".to_vec()],
            ..Default::default()
        };
        let w = Wants::new(&req).unwrap();
        let lib = b"\x7fELF plain shared library".to_vec();
        let go = b"\x7fELF .. \xff Go buildinf: ..".to_vec();
        let keep = |path: &str, data: &[u8]| {
            w.process(path, data.len() as u64, &mut &data[..])
                .unwrap()
                .0
                .is_some()
        };
        assert!(!keep("/usr/lib/libx.so", &lib));
        assert!(keep("/app/server", &go));
        // A glob still keeps a file that happens to be an executable.
        assert!(keep("/app/kept", &lib));
        // Without markers every executable is kept.
        let all = Wants::new(&ContentRequest {
            executables: true,
            ..Default::default()
        })
        .unwrap();
        assert!(
            all.process("/usr/lib/libx.so", lib.len() as u64, &mut &lib[..])
                .unwrap()
                .0
                .is_some()
        );
    }

    #[test]
    fn globs_are_anchored() {
        let req = ContentRequest {
            globs: vec!["etc/os-release".into(), "**/*.dist-info/METADATA".into()],
            ..Default::default()
        };
        let w = Wants::new(&req).unwrap();
        assert!(w.keeps_glob("/etc/os-release"));
        assert!(!w.keeps_glob("/x/etc/os-release"));
        assert!(w.keeps_glob("/usr/lib/python3/a-1.dist-info/METADATA"));
    }
}
