//! What a bundle needs from the image stage beyond the catalog's own request, and the facts
//! collected from it: [`ContentNeeds::of`] reads the active bundle once, [`ContentNeeds::extend`]
//! adds to the [`ContentRequest`] (the paths named by `retrieved_files` rules, the dpkg
//! `*.md5sums` files, and a [`DigestScanner`] when a rule needs per-file digests), and
//! [`ContentNeeds::collect`] turns what came back into `Inventory::retrieved_files` and a
//! [`FileFacts`] for the evaluator.
//!
//! Cost rule: digests are computed only when a rule of the bundle needs them — sha256 only for
//! the files named by `files/attribute_match` rules with a `checksum`, md5 of regular files
//! only for `packages/verify` rules that can check `changed` (limited to `only_directories`
//! when every such rule gives it). Files over the request's size cap are not hashed (their
//! digest is unknown, so no check claims anything about them).
//!
//! Does not evaluate (the `files` and `packages` gates do) and does not read images itself:
//! the digest scanner is called by the image stage while layers stream. Digests are not part of
//! the saved analysis, so `tollgate evaluate ANALYSIS.json` cannot check them (the gates then
//! add a warning instead of guessing).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::Bundle;
use crate::catalog::Inventory;
use crate::image::{ContentHit, ContentRequest, ContentScanner, Image, normalize_path};

/// Prefix of the [`ContentHit::rule`] of digest hits (`digest:sha256`, `digest:md5`); the hex
/// digest is carried in `fingerprint`. These hits are removed from the secrets by
/// [`ContentNeeds::collect`].
const DIGEST_PREFIX: &str = "digest:";

/// Where dpkg keeps each package's file digests (`<pkg>[:<arch>].md5sums`).
const MD5SUMS_GLOBS: &[&str] = &[
    "/var/lib/dpkg/info/*.md5sums",
    "/var/lib/dpkg/status.d/*.md5sums",
];

/// Per-file facts some gates need besides the inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    /// sha256 (hex) of the files `files/attribute_match` checksum rules name.
    pub sha256: BTreeMap<String, String>,
    /// md5 (hex) of the regular files hashed for `packages/verify`.
    pub md5: BTreeMap<String, String>,
    /// dpkg's recorded md5 per package: package name → (absolute path, md5 hex).
    pub package_md5: BTreeMap<String, Vec<(String, String)>>,
    /// Whether sha256 digests were computed for the named files.
    pub sha256_computed: bool,
    /// Whether md5 digests were computed (so `verify` may report `changed`).
    pub md5_computed: bool,
    /// When md5 was limited to some directories, those prefixes (empty = every file).
    pub md5_prefixes: Vec<String>,
}

/// What one bundle asks of the image stage.
#[derive(Debug, Clone, Default)]
pub struct ContentNeeds {
    /// `retrieved_files` paths as written in the bundle, with their normalised form.
    retrieved: Vec<(String, String)>,
    /// Normalised paths whose sha256 is needed.
    sha256: BTreeSet<String>,
    /// Whether md5 of regular files is needed (`packages/verify` `changed`).
    md5: bool,
    /// Directory prefixes md5 is limited to (empty = all).
    md5_prefixes: Vec<String>,
}

impl ContentNeeds {
    /// Reads the bundle's rules (every rule set, mapped or not: the mapping is resolved later).
    pub fn of(bundle: &Bundle) -> ContentNeeds {
        let mut needs = ContentNeeds {
            retrieved: bundle
                .retrieved_paths()
                .into_iter()
                .filter_map(|p| normalize_path(&p).map(|n| (p, n)))
                .collect(),
            ..ContentNeeds::default()
        };
        let mut verify_all = false;
        let mut prefixes = BTreeSet::new();
        for rule in bundle.rule_sets.iter().flat_map(|s| &s.rules) {
            match (rule.gate.as_str(), rule.trigger.as_str()) {
                ("files", "attribute_match") if rule.param("checksum").is_some() => {
                    if let Some(p) = rule.param("filename").and_then(normalize_path) {
                        needs.sha256.insert(p);
                    }
                }
                ("packages", "verify") if rule.param("check") != Some("missing") => {
                    needs.md5 = true;
                    match rule.param("only_directories") {
                        Some(dirs) => prefixes.extend(super::gates::split_list(dirs)),
                        None => verify_all = true,
                    }
                }
                _ => {}
            }
        }
        if needs.md5 && !verify_all {
            needs.md5_prefixes = prefixes.into_iter().collect();
        }
        needs
    }

