//! Package URLs per the purl spec (`pkg:type/namespace/name@version?qualifiers`), built from a
//! [`Package`] and the image's [`Distro`].
//!
//! Encoding, qualifier order and per-type name normalisation (lower-case PyPI and npm-less
//! types, `_` → `-` for PyPI) come from the `packageurl` crate; this module only decides what
//! goes in each part for each [`PackageType`]:
//!
//! | type | purl |
//! |---|---|
//! | deb | `pkg:deb/<distro id>/<name>@<version>?arch=…&distro=<id>-<version_id>&upstream=<source>` |
//! | apk | `pkg:apk/<distro id>/<name>@<version>?arch=…&distro=…&upstream=<origin>` |
//! | rpm | `pkg:rpm/<distro id>/<name>@<version-release>?arch=…&epoch=…&distro=…&upstream=<srpm>` |
//! | python | `pkg:pypi/<name>@<version>` |
//! | npm | `pkg:npm/<@scope>/<name>@<version>` |
//! | java-archive | `pkg:maven/<groupId>/<artifactId>@<version>` |
//! | go-module | `pkg:golang/<module path>@<version>` |
//! | rust-crate | `pkg:cargo/<name>@<version>` |
//! | gem | `pkg:gem/<name>@<version>` |
//! | php-composer | `pkg:composer/<vendor>/<name>@<version>` |
//! | dotnet | `pkg:nuget/<name>@<version>` |
//!
//! Never fails: a part the crate rejects is dropped; a package with no name gets no purl.

use packageurl::PackageUrl;

use super::{Distro, Package, PackageType};

/// The purl of `p`, or an empty string when it cannot have one.
pub fn package_purl(p: &Package, distro: Option<&Distro>) -> String {
    let meta_str = |k: &str| {
        p.metadata
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let (ty, namespace, name): (&str, Option<String>, String) = match p.kind {
        PackageType::Deb | PackageType::Apk | PackageType::Rpm => {
            let ty = match p.kind {
                PackageType::Deb => "deb",
                PackageType::Apk => "apk",
                _ => "rpm",
            };
            let ns = distro
                .map(|d| d.id.clone())
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    Some(match p.kind {
                        PackageType::Deb => "debian".into(),
                        PackageType::Apk => "alpine".into(),
                        _ => return None,
                    })
                });
            (ty, ns, p.name.clone())
        }
        PackageType::Python => ("pypi", None, p.name.clone()),
        PackageType::Npm => match p.name.split_once('/') {
            Some((scope, n)) if scope.starts_with('@') => {
                ("npm", Some(scope.to_string()), n.to_string())
            }
            _ => ("npm", None, p.name.clone()),
        },
        PackageType::JavaArchive => {
            let group = meta_str("group_id");
            let artifact = meta_str("artifact_id").unwrap_or_else(|| p.name.clone());
            ("maven", group, artifact)
        }
        PackageType::GoModule => match p.name.rsplit_once('/') {
            Some((ns, n)) => ("golang", Some(ns.to_string()), n.to_string()),
            None => ("golang", None, p.name.clone()),
        },
        PackageType::RustCrate => ("cargo", None, p.name.clone()),
        PackageType::Gem => ("gem", None, p.name.clone()),
        PackageType::PhpComposer => match p.name.split_once('/') {
            Some((v, n)) => ("composer", Some(v.to_string()), n.to_string()),
            None => ("composer", None, p.name.clone()),
        },
        PackageType::Dotnet => ("nuget", None, p.name.clone()),
        PackageType::Unknown => ("generic", None, p.name.clone()),
    };
    if name.is_empty() {
        return String::new();
    }
    let Ok(mut purl) = PackageUrl::new(ty, name.as_str()) else {
        return String::new();
    };
    if let Some(ns) = namespace.as_deref().filter(|s| !s.is_empty()) {
        let _ = purl.with_namespace(ns);
    }
    let mut version = p.version.clone();
    if p.kind == PackageType::Rpm {
        // rpm versions carry the epoch as a qualifier, not in the version.
        if let Some((epoch, rest)) = version.split_once(':')
            && epoch.chars().all(|c| c.is_ascii_digit())
        {
            let rest = rest.to_string();
            let _ = purl.add_qualifier("epoch", epoch.to_string());
            version = rest;
        }
    }
    if !version.is_empty() {
        let _ = purl.with_version(version.as_str());
    }
    if p.kind.is_os() {
        if let Some(arch) = p.arch.as_deref().filter(|a| !a.is_empty()) {
            let _ = purl.add_qualifier("arch", arch.to_string());
        }
        if let Some(d) = distro.filter(|d| !d.id.is_empty()) {
            let q = if d.version_id.is_empty() {
                d.id.clone()
            } else {
                format!("{}-{}", d.id, d.version_id)
            };
            let _ = purl.add_qualifier("distro", q);
        }
        let upstream = match p.kind {
            PackageType::Rpm => meta_str("source_rpm"),
            _ => p.source_name.as_ref().map(|s| match &p.source_version {
                Some(v) => format!("{s}@{v}"),
                None => s.clone(),
            }),
        };
        if let Some(u) = upstream.filter(|u| !u.is_empty()) {
            let _ = purl.add_qualifier("upstream", u);
        }
    }
    purl.to_string()
}

