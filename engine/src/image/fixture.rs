//! Test-image builder: multi-layer images from in-memory trees, written as an OCI layout
//! directory, an `oci-archive` tar or a `docker save` tar, with correct digests and diff_ids.
//!
//! It is a normal public module (not `cfg(test)`) so engine unit tests, `engine/tests` and the
//! end-to-end tests of the binary can all build the images they need at test time; binary
//! fixtures are never committed. It also writes deliberately hostile entries (`..` paths,
//! absurd sizes, device files) through [`Layer::raw`], which the normal tar API refuses.
//!
//! It does not read images (that is the rest of `image`) and does not talk to registries; the
//! e2e support code copies [`BuiltImage`] blobs into a registry's storage itself.
//!
//! ```
//! use tollgate::image::fixture::{ImageBuilder, Layer, Compression};
//! let dir = tempfile::tempdir().unwrap();
//! ImageBuilder::new()
//!     .layer(Layer::new().dir("etc").file("etc/os-release", "ID=debian\n"))
//!     .layer(Layer::new().whiteout("etc/os-release").file_with("usr/bin/su", "x", 0o4755, 0, 0))
//!     .compression(Compression::Gzip)
//!     .env("PATH=/usr/bin")
//!     .write_oci_dir(dir.path(), Some("latest"))
//!     .unwrap();
//! ```

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::model::Platform;

/// Media types written by the builder.
pub mod media {
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Docker v2 schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list.
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (the default, like `docker push`).
    #[default]
    Gzip,
    /// zstd.
    Zstd,
}

/// One tar entry of a [`Layer`].
#[derive(Debug, Clone)]
enum Node {
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
        uid: u64,
        gid: u64,
    },
    Dir {
        path: String,
        mode: u32,
        uid: u64,
        gid: u64,
    },
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
    Device {
        path: String,
        char: bool,
    },
    Fifo {
        path: String,
    },
    Raw {
        name: Vec<u8>,
        link: Vec<u8>,
        kind: u8,
        declared_size: u64,
        data: Vec<u8>,
    },
}

/// One layer: tar entries in the order they are written.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    nodes: Vec<Node>,
    /// Bytes appended after the tar's end blocks (for hostile-input tests).
    trailing: Vec<u8>,
    /// Cut the uncompressed tar to this many bytes (for truncation tests).
    truncate_at: Option<usize>,
}

impl Layer {
    /// An empty layer.
    pub fn new() -> Self {
        Layer::default()
    }

    /// A regular file, mode 0644, owned by root.
    pub fn file(self, path: &str, data: impl AsRef<[u8]>) -> Self {
        self.file_with(path, data, 0o644, 0, 0)
    }

    /// A regular file with mode (including setuid/setgid bits), uid and gid.
    pub fn file_with(
        mut self,
        path: &str,
        data: impl AsRef<[u8]>,
        mode: u32,
        uid: u64,
        gid: u64,
    ) -> Self {
        self.nodes.push(Node::File {
            path: path.into(),
            data: data.as_ref().to_vec(),
            mode,
            uid,
            gid,
        });
        self
    }

    /// A directory, mode 0755, owned by root.
    pub fn dir(self, path: &str) -> Self {
        self.dir_with(path, 0o755, 0, 0)
    }

    /// A directory with mode, uid and gid.
    pub fn dir_with(mut self, path: &str, mode: u32, uid: u64, gid: u64) -> Self {
        self.nodes.push(Node::Dir {
            path: path.into(),
            mode,
            uid,
            gid,
        });
        self
    }

