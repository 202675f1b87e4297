//! A root filesystem directory (`dir:`) → an [`Image`] with one pseudo-layer: every entry's
//! metadata from `lstat`, the requested contents read from disk with the same size caps and
//! scanners as layers.
//!
//! Symlinks are recorded, never followed (so a link to `/etc/shadow` of the host is not read);
//! the walk stays on the given directory tree. Entries that cannot be read are skipped with a
//! debug log rather than failing the whole scan; an unreadable root is an error.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::error::ImageError;
use super::layer::{LayerEntry, LayerRead, Wants};
use super::model::{FileEntry, FileKind, Image, LayerInfo, SourceInfo};
use super::squash::squash;

/// Reads a root filesystem directory.
pub(crate) fn load(root: &Path, input: &str, wants: &Wants) -> Result<Image, ImageError> {
    let meta = std::fs::metadata(root).map_err(|e| ImageError::io(root, e))?;
    if !meta.is_dir() {
        return Err(ImageError::UnknownFormat {
            path: root.into(),
            reason: "`dir:` needs a directory".into(),
        });
    }
    let mut read = LayerRead::default();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let iter = match std::fs::read_dir(&dir) {
            Ok(it) => it,
            Err(e) if rel.is_empty() => return Err(ImageError::io(&dir, e)),
            Err(e) => {
                tracing::debug!("skipping unreadable directory {}: {e}", dir.display());
                continue;
            }
        };
        for item in iter.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            let path = format!("{rel}/{name}");
            let full = item.path();
            let Ok(m) = std::fs::symlink_metadata(&full) else {
                continue;
            };
            let ft = m.file_type();
            let kind = if ft.is_dir() {
                FileKind::Directory
            } else if ft.is_symlink() {
                FileKind::Symlink
            } else if ft.is_file() {
                FileKind::Regular
            } else if ft.is_char_device() {
                FileKind::CharDevice
            } else if ft.is_block_device() {
                FileKind::BlockDevice
            } else if ft.is_fifo() {
                FileKind::Fifo
            } else {
                continue;
            };
            let size = if kind == FileKind::Regular {
                m.len()
            } else {
                0
            };
            let link_target = if kind == FileKind::Symlink {
                std::fs::read_link(&full)
                    .ok()
                    .map(|t| t.to_string_lossy().into_owned())
            } else {
                None
            };
            let (content, hits) = if kind == FileKind::Regular {
                match std::fs::File::open(&full) {
                    Ok(f) => {
                        let mut r = std::io::BufReader::new(f);
                        wants.process(&path, size, &mut r).unwrap_or_else(|e| {
                            tracing::debug!("cannot read {}: {e}", full.display());
                            (None, Vec::new())
                        })
                    }
                    Err(_) => (None, Vec::new()),
                }
            } else {
                (None, Vec::new())
            };
            if kind == FileKind::Directory {
                stack.push((full, path.clone()));
            }
            read.entries.push(LayerEntry {
                entry: FileEntry {
                    path,
                    kind,
                    mode: m.mode() & 0o7777,
                    uid: u64::from(m.uid()),
                    gid: u64::from(m.gid()),
                    size,
                    link_target,
                    layer: 0,
                },
                content,
                hits,
            });
        }
    }
    let (files, content_hits) = squash(vec![read]);
    Ok(Image {
        source: SourceInfo {
            scheme: "dir".into(),
            input: input.to_string(),
            ..Default::default()
        },
        config: Default::default(),
        layers: vec![LayerInfo {
            index: 0,
            digest: String::new(),
            media_type: "directory".into(),
            ..Default::default()
        }],
        files,
        content_hits,
    })
}