    /// Whether a digest scanner is needed at all.
    pub fn needs_digests(&self) -> bool {
        self.md5 || !self.sha256.is_empty()
    }

    /// Adds the needed paths and the digest scanner to `request`.
    pub fn extend(&self, request: &mut ContentRequest) {
        request
            .globs
            .extend(self.retrieved.iter().map(|(_, n)| globset::escape(n)));
        if self.md5 {
            request
                .globs
                .extend(MD5SUMS_GLOBS.iter().map(|g| (*g).to_string()));
        }
        request.globs.sort();
        request.globs.dedup();
        if self.needs_digests() {
            request.scanners.push(Arc::new(DigestScanner {
                sha256: self.sha256.clone(),
                md5: self.md5,
                md5_prefixes: self.md5_prefixes.clone(),
                max_file_size: request.max_file_size,
            }));
        }
    }

    /// Fills `inventory.retrieved_files` with the requested paths (keyed as the bundle writes
    /// them), moves digest hits out of `inventory.secrets`, and reads dpkg's md5sums.
    pub fn collect(&self, image: &Image, inventory: &mut Inventory) -> FileFacts {
        for (written, path) in &self.retrieved {
            let content = image.files.content(path).or_else(|| {
                image
                    .files
                    .resolve(path)
                    .and_then(|target| image.files.content(&target))
            });
            if let Some(data) = content {
                inventory
                    .retrieved_files
                    .insert(written.clone(), String::from_utf8_lossy(data).into_owned());
            }
        }
        let mut facts = FileFacts {
            sha256_computed: !self.sha256.is_empty(),
            md5_computed: self.md5,
            md5_prefixes: self.md5_prefixes.clone(),
            ..FileFacts::default()
        };
        if !self.needs_digests() {
            return facts;
        }
        inventory.secrets.retain(|s| {
            match s.rule.strip_prefix(DIGEST_PREFIX) {
                Some("sha256") => {
                    facts.sha256.insert(s.path.clone(), s.fingerprint.clone());
                }
                Some(_) => {
                    facts.md5.insert(s.path.clone(), s.fingerprint.clone());
                }
                None => return true,
            }
            false
        });
        if self.md5 {
            for (path, data) in &image.files.contents {
                if !MD5SUMS_GLOBS
                    .iter()
                    .any(|g| path.starts_with(g.trim_end_matches("*.md5sums")))
                {
                    continue;
                }
                let Some(file) = path.rsplit('/').next() else {
                    continue;
                };
                let Some(stem) = file.strip_suffix(".md5sums") else {
                    continue;
                };
                let package = stem.split(':').next().unwrap_or(stem).to_string();
                let entries = parse_md5sums(&String::from_utf8_lossy(data));
                facts
                    .package_md5
                    .entry(package)
                    .or_default()
                    .extend(entries);
            }
        }
        facts
    }
}

/// Parses a dpkg `md5sums` file: `<32 hex>  <path relative to />` per line.
pub(crate) fn parse_md5sums(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (sum, path) = line.split_once(char::is_whitespace)?;
            let path = path.trim_start();
            if sum.len() != 32 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) || path.is_empty() {
                return None;
            }
            let abs = normalize_path(&format!("/{path}"))?;
            Some((abs, sum.to_ascii_lowercase()))
        })
        .collect()
}

/// Hashes the files [`ContentNeeds`] asked for while layers stream. Only hits of files that
/// survive into the final filesystem are kept by the image stage, so a file replaced in a later
/// layer carries the digest of its final content.
#[derive(Debug)]
pub struct DigestScanner {
    sha256: BTreeSet<String>,
    md5: bool,
    md5_prefixes: Vec<String>,
    max_file_size: u64,
}