    /// A symbolic link `path -> target` (target written as given).
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.nodes.push(Node::Symlink {
            path: path.into(),
            target: target.into(),
        });
        self
    }

    /// A hard link `path` to the earlier entry `target` (a path relative to the root).
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.nodes.push(Node::Hardlink {
            path: path.into(),
            target: target.into(),
        });
        self
    }

    /// A whiteout deleting `path` from lower layers (`dir/.wh.name`).
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = match path.trim_end_matches('/').rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n.to_string()),
            None => (String::new(), path.trim_end_matches('/').to_string()),
        };
        self.file_with(&format!("{dir}.wh.{name}"), b"", 0o644, 0, 0)
    }

    /// An opaque-directory marker: `dir`'s lower-layer contents are hidden.
    pub fn opaque(self, dir: &str) -> Self {
        let dir = dir.trim_end_matches('/');
        let path = if dir.is_empty() {
            ".wh..wh..opq".to_string()
        } else {
            format!("{dir}/.wh..wh..opq")
        };
        self.file_with(&path, b"", 0o644, 0, 0)
    }

    /// A character (`char = true`) or block device node.
    pub fn device(mut self, path: &str, char: bool) -> Self {
        self.nodes.push(Node::Device {
            path: path.into(),
            char,
        });
        self
    }

    /// A named pipe.
    pub fn fifo(mut self, path: &str) -> Self {
        self.nodes.push(Node::Fifo { path: path.into() });
        self
    }

    /// A raw entry written byte for byte: any name (`../../etc/passwd`, `/abs`), any link name,
    /// any tar type flag (`b'0'` file, `b'1'` hard link, `b'2'` symlink, `b'3'` char device…),
    /// a declared size that may differ from the data actually written (absurd or truncated
    /// entries). Names and link names must fit the 100-byte ustar fields.
    pub fn raw(
        mut self,
        name: &[u8],
        link: &[u8],
        kind: u8,
        declared_size: u64,
        data: &[u8],
    ) -> Self {
        self.nodes.push(Node::Raw {
            name: name.to_vec(),
            link: link.to_vec(),
            kind,
            declared_size,
            data: data.to_vec(),
        });
        self
    }

    /// Appends bytes after the tar's end-of-archive blocks.
    pub fn trailing(mut self, bytes: &[u8]) -> Self {
        self.trailing.extend_from_slice(bytes);
        self
    }

    /// Cuts the uncompressed tar stream after `len` bytes.
    pub fn truncate_at(mut self, len: usize) -> Self {
        self.truncate_at = Some(len);
        self
    }

    /// The uncompressed tar bytes of this layer.
    pub fn tar_bytes(&self) -> io::Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        b.mode(tar::HeaderMode::Deterministic);
        for node in &self.nodes {
            match node {
                Node::File {
                    path,
                    data,
                    mode,
                    uid,
                    gid,
                } => {
                    let mut h = header(tar::EntryType::Regular, *mode, *uid, *gid);
                    h.set_size(data.len() as u64);
                    b.append_data(&mut h, path, &data[..])?;
                }
                Node::Dir {
                    path,
                    mode,
                    uid,
                    gid,
                } => {
                    let mut h = header(tar::EntryType::Directory, *mode, *uid, *gid);
                    h.set_size(0);
                    b.append_data(&mut h, path, io::empty())?;
                }
                Node::Symlink { path, target } => {
                    let mut h = header(tar::EntryType::Symlink, 0o777, 0, 0);
                    h.set_size(0);
                    b.append_link(&mut h, path, target)?;
                }
                Node::Hardlink { path, target } => {
                    let mut h = header(tar::EntryType::Link, 0o644, 0, 0);
                    h.set_size(0);
                    b.append_link(&mut h, path, target)?;
                }
                Node::Device { path, char } => {
                    let kind = if *char {
                        tar::EntryType::Char
                    } else {
                        tar::EntryType::Block
                    };
                    let mut h = header(kind, 0o666, 0, 0);
                    h.set_size(0);
                    b.append_data(&mut h, path, io::empty())?;
                }
                Node::Fifo { path } => {
                    let mut h = header(tar::EntryType::Fifo, 0o644, 0, 0);
                    h.set_size(0);
                    b.append_data(&mut h, path, io::empty())?;
                }
                Node::Raw {
                    name,
                    link,
                    kind,
                    declared_size,
                    data,
                } => {
                    let mut h = tar::Header::new_old();
                    {
                        let old = h.as_old_mut();
                        if name.len() > old.name.len() || link.len() > old.linkname.len() {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidInput,
                                "raw entry name or link longer than 100 bytes",
                            ));
                        }
                        old.name[..name.len()].copy_from_slice(name);
                        old.linkname[..link.len()].copy_from_slice(link);
                    }
                    h.set_mode(0o644);
                    h.set_uid(0);
                    h.set_gid(0);
                    h.set_mtime(0);
                    h.set_entry_type(tar::EntryType::new(*kind));
                    h.set_size(*declared_size);
                    h.set_cksum();
                    let inner = b.get_mut();
                    inner.extend_from_slice(h.as_bytes());
                    inner.extend_from_slice(data);
                    let pad = (512 - data.len() % 512) % 512;
                    inner.extend(std::iter::repeat_n(0u8, pad));
                }
            }
        }
        let mut out = b.into_inner()?;
        out.extend_from_slice(&self.trailing);
        if let Some(n) = self.truncate_at {
            out.truncate(n);
        }
        Ok(out)
    }
}

