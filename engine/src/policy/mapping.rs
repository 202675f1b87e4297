//! Image tag parsing and Anchore's selector matching: which mapping, allowlisted-image rule and
//! denylisted-image rule apply to an image (first match wins).
//!
//! Globs follow anchore-engine exactly: `*` is the only wildcard, anchored at both ends,
//! case-sensitive; a `regexp:` prefix makes the rest a raw regex matched from the start.
//! Tags are parsed like a docker pull string without Docker Hub normalisation.

use super::bundle::ImageSelector;

/// A parsed image tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTag {
    /// Registry (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// Repository (`library/nginx`, `nginx`).
    pub repository: String,
    /// Tag (`latest` when absent).
    pub tag: String,
}

impl ImageTag {
    /// Parses `[registry/]repository[:tag][@digest]`.
    pub fn parse(input: &str) -> ImageTag {
        let mut s = input.trim();
        let rewritten;
        if let Some(rest) = s.strip_prefix("dockerhub/") {
            rewritten = format!("docker.io/{rest}");
            s = &rewritten;
        }
        let s = s.split_once('@').map_or(s, |(a, _)| a);
        let (registry, rest) = match s.split_once('/') {
            Some((first, rest))
                if first.contains('.')
                    || first.contains(':')
                    || matches!(
                        first,
                        "localhost" | "localhost.localdomain" | "localbuild" | "docker.io"
                    ) =>
            {
                (first.to_string(), rest)
            }
            _ => ("docker.io".to_string(), s),
        };
        let (repository, tag) = match rest.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
            _ => (rest.to_string(), "latest".to_string()),
        };
        ImageTag {
            registry,
            repository,
            tag,
        }
    }

    /// `registry/repository:tag`.
    pub fn full(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

/// The image identity selectors compare against.
#[derive(Debug, Clone, Default)]
pub struct ImageIdentity {
    /// Parsed tag, when the image has one.
    pub tag: Option<ImageTag>,
    /// Manifest digest (`sha256:…`).
    pub digest: String,
    /// Image id (config digest).
    pub id: String,
}

/// Anchore's glob: `*` wildcard only, anchored; `regexp:` prefix = regex from the start.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    if let Some(re) = pattern.strip_prefix("regexp:") {
        return regex::Regex::new(&format!("^(?:{re})")).is_ok_and(|r| r.is_match(text));
    }
    wildcard(pattern, text)
}

/// `*`-only wildcard matching without regex compilation.
pub(crate) fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Whether a rule's selector matches the image.
pub fn selector_matches(
    registry: &str,
    repository: &str,
    image: &ImageSelector,
    who: &ImageIdentity,
) -> bool {
    let strip = |s: &str| s.strip_prefix("sha256:").unwrap_or(s).to_string();
    match image.kind.as_str() {
        "tag" => who.tag.as_ref().is_some_and(|t| {
            glob_match(registry, &t.registry)
                && glob_match(repository, &t.repository)
                && glob_match(&image.value, &t.tag)
        }),
        kind => {
            let (reg, repo) = match &who.tag {
                Some(t) => (
                    glob_match(registry, &t.registry),
                    glob_match(repository, &t.repository),
                ),
                // An untagged image only matches `*` registry/repository.
                None => (registry == "*", repository == "*"),
            };
            let value = if kind == "digest" {
                &who.digest
            } else {
                &who.id
            };
            reg && repo && !value.is_empty() && strip(value) == strip(&image.value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_like_anchore() {
        let t = ImageTag::parse("nginx");
        assert_eq!(
            (t.registry.as_str(), t.repository.as_str(), t.tag.as_str()),
            ("docker.io", "nginx", "latest")
        );
        let t = ImageTag::parse("localhost:5000/team/app:1.2");
        assert_eq!(
            (t.registry.as_str(), t.repository.as_str(), t.tag.as_str()),
            ("localhost:5000", "team/app", "1.2")
        );
        let t = ImageTag::parse("registry1.dsop.io/ironbank/opensource/nginx/nginx:1.19");
        assert_eq!(t.repository, "ironbank/opensource/nginx/nginx");
        let t = ImageTag::parse("dockerhub/library/alpine@sha256:abc");
        assert_eq!(
            (t.registry.as_str(), t.repository.as_str(), t.tag.as_str()),
            ("docker.io", "library/alpine", "latest")
        );
        let t = ImageTag::parse("myorg/app:v1");
        assert_eq!(
            (t.registry.as_str(), t.repository.as_str()),
            ("docker.io", "myorg/app")
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("CVE-2018-0737+*", "CVE-2018-0737+openssl"));
        assert!(!glob_match("CVE-2018-0737", "CVE-2018-0737+openssl"));
        assert!(glob_match("*binutils*", "CVE-1+binutils-common"));
        assert!(glob_match("opensource/nginx/*", "opensource/nginx/nginx"));
        assert!(!glob_match("a*a", "a"));
        assert!(!glob_match("?", "x"));
        assert!(glob_match("regexp:lib.*", "library/nginx"));
        assert!(!glob_match("Nginx", "nginx"));
    }
}
