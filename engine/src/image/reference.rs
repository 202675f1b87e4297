//! `scheme:ref` parsing into a [`Reference`]: `registry:`, `docker-archive:`, `oci-archive:`,
//! `oci-dir:`, `dir:`, `sbom:`, bare registry references normalised as docker does
//! (`alpine` → `docker.io/library/alpine:latest`), and existing paths detected by content.
//!
//! Path sources accept a skopeo-style picker after the path: `docker-archive:x.tar:repo:tag`,
//! `docker-archive:x.tar:@1` (0-based index), `oci-dir:layout:latest` (an
//! `org.opencontainers.image.ref.name`). Detection reads at most the tar headers and the first
//! bytes of a file; nothing is written. Parsing does no network I/O.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::ImageError;

/// A registry reference, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// Registry host (and port): `docker.io`, `localhost:5000`, `ghcr.io`.
    pub registry: String,
    /// Repository path: `library/alpine`.
    pub repository: String,
    /// Tag, when given or defaulted (`latest` unless a digest is given).
    pub tag: Option<String>,
    /// `sha256:…` digest, when given.
    pub digest: Option<String>,
    /// Whether the input wrote a tag (false when `latest` was defaulted or only a digest was
    /// given): `REGISTRY/REPO` alone names the repository, e.g. for `store import`.
    pub tag_given: bool,
}

impl RegistryRef {
    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl std::fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A registry.
    Registry(RegistryRef),
    /// A `docker save` tar; `pick` is `repo:tag` or `@N`.
    DockerArchive {
        /// The tar.
        path: PathBuf,
        /// Which image of a multi-image archive.
        pick: Option<String>,
    },
    /// A tar of an OCI image layout; `pick` is a ref name or `@N`.
    OciArchive {
        /// The tar.
        path: PathBuf,
        /// Which manifest of the index.
        pick: Option<String>,
    },
    /// An OCI image layout directory; `pick` is a ref name or `@N`.
    OciDir {
        /// The directory.
        path: PathBuf,
        /// Which manifest of the index.
        pick: Option<String>,
    },
    /// A root filesystem directory.
    Dir {
        /// The directory.
        path: PathBuf,
    },
    /// An SBOM document (read by the catalog stage, not here).
    Sbom {
        /// The file.
        path: PathBuf,
    },
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The input exactly as given.
    pub input: String,
    /// What it resolved to.
    pub source: Source,
}

impl Reference {
    /// Parses a reference (see the module docs).
    pub fn parse(input: &str) -> Result<Reference, ImageError> {
        let input_s = input.to_string();
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ImageError::InvalidReference {
                input: input_s,
                reason: "empty reference".into(),
            });
        }
        let source = if let Some(rest) = trimmed.strip_prefix("registry:") {
            Source::Registry(parse_registry(rest.trim_start_matches("//"), input)?)
        } else if let Some(rest) = trimmed.strip_prefix("docker-archive:") {
            let (path, pick) = split_pick(rest, input)?;
            Source::DockerArchive { path, pick }
        } else if let Some(rest) = trimmed.strip_prefix("oci-archive:") {
            let (path, pick) = split_pick(rest, input)?;
            Source::OciArchive { path, pick }
        } else if let Some(rest) = trimmed
            .strip_prefix("oci-dir:")
            .or_else(|| trimmed.strip_prefix("oci:"))
        {
            let (path, pick) = split_pick(rest, input)?;
            Source::OciDir { path, pick }
        } else if let Some(rest) = trimmed.strip_prefix("dir:") {
            Source::Dir {
                path: PathBuf::from(rest),
            }
        } else if let Some(rest) = trimmed.strip_prefix("sbom:") {
            Source::Sbom {
                path: PathBuf::from(rest),
            }
        } else if let Some(rest) = trimmed.strip_prefix("docker:") {
            Source::Registry(parse_registry(rest.trim_start_matches("//"), input)?)
        } else if Path::new(trimmed).exists() {
            detect(Path::new(trimmed))?
        } else {
            Source::Registry(parse_registry(trimmed, input)?)
        };
        Ok(Reference {
            input: input_s,
            source,
        })
    }

    /// The scheme name: `registry`, `docker-archive`, `oci-archive`, `oci-dir`, `dir`, `sbom`.
    pub fn scheme(&self) -> &'static str {
        match &self.source {
            Source::Registry(_) => "registry",
            Source::DockerArchive { .. } => "docker-archive",
            Source::OciArchive { .. } => "oci-archive",
            Source::OciDir { .. } => "oci-dir",
            Source::Dir { .. } => "dir",
            Source::Sbom { .. } => "sbom",
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Source::Registry(r) => write!(f, "registry:{r}"),
            Source::DockerArchive { path, pick }
            | Source::OciArchive { path, pick }
            | Source::OciDir { path, pick } => {
                write!(f, "{}:{}", self.scheme(), path.display())?;
                if let Some(p) = pick {
                    write!(f, ":{p}")?;
                }
                Ok(())
            }
            Source::Dir { path } | Source::Sbom { path } => {
                write!(f, "{}:{}", self.scheme(), path.display())
            }
        }
    }
}

