//! Small shapes every cataloger repeats, in one place: decoding a text file while recording a
//! problem when it is not UTF-8 ([`Found::decode`]), parsing a JSON file into a
//! [`CatalogError::Malformed`] on failure ([`json`]), and building a [`Package`] located at the
//! file being read ([`CatalogCx::package`]).
//!
//! Does not: know any ecosystem's format. Invariant: nothing here fails silently — lossy text
//! leaves a problem naming the file, bad JSON an error naming the file, line and column.

use std::borrow::Cow;

use serde_json::Value;

use super::{CatalogCx, CatalogError, Found, Package, PackageType};

impl Found {
    /// `data` as text. Invalid UTF-8 bytes become U+FFFD and a problem from `source` naming
    /// `path` is recorded, so the rest of the file is still read.
    pub(crate) fn decode<'a>(&mut self, source: &str, path: &str, data: &'a [u8]) -> Cow<'a, str> {
        let (text, lossy) = super::text(data);
        if lossy {
            self.problem(
                source,
                path,
                "not valid UTF-8; invalid bytes replaced with U+FFFD",
            );
        }
        text
    }
}

impl CatalogCx<'_> {
    /// A package of `kind` found in `path` (its location attributed to the layer that wrote it).
    pub(crate) fn package(
        &self,
        kind: PackageType,
        name: &str,
        version: &str,
        path: &str,
    ) -> Package {
        Package {
            name: name.to_string(),
            version: version.to_string(),
            kind,
            locations: vec![self.location(path)],
            ..Package::default()
        }
    }
}

/// Parses `data` as JSON; failure is a [`CatalogError::Malformed`] from `source` naming `path`
/// and where the parser stopped.
pub(crate) fn json(source: &'static str, path: &str, data: &[u8]) -> Result<Value, CatalogError> {
    serde_json::from_slice(data).map_err(|e| {
        CatalogError::malformed(source, path, format!("not valid JSON ({e}); file skipped"))
    })
}

/// A non-empty string field of a JSON object.
pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An in-memory image holding `files` (path, bytes) from a source of kind `scheme` (`dir`
/// runs the lock-file catalogers by default), for cataloger tests.
#[cfg(test)]
pub(crate) fn test_image(scheme: &str, files: &[(&str, &[u8])]) -> crate::image::Image {
    use crate::image::{FileEntry, FileKind, Image};
    let mut img = Image::default();
    img.source.scheme = scheme.to_string();
    for (path, data) in files {
        img.files.entries.insert(
            (*path).to_string(),
            FileEntry {
                path: (*path).to_string(),
                kind: FileKind::Regular,
                size: data.len() as u64,
                ..Default::default()
            },
        );
        img.files
            .contents
            .insert((*path).to_string(), std::sync::Arc::from(*data));
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_text_leaves_a_problem() {
        let mut f = Found::default();
        let t = f.decode("x", "/a", b"ok\xffok").into_owned();
        assert_eq!(t, "ok\u{fffd}ok");
        assert_eq!(f.problems.len(), 1);
        assert_eq!(f.problems[0].path.as_deref(), Some("/a"));
        let mut f = Found::default();
        assert_eq!(f.decode("x", "/a", b"fine"), "fine");
        assert!(f.problems.is_empty());
    }

    #[test]
    fn bad_json_names_the_file() {
        let e = json("x", "/app/a.json", b"{\"a\": [1,").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("/app/a.json") && msg.contains("line 1"),
            "{msg}"
        );
        assert_eq!(str_field(&serde_json::json!({"a": " b "}), "a"), Some("b"));
        assert_eq!(str_field(&serde_json::json!({"a": ""}), "a"), None);
    }
}