fn header(kind: tar::EntryType, mode: u32, uid: u64, gid: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(uid);
    h.set_gid(gid);
    h.set_mtime(0);
    h
}

/// Compresses `data`.
pub fn compress(data: &[u8], compression: Compression) -> io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(data)?;
            enc.finish()
        }
        Compression::Zstd => zstd::encode_all(data, 3),
    }
}

/// One built layer blob.
#[derive(Debug, Clone)]
pub struct BuiltLayer {
    /// The blob as stored (compressed).
    pub blob: Vec<u8>,
    /// `sha256:` of the blob.
    pub digest: String,
    /// `sha256:` of the uncompressed tar.
    pub diff_id: String,
    /// The layer media type.
    pub media_type: String,
}

/// A built image: all blobs and their digests, ready to be written anywhere.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// Manifest JSON bytes.
    pub manifest: Vec<u8>,
    /// `sha256:` of the manifest.
    pub manifest_digest: String,
    /// Manifest media type.
    pub manifest_media_type: String,
    /// Config JSON bytes.
    pub config: Vec<u8>,
    /// `sha256:` of the config (the image ID).
    pub config_digest: String,
    /// Layers, base first.
    pub layers: Vec<BuiltLayer>,
    /// The platform written into the config.
    pub platform: Platform,
}

impl BuiltImage {
    /// Every blob of the image except the manifest: `(digest, bytes)`.
    pub fn blobs(&self) -> Vec<(String, &[u8])> {
        let mut v: Vec<(String, &[u8])> = vec![(self.config_digest.clone(), &self.config[..])];
        for l in &self.layers {
            v.push((l.digest.clone(), &l.blob[..]));
        }
        v
    }
}

/// A built multi-platform index over several images.
#[derive(Debug, Clone)]
pub struct BuiltIndex {
    /// Index JSON bytes.
    pub index: Vec<u8>,
    /// `sha256:` of the index.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// The images it lists.
    pub images: Vec<BuiltImage>,
}

/// Builds an image: layers plus config.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    layers: Vec<(Layer, Option<String>)>,
    compression: Compression,
    docker_media_types: bool,
    platform: Platform,
    env: Vec<String>,
    user: String,
    ports: Vec<String>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    working_dir: String,
    labels: BTreeMap<String, String>,
    created: String,
    empty_history: Vec<(usize, String)>,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        ImageBuilder {
            layers: Vec::new(),
            compression: Compression::Gzip,
            docker_media_types: false,
            platform: Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
            },
            env: Vec::new(),
            user: String::new(),
            ports: Vec::new(),
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            working_dir: String::new(),
            labels: BTreeMap::new(),
            created: "2024-01-01T00:00:00Z".into(),
            empty_history: Vec::new(),
        }
    }
}

