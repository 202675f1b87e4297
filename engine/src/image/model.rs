//! The plain values this stage produces: [`Image`], [`ImageConfig`], [`LayerInfo`],
//! [`FileTree`], [`FileEntry`], and what later stages ask of it ([`ContentRequest`]).
//!
//! These are the contract every later stage reads. Add fields with `#[serde(default)]` so
//! saved analyses keep loading; never remove or rename one without a schema bump.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Where an image came from, as the user named it and as it resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The source kind: `registry`, `docker-archive`, `oci-archive`, `oci-dir`, `dir`, `sbom`.
    pub scheme: String,
    /// The reference or path exactly as given by the user.
    pub input: String,
    /// The normalised reference (`docker.io/library/alpine:3.20`), when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Tags the image carries in its source (`repo:tag`), normalised.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The digest of the image manifest (`sha256:…`), when the source has a manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// The digest of the index / manifest list the manifest was picked from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// `repo@sha256:…` digests, as `docker inspect` reports `RepoDigests`.
    #[serde(default)]
    pub repo_digests: Vec<String>,
}

/// The platform an image was built for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`, `windows`, …
    pub os: String,
    /// `amd64`, `arm64`, `arm`, …
    pub architecture: String,
    /// `v7`, `v8`, … when the image declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One entry of the image config's `history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// RFC 3339 creation time, as written in the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The Dockerfile instruction or command that made this step.
    #[serde(default)]
    pub created_by: String,
    /// True when the step produced no layer.
    #[serde(default)]
    pub empty_layer: bool,
    /// Free-text comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The parts of the image config later stages and reports use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// The config blob digest, the image ID (`sha256:…`).
    #[serde(default)]
    pub digest: String,
    /// The platform recorded in the config.
    #[serde(default)]
    pub platform: Platform,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `KEY=value` environment entries, in config order.
    #[serde(default)]
    pub env: Vec<String>,
    /// The `USER` the container runs as, empty when unset (root).
    #[serde(default)]
    pub user: String,
    /// Exposed ports as written (`8080/tcp`).
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// Entrypoint argv.
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// Cmd argv.
    #[serde(default)]
    pub cmd: Vec<String>,
    /// Working directory.
    #[serde(default)]
    pub working_dir: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Volumes.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Stop signal, healthcheck and other settings not modelled above are dropped.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Uncompressed layer digests, in order (`rootfs.diff_ids`).
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// One layer of the image, in order from the base up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Position from the base, starting at 0.
    pub index: usize,
    /// The blob digest as stored (compressed for registries and OCI layouts).
    pub digest: String,
    /// The uncompressed digest (`diff_id`) from the config.
    #[serde(default)]
    pub diff_id: String,
    /// The layer media type.
    #[serde(default)]
    pub media_type: String,
    /// Stored (compressed) size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Uncompressed tar size in bytes, as streamed.
    #[serde(default)]
    pub uncompressed_size: u64,
    /// The history `created_by` that produced this layer, when it can be paired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// The kind of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A regular file.
    #[default]
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link (`link_target` holds the target as written).
    Symlink,
    /// A hard link to another path of the image (`link_target` holds it, normalised).
    Hardlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
}

/// Metadata for one path of the squashed filesystem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Absolute, normalised path inside the image (`/usr/bin/env`), no `..`, no trailing `/`.
    pub path: String,
    /// What kind of entry it is.
    pub kind: FileKind,
    /// Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000).
    pub mode: u32,
    /// Owner uid.
    pub uid: u64,
    /// Owner gid.
    pub gid: u64,
    /// Size in bytes (for hard links, the size of the target).
    pub size: u64,
    /// Symlink or hard-link target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
    /// Index into [`Image::layers`] of the layer that last wrote this path.
    pub layer: usize,
}

impl FileEntry {
    /// True for setuid or setgid regular files.
    pub fn is_suid_or_sgid(&self) -> bool {
        self.kind == FileKind::Regular && self.mode & 0o6000 != 0
    }
}

/// The squashed filesystem: every final path's metadata, plus the retained contents of the
/// files a [`ContentRequest`] asked for.
#[derive(Debug, Clone, Default)]
pub struct FileTree {
    /// Metadata by absolute path, sorted.
    pub entries: BTreeMap<String, FileEntry>,
    /// Retained contents by absolute path (regular files, and hard links resolved to their
    /// target's bytes). Absent when not requested or over the size cap.
    pub contents: BTreeMap<String, Arc<[u8]>>,
}

impl FileTree {
    /// Metadata for `path`, if it exists in the final filesystem.
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.entries.get(path)
    }

    /// Retained contents of `path`, if they were requested and kept.
    pub fn content(&self, path: &str) -> Option<&[u8]> {
        self.contents.get(path).map(|c| &c[..])
    }

    /// Resolves symlinks inside the image root (at most 40 hops, like the kernel) and returns
    /// the final path, or `None` for a dangling link, a loop, or a link leaving the root.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut current = path.to_string();
        for _ in 0..40 {
            let entry = self.entries.get(&current)?;
            match (entry.kind, &entry.link_target) {
                (FileKind::Symlink, Some(target)) => {
                    let base = parent_dir(&current);
                    current = normalize_path(&if target.starts_with('/') {
                        target.clone()
                    } else {
                        format!("{base}/{target}")
                    })?;
                }
                _ => return Some(current),
            }
        }
        None
    }

    /// Paths under `dir` (exclusive), in sorted order.
    pub fn children<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a FileEntry> + 'a {
        let prefix = if dir.ends_with('/') {
            dir.to_string()
        } else {
            format!("{dir}/")
        };
        self.entries
            .range(prefix.clone()..)
            .take_while(move |(p, _)| p.starts_with(&prefix))
            .map(|(_, e)| e)
    }
}

fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "",
        Some(i) => &path[..i],
    }
}

/// Normalises a path to the absolute, `..`-free form used as [`FileTree`] keys. `..` that would
/// climb above the root is clamped at the root, as the kernel does inside a chroot. Returns
/// `None` only for an empty result of a non-root input.
pub fn normalize_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Some("/".to_string());
    }
    let mut out = String::with_capacity(path.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    Some(out)
}

/// One hit of a [`ContentScanner`] in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHit {
    /// The rule that matched (`AWS_ACCESS_KEY`, a policy's regex name, …).
    pub rule: String,
    /// 1-based line number of the match.
    pub line: u32,
    /// Short fingerprint of the matched value (never the value itself).
    pub fingerprint: String,
    /// The matched text with any secret part masked.
    pub masked: String,
}

/// A hit attributed to the final file it was found in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContentHit {
    /// Absolute path of the file.
    pub path: String,
    /// Index of the layer whose version of the file was scanned (the final one).
    pub layer: usize,
    /// The hit.
    pub hit: ContentHit,
}

/// A scanner run over file contents while layers stream, so contents never have to be kept.
///
/// The image stage calls [`ContentScanner::scan`] for every regular file that
/// [`ContentScanner::wants`], in every layer, possibly from several threads; it keeps only the
/// hits of files that survive into the final filesystem (a file overwritten or whited out in a
/// later layer loses its hits).
pub trait ContentScanner: Send + Sync + std::fmt::Debug {
    /// Whether to read this file at all (path and size known before reading).
    fn wants(&self, path: &str, size: u64) -> bool;
    /// Scans one file's bytes (at most the request's `max_file_size`).
    fn scan(&self, path: &str, data: &[u8]) -> Vec<ContentHit>;
}

/// What a later stage asks the image stage to keep in memory while streaming layers.
#[derive(Debug, Clone)]
pub struct ContentRequest {
    /// Glob patterns over absolute paths (`/var/lib/dpkg/status`, `**/*.dist-info/METADATA`).
    /// A glob without a leading `/` or `*` is rooted; `*` does not cross `/`. Matching is by
    /// the entry's own path: symlinks are not followed, so ask for the link target too
    /// (`/etc/os-release` is often a link to `/usr/lib/os-release`).
    pub globs: Vec<String>,
    /// Also keep regular files that start with an ELF, Mach-O or PE magic (for Go and Rust
    /// binaries), up to `max_binary_size`.
    pub executables: bool,
    /// Files larger than this are not kept (their metadata still is).
    pub max_file_size: u64,
    /// Size cap for executables kept because of `executables`.
    pub max_binary_size: u64,
    /// When non-empty, an executable is kept only if its bytes contain one of these markers
    /// (the Go build-info magic, cargo-auditable's section name, …); the others are streamed
    /// through the scanners and dropped, so an image's shared libraries are not held in memory.
    /// Empty keeps every executable.
    pub executable_markers: Vec<Vec<u8>>,
    /// Scanners run over file contents while streaming (secrets, content regexes).
    pub scanners: Vec<Arc<dyn ContentScanner>>,
}

impl Default for ContentRequest {
    fn default() -> Self {
        ContentRequest {
            globs: Vec::new(),
            executables: false,
            max_file_size: 16 * 1024 * 1024,
            max_binary_size: 256 * 1024 * 1024,
            executable_markers: Vec::new(),
            scanners: Vec::new(),
        }
    }
}

/// A read image: its identity, config, layers and squashed filesystem.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// Where it came from.
    pub source: SourceInfo,
    /// Its config.
    pub config: ImageConfig,
    /// Its layers, base first.
    pub layers: Vec<LayerInfo>,
    /// The squashed filesystem.
    pub files: FileTree,
    /// Hits of the request's content scanners in final files, sorted by path then line.
    pub content_hits: Vec<FileContentHit>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: FileKind, target: Option<&str>) -> FileEntry {
        FileEntry {
            path: path.into(),
            kind,
            link_target: target.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn normalize_clamps_at_root() {
        assert_eq!(normalize_path("a/b/../c").as_deref(), Some("/a/c"));
        assert_eq!(
            normalize_path("/../../etc/passwd").as_deref(),
            Some("/etc/passwd")
        );
        assert_eq!(normalize_path("./").as_deref(), Some("/"));
    }

    #[test]
    fn resolve_follows_links_and_stops_loops() {
        let mut tree = FileTree::default();
        for e in [
            entry("/bin", FileKind::Symlink, Some("usr/bin")),
            entry("/usr/bin/sh", FileKind::Regular, None),
            entry("/loop/a", FileKind::Symlink, Some("b")),
            entry("/loop/b", FileKind::Symlink, Some("a")),
            entry("/escape", FileKind::Symlink, Some("../../../usr/bin/sh")),
        ] {
            tree.entries.insert(e.path.clone(), e);
        }
        // /bin/sh itself is not an entry; resolve works per entry.
        assert_eq!(tree.resolve("/escape").as_deref(), Some("/usr/bin/sh"));
        assert_eq!(tree.resolve("/loop/a"), None);
        assert_eq!(tree.resolve("/missing"), None);
        assert_eq!(tree.children("/usr").count(), 1);
    }
}