impl DigestScanner {
    fn md5_wanted(&self, path: &str) -> bool {
        self.md5
            && (self.md5_prefixes.is_empty()
                || self
                    .md5_prefixes
                    .iter()
                    .any(|p| path.starts_with(p.as_str())))
    }
}

impl ContentScanner for DigestScanner {
    fn wants(&self, path: &str, size: u64) -> bool {
        size <= self.max_file_size && (self.sha256.contains(path) || self.md5_wanted(path))
    }

    fn scan(&self, path: &str, data: &[u8]) -> Vec<ContentHit> {
        let mut out = Vec::new();
        if self.sha256.contains(path) {
            out.push(ContentHit {
                rule: format!("{DIGEST_PREFIX}sha256"),
                fingerprint: hex::encode(Sha256::digest(data)),
                ..ContentHit::default()
            });
        }
        if self.md5_wanted(path) {
            out.push(ContentHit {
                rule: format!("{DIGEST_PREFIX}md5"),
                fingerprint: format!("{:x}", md5::compute(data)),
                ..ContentHit::default()
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::rules_bundle as bundle;

    #[test]
    fn digests_only_when_a_rule_needs_them() {
        let none = ContentNeeds::of(&bundle(
            r#"{"id": "a", "gate": "files", "trigger": "attribute_match", "action": "WARN", "params": [{"name": "filename", "value": "/etc/passwd"}, {"name": "mode", "value": "00644"}]},
               {"id": "v", "gate": "packages", "trigger": "verify", "action": "WARN", "params": [{"name": "check", "value": "missing"}]}"#,
        ));
        assert!(!none.needs_digests());
        let mut req = ContentRequest::default();
        none.extend(&mut req);
        assert!(req.scanners.is_empty() && req.globs.is_empty());

        let some = ContentNeeds::of(&bundle(
            r#"{"id": "a", "gate": "files", "trigger": "attribute_match", "action": "WARN", "params": [{"name": "filename", "value": "/etc//passwd"}, {"name": "checksum", "value": "ab"}]},
               {"id": "v", "gate": "packages", "trigger": "verify", "action": "WARN", "params": [{"name": "only_directories", "value": "/usr/bin"}]},
               {"id": "r", "gate": "retrieved_files", "trigger": "content_regex", "action": "WARN", "params": [{"name": "path", "value": "/etc/app[1].conf"}, {"name": "regex", "value": "x"}, {"name": "check", "value": "match"}]}"#,
        ));
        assert!(some.needs_digests());
        let mut req = ContentRequest::default();
        some.extend(&mut req);
        assert_eq!(req.scanners.len(), 1);
        assert!(
            req.globs.contains(&"/etc/app[[]1[]].conf".to_string()),
            "{:?}",
            req.globs
        );
        let scanner = &req.scanners[0];
        assert!(scanner.wants("/etc/passwd", 10));
        assert!(scanner.wants("/usr/bin/ls", 10));
        assert!(!scanner.wants("/app/x", 10));
        assert!(!scanner.wants("/usr/bin/huge", req.max_file_size + 1));
        let hits = scanner.scan("/etc/passwd", b"abc");
        assert_eq!(
            hits[0].fingerprint,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            scanner.scan("/usr/bin/ls", b"abc")[0].fingerprint,
            "900150983cd24fb0d6963f7d28e17f72"
        );
    }

    #[test]
    fn md5sums_parse_and_reject_garbage() {
        let parsed = parse_md5sums(
            "900150983cd24fb0d6963f7d28e17f72  usr/bin/ls\nnot a line\nzz  usr/x\n0123456789abcdef0123456789ABCDEF  usr/share/../lib/y\n",
        );
        assert_eq!(
            parsed,
            vec![
                (
                    "/usr/bin/ls".to_string(),
                    "900150983cd24fb0d6963f7d28e17f72".to_string()
                ),
                (
                    "/usr/lib/y".to_string(),
                    "0123456789abcdef0123456789abcdef".to_string()
                )
            ]
        );
    }
}