impl ImageBuilder {
    /// An image with no layers, linux/amd64, gzip layers, OCI media types.
    pub fn new() -> Self {
        ImageBuilder::default()
    }

    /// Adds a layer; its history `created_by` is `RUN layer N`.
    pub fn layer(self, layer: Layer) -> Self {
        let n = self.layers.len();
        self.layer_created_by(layer, &format!("RUN layer {n}"))
    }

    /// Adds a layer with the history `created_by` that made it.
    pub fn layer_created_by(mut self, layer: Layer, created_by: &str) -> Self {
        self.layers.push((layer, Some(created_by.into())));
        self
    }

    /// Adds an empty-layer history step (`ENV`, `USER`…) before the next layer.
    pub fn history_step(mut self, created_by: &str) -> Self {
        self.empty_history
            .push((self.layers.len(), created_by.to_string()));
        self
    }

    /// Layer compression (default gzip).
    pub fn compression(mut self, c: Compression) -> Self {
        self.compression = c;
        self
    }

    /// Use Docker v2 schema 2 media types instead of OCI.
    pub fn docker_media_types(mut self, yes: bool) -> Self {
        self.docker_media_types = yes;
        self
    }

    /// The platform in the config.
    pub fn platform(mut self, os: &str, arch: &str, variant: Option<&str>) -> Self {
        self.platform = Platform {
            os: os.into(),
            architecture: arch.into(),
            variant: variant.map(Into::into),
        };
        self
    }

    /// Adds an `ENV` entry (`KEY=value`).
    pub fn env(mut self, kv: &str) -> Self {
        self.env.push(kv.into());
        self
    }

    /// Sets `USER`.
    pub fn user(mut self, user: &str) -> Self {
        self.user = user.into();
        self
    }

    /// Adds an exposed port (`8080/tcp`).
    pub fn port(mut self, port: &str) -> Self {
        self.ports.push(port.into());
        self
    }

