//! Random access to the members of an image source: a [`Store`] is either a directory
//! ([`DirStore`], an OCI layout) or a tar file indexed once by header ([`TarIndex`], a
//! `docker save` tar or an oci-archive), so each blob is streamed straight from the file with
//! no extraction.
//!
//! Member names are normalised like layer paths (no leading `./` or `/`); members whose names
//! climb out of the archive are ignored, and symlinked members (older `docker save` dedups
//! layers that way) are followed inside the archive only, at most 16 hops. Small documents are
//! read whole with a size cap; blobs are opened as readers.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::error::ImageError;
use super::layer::clean_path;

/// JSON documents (manifests, configs, indexes) larger than this are refused.
const MAX_DOCUMENT: u64 = 64 * 1024 * 1024;

/// A reader that can also seek (uncompressed layers skip file data instead of reading it).
pub(crate) trait ReadSeek: Read + Seek {}

impl<T: Read + Seek> ReadSeek for T {}

/// A byte range of a file read with `pread`, with its own buffer that survives seeks (tar
/// walks seek over every entry's data; `BufReader` would drop its buffer on each seek and
/// re-read the same block for every small file).
#[derive(Debug)]
struct Section {
    file: File,
    start: u64,
    len: u64,
    pos: u64,
    buf: Vec<u8>,
    /// Offset (within the section) of `buf[0]`.
    buf_at: u64,
}

impl Section {
    fn new(file: File, start: u64, len: u64) -> Self {
        Section {
            file,
            start,
            len,
            pos: 0,
            buf: Vec::new(),
            buf_at: 0,
        }
    }
}

const SECTION_BUF: usize = 64 * 1024;