/// `PATH[:PICK]`: the longest existing prefix before a `:` is the path.
fn split_pick(rest: &str, input: &str) -> Result<(PathBuf, Option<String>), ImageError> {
    if rest.is_empty() {
        return Err(ImageError::InvalidReference {
            input: input.into(),
            reason: "missing path after the scheme".into(),
        });
    }
    if Path::new(rest).exists() {
        return Ok((PathBuf::from(rest), None));
    }
    for (i, _) in rest.match_indices(':') {
        let (p, pick) = (&rest[..i], &rest[i + 1..]);
        if !p.is_empty() && Path::new(p).exists() && !pick.is_empty() {
            return Ok((PathBuf::from(p), Some(pick.to_string())));
        }
    }
    // Not existing: the source reports a clear I/O error naming the path.
    Ok((PathBuf::from(rest), None))
}

/// Normalises a registry reference as docker does.
pub(crate) fn parse_registry(s: &str, input: &str) -> Result<RegistryRef, ImageError> {
    let bad = |reason: &str| ImageError::InvalidReference {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => {
            super::manifest::digest_hex(d, input)
                .map_err(|_| bad("a digest is `sha256:` followed by 64 hex characters"))?;
            (n, Some(d.to_ascii_lowercase()))
        }
        None => (s, None),
    };
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(name_tag[last_slash + i + 1..].to_string()),
        ),
        None => (name_tag, None),
    };
    if let Some(t) = &tag
        && (t.is_empty()
            || t.len() > 128
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
    {
        return Err(bad("a tag is up to 128 of `[A-Za-z0-9_.-]`"));
    }
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_ascii_lowercase(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let registry = if registry == "index.docker.io" || registry == "registry-1.docker.io" {
        "docker.io".to_string()
    } else {
        registry
    };
    if repo.is_empty() {
        return Err(bad("missing repository name"));
    }
    if repo.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(bad("repository names must be lowercase"));
    }
    let valid = repo.split('/').all(|c| {
        !c.is_empty()
            && c.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
    });
    if !valid {
        return Err(bad(
            "repository components are `[a-z0-9]` separated by `.`, `_` or `-`",
        ));
    }
    let repository = if registry == "docker.io" && !repo.contains('/') {
        format!("library/{repo}")
    } else {
        repo
    };
    let tag_given = tag.is_some();
    let tag = match (tag, &digest) {
        (None, None) => Some("latest".to_string()),
        (t, _) => t,
    };
    Ok(RegistryRef {
        registry,
        repository,
        tag,
        digest,
        tag_given,
    })
}