    /// Sets the entrypoint.
    pub fn entrypoint(mut self, argv: &[&str]) -> Self {
        self.entrypoint = argv.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sets the cmd.
    pub fn cmd(mut self, argv: &[&str]) -> Self {
        self.cmd = argv.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: &str) -> Self {
        self.working_dir = dir.into();
        self
    }

    /// Adds a label.
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k.into(), v.into());
        self
    }

    /// Builds all blobs in memory.
    pub fn build(&self) -> io::Result<BuiltImage> {
        let mut layers = Vec::new();
        let mut history = Vec::new();
        for (i, (layer, created_by)) in self.layers.iter().enumerate() {
            for (at, step) in &self.empty_history {
                if *at == i {
                    history.push(
                        json!({"created": self.created, "created_by": step, "empty_layer": true}),
                    );
                }
            }
            let tar = layer.tar_bytes()?;
            let blob = compress(&tar, self.compression)?;
            let media_type = match (self.docker_media_types, self.compression) {
                (true, Compression::Gzip) => "application/vnd.docker.image.rootfs.diff.tar.gzip",
                (true, Compression::None) => "application/vnd.docker.image.rootfs.diff.tar",
                (true, Compression::Zstd) => "application/vnd.oci.image.layer.v1.tar+zstd",
                (false, Compression::Gzip) => "application/vnd.oci.image.layer.v1.tar+gzip",
                (false, Compression::None) => "application/vnd.oci.image.layer.v1.tar",
                (false, Compression::Zstd) => "application/vnd.oci.image.layer.v1.tar+zstd",
            };
            history.push(json!({"created": self.created, "created_by": created_by.clone().unwrap_or_default()}));
            layers.push(BuiltLayer {
                digest: sha256_digest(&blob),
                diff_id: sha256_digest(&tar),
                blob,
                media_type: media_type.into(),
            });
        }
        for (at, step) in &self.empty_history {
            if *at >= self.layers.len() {
                history.push(
                    json!({"created": self.created, "created_by": step, "empty_layer": true}),
                );
            }
        }
        let ports: serde_json::Map<String, Value> =
            self.ports.iter().map(|p| (p.clone(), json!({}))).collect();
        let mut config = json!({
            "created": self.created,
            "architecture": self.platform.architecture,
            "os": self.platform.os,
            "config": {
                "Env": self.env,
                "User": self.user,
                "ExposedPorts": ports,
                "Entrypoint": if self.entrypoint.is_empty() { Value::Null } else { json!(self.entrypoint) },
                "Cmd": if self.cmd.is_empty() { Value::Null } else { json!(self.cmd) },
                "WorkingDir": self.working_dir,
                "Labels": self.labels,
            },
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            "history": history,
        });
        if let (Some(v), Some(obj)) = (&self.platform.variant, config.as_object_mut()) {
            obj.insert("variant".into(), json!(v));
        }
        let config = serde_json::to_vec(&config)?;
        let config_digest = sha256_digest(&config);
        let (manifest_mt, config_mt) = if self.docker_media_types {
            (media::DOCKER_MANIFEST, media::DOCKER_CONFIG)
        } else {
            (media::OCI_MANIFEST, media::OCI_CONFIG)
        };
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_mt,
            "config": {"mediaType": config_mt, "digest": config_digest, "size": config.len()},
            "layers": layers.iter().map(|l| json!({"mediaType": l.media_type, "digest": l.digest, "size": l.blob.len()})).collect::<Vec<_>>(),
        });
        let manifest = serde_json::to_vec(&manifest)?;
        Ok(BuiltImage {
            manifest_digest: sha256_digest(&manifest),
            manifest,
            manifest_media_type: manifest_mt.into(),
            config,
            config_digest,
            layers,
            platform: self.platform.clone(),
        })
    }

    /// Writes an OCI image layout into `dir` (created if needed); `tag` becomes the
    /// `org.opencontainers.image.ref.name` annotation.
    pub fn write_oci_dir(&self, dir: &Path, tag: Option<&str>) -> io::Result<BuiltImage> {
        let built = self.build()?;
        write_oci_layout(dir, &[(OciEntry::Image(&built), tag)])?;
        Ok(built)
    }

    /// Writes an `oci-archive` (a tar of an OCI layout) to `path`.
    pub fn write_oci_archive(&self, path: &Path, tag: Option<&str>) -> io::Result<BuiltImage> {
        let built = self.build()?;
        let tmp = tempfile::tempdir()?;
        write_oci_layout(tmp.path(), &[(OciEntry::Image(&built), tag)])?;
        tar_dir(tmp.path(), path)?;
        Ok(built)
    }

    /// Writes a `docker save` tar to `path`, tagged with `repo_tags` (`repo:tag`).
    pub fn write_docker_archive(&self, path: &Path, repo_tags: &[&str]) -> io::Result<BuiltImage> {
        let built = self.build()?;
        write_docker_archive(path, &[(&built, repo_tags)])?;
        Ok(built)
    }
}

/// What an OCI layout's `index.json` entry points at.
#[derive(Debug, Clone, Copy)]
pub enum OciEntry<'a> {
    /// A single image manifest.
    Image(&'a BuiltImage),
    /// A multi-platform index.
    Index(&'a BuiltIndex),
}

/// Builds a multi-platform index over `images` (each carries its platform).
pub fn build_index(images: Vec<BuiltImage>, docker_media_types: bool) -> io::Result<BuiltIndex> {
    let media_type = if docker_media_types {
        media::DOCKER_LIST
    } else {
        media::OCI_INDEX
    };
    let manifests: Vec<Value> = images
        .iter()
        .map(|img| {
            let mut platform = json!({"os": img.platform.os, "architecture": img.platform.architecture});
            if let (Some(v), Some(obj)) = (&img.platform.variant, platform.as_object_mut()) {
                obj.insert("variant".into(), json!(v));
            }
            json!({"mediaType": img.manifest_media_type, "digest": img.manifest_digest, "size": img.manifest.len(), "platform": platform})
        })
        .collect();
    let index = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": media_type, "manifests": manifests}),
    )?;
    Ok(BuiltIndex {
        digest: sha256_digest(&index),
        index,
        media_type: media_type.into(),
        images,
    })
}

