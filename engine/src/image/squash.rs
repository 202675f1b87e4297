//! Layers ([`LayerRead`], base first) → the squashed [`FileTree`] plus the content hits that
//! survive, with every entry attributed to the layer that last wrote it.
//!
//! Semantics follow the OCI image spec's changeset rules: a layer's whiteouts (`.wh.NAME`) and
//! opaque markers (`.wh..wh..opq`) delete from *lower* layers only, then the layer's entries are
//! applied in tar order (a later duplicate wins). A non-directory replacing a directory removes
//! the directory's children. A missing parent directory is created implicitly. A hard link gets
//! its target's size and retained content at the time it is applied; a link to a missing target
//! keeps size 0. Hits of a file survive only if that very (path, layer) version is final.
//!
//! It does not read tar streams or check paths (that is [`super::layer`]); input paths are
//! already absolute and normalised.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::layer::{LayerRead, split_parent};
use super::model::{ContentHit, FileContentHit, FileEntry, FileKind, FileTree};

/// Applies `layers` in order.
pub(crate) fn squash(layers: Vec<LayerRead>) -> (FileTree, Vec<FileContentHit>) {
    let mut tree = FileTree::default();
    let mut hits: BTreeMap<String, (usize, Vec<ContentHit>)> = BTreeMap::new();
    for (index, layer) in layers.into_iter().enumerate() {
        for dir in &layer.opaque {
            let prefix = child_prefix(dir);
            remove_prefixed(&mut tree.entries, &prefix);
            remove_prefixed(&mut tree.contents, &prefix);
            remove_prefixed(&mut hits, &prefix);
        }
        for path in &layer.whiteouts {
            remove_path(&mut tree, &mut hits, path);
        }
        for le in layer.entries {
            let mut entry = le.entry;
            entry.layer = index;
            ensure_parents(&mut tree, &mut hits, &entry.path, index);
            let path = entry.path.clone();
            if let Some(old) = tree.entries.get(&path)
                && old.kind == FileKind::Directory
                && entry.kind != FileKind::Directory
            {
                let prefix = child_prefix(&path);
                remove_prefixed(&mut tree.entries, &prefix);
                remove_prefixed(&mut tree.contents, &prefix);
                remove_prefixed(&mut hits, &prefix);
            }
            let mut content = le.content;
            if entry.kind == FileKind::Hardlink
                && let Some(target) = entry.link_target.clone()
            {
                let resolved = match tree.entries.get(&target) {
                    Some(t) if t.kind == FileKind::Hardlink => t.link_target.clone(),
                    Some(_) => Some(target),
                    None => None,
                };
                if let Some(t) = resolved.as_deref().and_then(|t| tree.entries.get(t)) {
                    entry.size = t.size;
                    entry.link_target = Some(t.path.clone());
                    content = tree.contents.get(&t.path).map(Arc::clone);
                }
            }
            match content {
                Some(c) => {
                    tree.contents.insert(path.clone(), c);
                }
                None => {
                    tree.contents.remove(&path);
                }
            }
            if le.hits.is_empty() {
                hits.remove(&path);
            } else {
                hits.insert(path.clone(), (index, le.hits));
            }
            tree.entries.insert(path, entry);
        }
    }
    let mut out = Vec::new();
    for (path, (layer, list)) in hits {
        let final_version = tree
            .entries
            .get(&path)
            .is_some_and(|e| e.layer == layer && e.kind == FileKind::Regular);
        if final_version {
            let mut list = list;
            list.sort_by_key(|h| h.line);
            out.extend(list.into_iter().map(|hit| FileContentHit {
                path: path.clone(),
                layer,
                hit,
            }));
        }
    }
    (tree, out)
}

fn child_prefix(dir: &str) -> String {
    if dir == "/" {
        "/".to_string()
    } else {
        format!("{dir}/")
    }
}

fn remove_path(
    tree: &mut FileTree,
    hits: &mut BTreeMap<String, (usize, Vec<ContentHit>)>,
    path: &str,
) {
    tree.entries.remove(path);
    tree.contents.remove(path);
    hits.remove(path);
    let prefix = child_prefix(path);
    remove_prefixed(&mut tree.entries, &prefix);
    remove_prefixed(&mut tree.contents, &prefix);
    remove_prefixed(hits, &prefix);
}

/// Removes every key starting with `prefix` (a contiguous range of a sorted map).
fn remove_prefixed<V>(map: &mut BTreeMap<String, V>, prefix: &str) {
    let Some((first, _)) = map
        .range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        ))
        .next()
    else {
        return;
    };
    if !first.starts_with(prefix) {
        return;
    }
    let mut tail = map.split_off(prefix);
    let end = tail.keys().find(|k| !k.starts_with(prefix)).cloned();
    if let Some(end) = end {
        let mut rest = tail.split_off(&end);
        map.append(&mut rest);
    }
}

/// Makes sure every ancestor of `path` is a directory (or a symlink, left as is).
fn ensure_parents(
    tree: &mut FileTree,
    hits: &mut BTreeMap<String, (usize, Vec<ContentHit>)>,
    path: &str,
    layer: usize,
) {
    let (parent, _) = split_parent(path);
    if parent == "/" {
        return;
    }
    match tree.entries.get(parent) {
        Some(e) if matches!(e.kind, FileKind::Directory | FileKind::Symlink) => return,
        _ => {}
    }
    ensure_parents(tree, hits, parent, layer);
    if tree.entries.contains_key(parent) {
        tree.contents.remove(parent);
        hits.remove(parent);
    }
    tree.entries.insert(
        parent.to_string(),
        FileEntry {
            path: parent.to_string(),
            kind: FileKind::Directory,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            link_target: None,
            layer,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::super::layer::LayerEntry;
    use super::*;

    fn file(path: &str) -> LayerEntry {
        LayerEntry {
            entry: FileEntry {
                path: path.into(),
                kind: FileKind::Regular,
                mode: 0o644,
                size: 1,
                ..Default::default()
            },
            content: Some(Arc::from(&b"x"[..])),
            hits: vec![ContentHit {
                rule: "r".into(),
                line: 1,
                ..Default::default()
            }],
        }
    }

    #[test]
    fn whiteouts_apply_to_lower_layers_only() {
        let l0 = LayerRead {
            entries: vec![file("/a/x"), file("/a/y"), file("/b")],
            ..Default::default()
        };
        let l1 = LayerRead {
            entries: vec![file("/a/z"), file("/b")],
            opaque: vec!["/a".into()],
            whiteouts: vec!["/b".into()],
            ..Default::default()
        };
        let (tree, hits) = squash(vec![l0, l1]);
        let paths: Vec<_> = tree.entries.keys().cloned().collect();
        assert_eq!(paths, ["/a", "/a/z", "/b"]);
        assert_eq!(tree.entries["/b"].layer, 1);
        assert!(tree.content("/a/x").is_none());
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|h| h.layer == 1));
    }

    #[test]
    fn file_replacing_dir_drops_children_and_prefix_is_exact() {
        let l0 = LayerRead {
            entries: vec![file("/a/x"), file("/a-b"), file("/ab")],
            ..Default::default()
        };
        let l1 = LayerRead {
            entries: vec![file("/a")],
            ..Default::default()
        };
        let (tree, _) = squash(vec![l0, l1]);
        let paths: Vec<_> = tree.entries.keys().cloned().collect();
        assert_eq!(paths, ["/a", "/a-b", "/ab"]);
    }
}