/// Parts of a purl string read back (for SBOM input): type, namespace, name, version.
pub fn parse(purl: &str) -> Option<(String, Option<String>, String, Option<String>)> {
    let p: PackageUrl<'_> = purl.parse().ok()?;
    Some((
        p.ty().to_string(),
        p.namespace().map(str::to_string),
        p.name().to_string(),
        p.version().map(str::to_string),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(kind: PackageType, name: &str, version: &str) -> Package {
        Package {
            kind,
            name: name.into(),
            version: version.into(),
            ..Default::default()
        }
    }

    #[test]
    fn deb_with_source_and_distro() {
        let mut p = pkg(PackageType::Deb, "libc6", "2.36-9+deb12u4");
        p.arch = Some("amd64".into());
        p.source_name = Some("glibc".into());
        let d = Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Default::default()
        };
        assert_eq!(
            package_purl(&p, Some(&d)),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
        );
    }

    #[test]
    fn rpm_epoch_becomes_a_qualifier() {
        let mut p = pkg(PackageType::Rpm, "openssl-libs", "1:3.0.7-25.el9");
        p.arch = Some("x86_64".into());
        let d = Distro {
            id: "rocky".into(),
            version_id: "9.3".into(),
            ..Default::default()
        };
        assert_eq!(
            package_purl(&p, Some(&d)),
            "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9?arch=x86_64&distro=rocky-9.3&epoch=1"
        );
    }

    #[test]
    fn language_purls() {
        assert_eq!(
            package_purl(&pkg(PackageType::Npm, "@types/node", "18.18.14"), None),
            "pkg:npm/%40types/node@18.18.14"
        );
        assert_eq!(
            package_purl(&pkg(PackageType::Python, "PyYAML", "5.3"), None),
            "pkg:pypi/pyyaml@5.3"
        );
        assert_eq!(
            package_purl(
                &pkg(PackageType::GoModule, "golang.org/x/text", "v0.3.7"),
                None
            ),
            "pkg:golang/golang.org/x/text@v0.3.7"
        );
        let mut j = pkg(PackageType::JavaArchive, "log4j-core", "2.14.1");
        j.metadata
            .insert("group_id".into(), "org.apache.logging.log4j".into());
        assert_eq!(
            package_purl(&j, None),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            package_purl(
                &pkg(PackageType::PhpComposer, "monolog/monolog", "2.9.1"),
                None
            ),
            "pkg:composer/monolog/monolog@2.9.1"
        );
        assert_eq!(
            parse("pkg:npm/%40types/node@18.18.14")
                .unwrap()
                .1
                .as_deref(),
            Some("@types")
        );
    }
}