impl Read for Section {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        let remaining = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
        let want = out.len().min(remaining);
        let in_buf = self.pos >= self.buf_at && self.pos < self.buf_at + self.buf.len() as u64;
        if !in_buf {
            if want >= SECTION_BUF {
                // Large reads bypass the buffer.
                let got = self.file.read_at(&mut out[..want], self.start + self.pos)?;
                self.pos += got as u64;
                return Ok(got);
            }
            let fill = SECTION_BUF.min(remaining);
            self.buf.resize(fill, 0);
            let got = self
                .file
                .read_at(&mut self.buf[..fill], self.start + self.pos)?;
            self.buf.truncate(got);
            self.buf_at = self.pos;
            if got == 0 {
                return Ok(0);
            }
        }
        let off = (self.pos - self.buf_at) as usize;
        let n = want.min(self.buf.len() - off);
        out[..n].copy_from_slice(&self.buf[off..off + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Section {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos =
            new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

/// Read access to the members of an image source.
pub(crate) trait Store: Sync {
    /// Opens a member for reading with seeks.
    fn open_seekable(&self, name: &str) -> Result<Box<dyn ReadSeek + Send + '_>, ImageError>;
    /// The source path, for messages.
    fn location(&self) -> String;
    /// Opens a member (relative path, `/`-separated) for streaming.
    fn open(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, ImageError>;
    /// The member's size, if it exists.
    fn size(&self, name: &str) -> Option<u64>;
    /// Reads a small member whole.
    fn read_small(&self, name: &str) -> Result<Vec<u8>, ImageError> {
        let size = self.size(name).ok_or_else(|| ImageError::MissingBlob {
            digest: name.to_string(),
            location: self.location(),
        })?;
        if size > MAX_DOCUMENT {
            return Err(ImageError::InvalidImage {
                location: format!("{}:{name}", self.location()),
                reason: format!("document of {size} bytes exceeds the {MAX_DOCUMENT}-byte cap"),
            });
        }
        let mut out = Vec::with_capacity(size as usize);
        self.open(name)?
            .take(MAX_DOCUMENT)
            .read_to_end(&mut out)
            .map_err(|e| ImageError::io(format!("{}:{name}", self.location()), e))?;
        Ok(out)
    }
}

/// A directory (an OCI image layout).
#[derive(Debug)]
pub(crate) struct DirStore {
    pub(crate) root: PathBuf,
}

impl DirStore {
    fn member(&self, name: &str) -> Option<PathBuf> {
        let clean = clean_path(name.as_bytes())?;
        Some(self.root.join(clean.trim_start_matches('/')))
    }
}

impl Store for DirStore {
    fn open_seekable(&self, name: &str) -> Result<Box<dyn ReadSeek + Send + '_>, ImageError> {
        let path = self.member(name).ok_or_else(|| ImageError::MissingBlob {
            digest: name.to_string(),
            location: self.location(),
        })?;
        match File::open(&path).and_then(|f| f.metadata().map(|m| (f, m.len()))) {
            Ok((f, len)) => Ok(Box::new(Section::new(f, 0, len))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ImageError::MissingBlob {
                digest: name.to_string(),
                location: self.location(),
            }),
            Err(e) => Err(ImageError::io(path, e)),
        }
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let path = self.member(name).ok_or_else(|| ImageError::MissingBlob {
            digest: name.to_string(),
            location: self.location(),
        })?;
        match File::open(&path) {
            Ok(f) => Ok(Box::new(BufReader::with_capacity(256 * 1024, f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ImageError::MissingBlob {
                digest: name.to_string(),
                location: self.location(),
            }),
            Err(e) => Err(ImageError::io(path, e)),
        }
    }

    fn size(&self, name: &str) -> Option<u64> {
        let path = self.member(name)?;
        std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }
}

#[derive(Debug, Clone)]
enum Member {
    File { offset: u64, size: u64 },
    Link(String),
}

/// A tar file indexed by member name.
#[derive(Debug)]
pub(crate) struct TarIndex {
    path: PathBuf,
    members: HashMap<String, Member>,
}

impl TarIndex {
    /// Walks the tar headers once (seeking over data).
    pub(crate) fn open(path: &Path) -> Result<TarIndex, ImageError> {
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let mut archive = tar::Archive::new(file);
        let bad = |e: io::Error| ImageError::CorruptLayer {
            layer: path.display().to_string(),
            offset: 0,
            source: e,
        };
        let mut members = HashMap::new();
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let Some(name) = clean_path(&entry.path_bytes()) else {
                continue;
            };
            let name = name.trim_start_matches('/').to_string();
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    members.insert(
                        name,
                        Member::File {
                            offset: entry.raw_file_position(),
                            size: entry.size(),
                        },
                    );
                }
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                        .unwrap_or_default();
                    let base = name.rsplit_once('/').map_or("", |(d, _)| d);
                    let joined = if target.starts_with('/') {
                        target
                    } else {
                        format!("{base}/{target}")
                    };
                    if let Some(t) = clean_path(joined.as_bytes()) {
                        members.insert(name, Member::Link(t.trim_start_matches('/').to_string()));
                    }
                }
                tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .and_then(|l| clean_path(&l))
                        .map(|t| t.trim_start_matches('/').to_string());
                    if let Some(t) = target {
                        members.insert(name, Member::Link(t));
                    }
                }
                _ => {}
            }
        }
        Ok(TarIndex {
            path: path.to_path_buf(),
            members,
        })
    }

    /// Whether a member exists.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.resolve(name).is_some()
    }

    fn resolve(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = clean_path(name.as_bytes())?
            .trim_start_matches('/')
            .to_string();
        for _ in 0..16 {
            match self.members.get(&name)? {
                Member::File { offset, size } => return Some((*offset, *size)),
                Member::Link(t) => name = t.clone(),
            }
        }
        None
    }
}

impl Store for TarIndex {
    fn open_seekable(&self, name: &str) -> Result<Box<dyn ReadSeek + Send + '_>, ImageError> {
        let (start, len) = self.resolve(name).ok_or_else(|| ImageError::MissingBlob {
            digest: name.to_string(),
            location: self.location(),
        })?;
        let file = File::open(&self.path).map_err(|e| ImageError::io(&self.path, e))?;
        Ok(Box::new(Section::new(file, start, len)))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let (offset, size) = self.resolve(name).ok_or_else(|| ImageError::MissingBlob {
            digest: name.to_string(),
            location: self.location(),
        })?;
        let mut f = File::open(&self.path).map_err(|e| ImageError::io(&self.path, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| ImageError::io(&self.path, e))?;
        Ok(Box::new(BufReader::with_capacity(256 * 1024, f.take(size))))
    }

    fn size(&self, name: &str) -> Option<u64> {
        self.resolve(name).map(|(_, s)| s)
    }
}
