//! OpenVEX input (`--vex FILE`): statements saying a vulnerability does not affect (or is fixed
//! in) a product. A statement applies to a finding when its vulnerability (name or aliases)
//! is one of the finding's ids and one of its products — or a product's subcomponents — is
//! the finding's package, compared as purls (type, namespace, name; version when the
//! statement gives one; qualifiers ignored). A product that is an image (`pkg:oci/…`,
//! `pkg:docker/…`) without subcomponents covers every package of the scan: it is not checked
//! against the scanned image's digest.
//!
//! Only `not_affected` (which needs a `justification` or `impact_statement`, as OpenVEX
//! requires) and `fixed` suppress; `affected` and `under_investigation` are read and count as
//! used but suppress nothing. Later statements override earlier ones for the same finding.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::matcher::{Match, MatchError};

/// A parsed OpenVEX document.
#[derive(Debug, Clone, Default)]
pub struct VexDocument {
    /// The file it came from.
    pub file: PathBuf,
    /// Its statements, in order.
    pub statements: Vec<VexStatement>,
}

/// One statement, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VexStatement {
    /// Vulnerability name and aliases.
    pub vulnerability_ids: Vec<String>,
    /// Product identifiers (purls), each with its subcomponent identifiers.
    pub products: Vec<(String, Vec<String>)>,
    /// `not_affected`, `affected`, `fixed`, `under_investigation`.
    pub status: String,
    /// The justification (or impact statement) given.
    pub justification: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum VulnField {
    Name(String),
    Object {
        #[serde(default)]
        name: Option<String>,
        #[serde(default, rename = "@id")]
        id: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ProductField {
    Id(String),
    Object {
        #[serde(default, rename = "@id")]
        id: Option<String>,
        #[serde(default)]
        identifiers: Option<serde_json::Map<String, serde_json::Value>>,
        #[serde(default)]
        subcomponents: Vec<ProductField>,
    },
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: VulnField,
    #[serde(default)]
    products: Vec<ProductField>,
    status: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
}

#[derive(Deserialize)]
struct RawDoc {
    #[serde(rename = "@context", default)]
    context: String,
    #[serde(default)]
    statements: Vec<RawStatement>,
}

fn product_id(p: &ProductField) -> Option<String> {
    match p {
        ProductField::Id(s) => Some(s.clone()),
        ProductField::Object {
            id, identifiers, ..
        } => id.clone().or_else(|| {
            identifiers
                .as_ref()
                .and_then(|m| m.get("purl"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        }),
    }
}

impl VexDocument {
    /// Reads an OpenVEX JSON document.
    pub fn load(path: impl AsRef<Path>) -> Result<VexDocument, MatchError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| MatchError::BadVex {
            path: path.to_path_buf(),
            reason: format!("cannot read it: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses OpenVEX JSON text.
    pub fn parse(text: &str, path: &Path) -> Result<VexDocument, MatchError> {
        let bad = |reason: String| MatchError::BadVex {
            path: path.to_path_buf(),
            reason,
        };
        let raw: RawDoc = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !raw.context.starts_with("https://openvex.dev/ns") {
            return Err(bad(format!(
                "`@context` is `{}`, not an OpenVEX namespace (https://openvex.dev/ns/…)",
                raw.context
            )));
        }
        let mut statements = Vec::new();
        for (i, s) in raw.statements.into_iter().enumerate() {
            let status = s.status.trim().to_ascii_lowercase();
            if !["not_affected", "affected", "fixed", "under_investigation"]
                .contains(&status.as_str())
            {
                return Err(bad(format!(
                    "statements[{i}].status: unknown status `{}`",
                    s.status
                )));
            }
            let justification = s
                .justification
                .clone()
                .or(s.impact_statement.clone())
                .unwrap_or_default();
            if status == "not_affected" && justification.is_empty() {
                return Err(bad(format!(
                    "statements[{i}]: `not_affected` needs a `justification` or `impact_statement`"
                )));
            }
            let vulnerability_ids: Vec<String> = match s.vulnerability {
                VulnField::Name(n) => vec![n],
                VulnField::Object { name, id, aliases } => {
                    name.into_iter().chain(id).chain(aliases).collect()
                }
            };
            if vulnerability_ids.is_empty() {
                return Err(bad(format!("statements[{i}].vulnerability: no name")));
            }
            let products: Vec<(String, Vec<String>)> = s
                .products
                .iter()
                .filter_map(|p| {
                    let id = product_id(p)?;
                    let subs = match p {
                        ProductField::Object { subcomponents, .. } => {
                            subcomponents.iter().filter_map(product_id).collect()
                        }
                        ProductField::Id(_) => Vec::new(),
                    };
                    Some((id, subs))
                })
                .collect();
            if products.is_empty() {
                return Err(bad(format!(
                    "statements[{i}].products: no product identifiers"
                )));
            }
            statements.push(VexStatement {
                vulnerability_ids,
                products,
                status,
                justification,
            });
        }
        Ok(VexDocument {
            file: path.to_path_buf(),
            statements,
        })
    }
}

/// `(type, namespace/name, version)` of a purl, lowercase type; qualifiers and subpath dropped.
fn purl_key(p: &str) -> Option<(String, String, Option<String>)> {
    let rest = p.strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next()?;
    let (path, version) = match rest.rsplit_once('@') {
        Some((a, v)) if !a.is_empty() => (a, Some(v.replace("%2B", "+").replace("%2b", "+"))),
        _ => (rest, None),
    };
    let (kind, name) = path.split_once('/')?;
    let kind = kind.to_ascii_lowercase();
    let name = if matches!(
        kind.as_str(),
        "pypi" | "npm" | "golang" | "deb" | "apk" | "gem"
    ) {
        name.to_ascii_lowercase().replace('_', "-")
    } else {
        name.to_string()
    };
    Some((kind, name, version))
}

fn purl_matches(statement_purl: &str, package_purl: &str) -> bool {
    let (Some(s), Some(p)) = (purl_key(statement_purl), purl_key(package_purl)) else {
        return false;
    };
    s.0 == p.0 && s.1 == p.1 && s.2.as_ref().is_none_or(|v| Some(v) == p.2.as_ref())
}

fn is_image(purl: &str) -> bool {
    purl.starts_with("pkg:oci/") || purl.starts_with("pkg:docker/")
}

impl VexStatement {
    /// True when this statement speaks about `m`.
    pub fn applies_to(&self, m: &Match) -> bool {
        let ids = std::iter::once(&m.vulnerability.id).chain(m.vulnerability.aliases.iter());
        let vuln = ids.into_iter().any(|id| {
            self.vulnerability_ids
                .iter()
                .any(|v| v.eq_ignore_ascii_case(id))
        });
        if !vuln {
            return false;
        }
        self.products.iter().any(|(product, subs)| {
            if subs.is_empty() {
                is_image(product) || purl_matches(product, &m.purl)
            } else {
                subs.iter().any(|s| purl_matches(s, &m.purl))
            }
        })
    }

    /// True for statuses that suppress.
    pub fn suppresses(&self) -> bool {
        self.status == "not_affected" || self.status == "fixed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert!(purl_matches("pkg:pypi/PyYAML@5.3", "pkg:pypi/pyyaml@5.3"));
        assert!(purl_matches("pkg:pypi/pyyaml", "pkg:pypi/pyyaml@5.3"));
        assert!(!purl_matches("pkg:pypi/pyyaml@5.4", "pkg:pypi/pyyaml@5.3"));
        assert!(purl_matches(
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
        ));
        assert!(!purl_matches("pkg:npm/lodash", "pkg:pypi/lodash@1"));
    }

    #[test]
    fn rejects_bad_documents() {
        let p = Path::new("x.vex.json");
        assert!(VexDocument::parse("{}", p).is_err(), "no context");
        let no_just = r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"products":["pkg:npm/a"],"status":"not_affected"}]}"#;
        assert!(
            VexDocument::parse(no_just, p)
                .unwrap_err()
                .to_string()
                .contains("justification")
        );
        let bad_status = r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":"CVE-1","products":["pkg:npm/a"],"status":"maybe"}]}"#;
        assert!(VexDocument::parse(bad_status, p).is_err());
        let ok = r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":"CVE-1","products":[{"@id":"pkg:oci/app","subcomponents":[{"@id":"pkg:npm/a@1"}]}],"status":"fixed"}]}"#;
        let d = VexDocument::parse(ok, p).unwrap();
        assert_eq!(
            d.statements[0].products[0].1,
            vec!["pkg:npm/a@1".to_string()]
        );
    }
}