/// Detects what an existing path is, by content.
fn detect(path: &Path) -> Result<Source, ImageError> {
    let meta = std::fs::metadata(path).map_err(|e| ImageError::io(path, e))?;
    if meta.is_dir() {
        if path.join("oci-layout").is_file() && path.join("index.json").is_file() {
            return Ok(Source::OciDir {
                path: path.into(),
                pick: None,
            });
        }
        return Ok(Source::Dir { path: path.into() });
    }
    let mut head = [0u8; 512];
    let n = {
        let mut f = std::fs::File::open(path).map_err(|e| ImageError::io(path, e))?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => return Err(ImageError::io(path, e)),
            }
        }
        n
    };
    let head = &head[..n];
    if n == 512 && &head[257..262] == b"ustar" {
        let index = super::archive::TarIndex::open(path)?;
        if index.contains("manifest.json") {
            return Ok(Source::DockerArchive {
                path: path.into(),
                pick: None,
            });
        }
        if index.contains("oci-layout") {
            return Ok(Source::OciArchive {
                path: path.into(),
                pick: None,
            });
        }
        return Err(ImageError::UnknownFormat {
            path: path.into(),
            reason:
                "a tar with neither `manifest.json` (docker-archive) nor `oci-layout` (oci-archive)"
                    .into(),
        });
    }
    if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(ImageError::UnknownFormat {
            path: path.into(),
            reason: "a compressed file; decompress a `docker save` tar before scanning it".into(),
        });
    }
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('<') || t.starts_with("SPDXVersion") {
        let whole = text.to_ascii_lowercase();
        if [
            "bomformat",
            "spdxversion",
            "\"artifacts\"",
            "cyclonedx",
            "spdxid",
            "\"descriptor\"",
        ]
        .iter()
        .any(|k| whole.contains(k))
        {
            return Ok(Source::Sbom { path: path.into() });
        }
    }
    Err(ImageError::UnknownFormat {
        path: path.into(),
        reason: "not a tar, OCI layout, directory or SBOM".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> RegistryRef {
        match Reference::parse(s).unwrap().source {
            Source::Registry(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn docker_normalisation() {
        assert_eq!(reg("alpine").to_string(), "docker.io/library/alpine:latest");
        assert!(!reg("alpine").tag_given, "`latest` was defaulted");
        assert!(
            !reg("localhost:5000/team/app").tag_given,
            "a port is not a tag"
        );
        assert!(reg("localhost:5000/team/app:latest").tag_given);
        let digest = format!("alpine@sha256:{}", "a".repeat(64));
        assert!(!reg(&digest).tag_given);
        assert_eq!(reg("user/app:1").to_string(), "docker.io/user/app:1");
        assert_eq!(
            reg("localhost:5000/app:1.0").to_string(),
            "localhost:5000/app:1.0"
        );
        assert_eq!(reg("registry:ghcr.io/o/r").registry, "ghcr.io");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = reg(&format!("127.0.0.1:5000/app@{d}"));
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert!(Reference::parse("Alpine").is_err());
        assert!(Reference::parse("app@sha256:zz").is_err());
        assert!(Reference::parse("app:bad tag").is_err());
        assert_eq!(Reference::parse("sbom:x.json").unwrap().scheme(), "sbom");
    }

    #[test]
    fn path_pickers() {
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("img.tar");
        std::fs::write(&tar, b"x").unwrap();
        let r = Reference::parse(&format!("docker-archive:{}:repo/app:1", tar.display())).unwrap();
        assert_eq!(
            r.source,
            Source::DockerArchive {
                path: tar.clone(),
                pick: Some("repo/app:1".into())
            }
        );
        let r = Reference::parse(&format!("oci-dir:{}", dir.path().display())).unwrap();
        assert_eq!(r.scheme(), "oci-dir");
        // A plain directory without oci-layout is a root filesystem.
        assert_eq!(
            Reference::parse(&dir.path().display().to_string())
                .unwrap()
                .scheme(),
            "dir"
        );
    }
}