fn write_blob(dir: &Path, digest: &str, data: &[u8]) -> io::Result<()> {
    let hex = digest.trim_start_matches("sha256:");
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs)?;
    std::fs::write(blobs.join(hex), data)
}

fn write_image_blobs(dir: &Path, img: &BuiltImage) -> io::Result<()> {
    write_blob(dir, &img.manifest_digest, &img.manifest)?;
    for (d, data) in img.blobs() {
        write_blob(dir, &d, data)?;
    }
    Ok(())
}

/// Writes an OCI layout holding several entries (images or indexes), each optionally named.
pub fn write_oci_layout(dir: &Path, entries: &[(OciEntry<'_>, Option<&str>)]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut manifests = Vec::new();
    for (entry, tag) in entries {
        let mut desc = match entry {
            OciEntry::Image(img) => {
                write_image_blobs(dir, img)?;
                json!({"mediaType": img.manifest_media_type, "digest": img.manifest_digest, "size": img.manifest.len()})
            }
            OciEntry::Index(idx) => {
                write_blob(dir, &idx.digest, &idx.index)?;
                for img in &idx.images {
                    write_image_blobs(dir, img)?;
                }
                json!({"mediaType": idx.media_type, "digest": idx.digest, "size": idx.index.len()})
            }
        };
        if let (Some(tag), Some(obj)) = (tag, desc.as_object_mut()) {
            obj.insert(
                "annotations".into(),
                json!({"org.opencontainers.image.ref.name": tag}),
            );
        }
        manifests.push(desc);
    }
    let index = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index)?)
}

/// Writes a `docker save` tar holding several images (legacy layout: `<id>/layer.tar`).
pub fn write_docker_archive(path: &Path, images: &[(&BuiltImage, &[&str])]) -> io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut b = tar::Builder::new(io::BufWriter::new(file));
    b.mode(tar::HeaderMode::Deterministic);
    let mut manifest = Vec::new();
    let mut written = std::collections::BTreeSet::new();
    for (img, tags) in images {
        let config_name = format!("{}.json", img.config_digest.trim_start_matches("sha256:"));
        let mut layer_names = Vec::new();
        for l in &img.layers {
            let name = format!("{}/layer.tar", l.diff_id.trim_start_matches("sha256:"));
            if written.insert(name.clone()) {
                append_file(&mut b, &name, &l.blob)?;
            }
            layer_names.push(name);
        }
        if written.insert(config_name.clone()) {
            append_file(&mut b, &config_name, &img.config)?;
        }
        manifest.push(json!({"Config": config_name, "RepoTags": tags, "Layers": layer_names}));
    }
    append_file(&mut b, "manifest.json", &serde_json::to_vec(&manifest)?)?;
    b.into_inner()?.flush()
}

fn append_file<W: Write>(b: &mut tar::Builder<W>, name: &str, data: &[u8]) -> io::Result<()> {
    let mut h = header(tar::EntryType::Regular, 0o644, 0, 0);
    h.set_size(data.len() as u64);
    b.append_data(&mut h, name, data)
}

/// Tars the contents of `dir` (relative paths) into `out`.
pub fn tar_dir(dir: &Path, out: &Path) -> io::Result<()> {
    let file = std::fs::File::create(out)?;
    let mut b = tar::Builder::new(io::BufWriter::new(file));
    b.mode(tar::HeaderMode::Deterministic);
    b.follow_symlinks(false);
    b.append_dir_all(".", dir)?;
    b.into_inner()?.flush()
}
