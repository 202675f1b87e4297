//! Which advisory keys a package is looked up under: the matchers. Each [`Matcher`] turns an
//! inventory package (plus the image's distro) into [`Query`]s — OSV ecosystem string, name as
//! advisories spell it, version to compare, and version scheme. One unit struct per kind of
//! package, listed once in [`MATCHERS`].
//!
//! Does not read the DB or compare versions. Invariants: Debian/Ubuntu/Alpine packages are
//! queried by their SOURCE package name and version (dpkg `Source:`, apk origin), because those
//! advisories are keyed that way; RPM packages by their binary name and `[epoch:]version-release`
//! (AlmaLinux `AlmaLinux:<major>`, Rocky `Rocky Linux:<major>`, RHEL every
//! `Red Hat:enterprise_linux:<major>::<repo>` stream in the DB, also by source rpm name);
//! language packages by their ecosystem's name (normalised later by `vulndb::name_key`).

use crate::catalog::{Distro, Package, PackageType};
use crate::version::Scheme;

/// One lookup in the advisory DB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The matcher that produced it.
    pub matcher: &'static str,
    /// The OSV ecosystem string (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    /// The name advisories use (source name for OS packages).
    pub name: String,
    /// The version to compare (source version for OS packages).
    pub version: String,
    /// The scheme to compare with.
    pub scheme: Scheme,
}

/// What matchers may consult besides the package.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// The image's distro.
    pub distro: Option<&'a Distro>,
    /// `--distro` override: the OSV ecosystem(s) for OS packages, e.g. `Debian:12`.
    pub distro_override: Option<&'a str>,
    /// OSV ecosystem strings present in the DB (to choose between `Ubuntu:22.04:LTS` forms).
    pub db_ecosystems: &'a [String],
}

/// Produces DB lookups for the packages it handles.
pub trait Matcher: Sync {
    /// Kebab-case id, recorded in every match detail.
    fn id(&self) -> &'static str;
    /// The lookups for `pkg`; empty when this matcher does not handle it.
    fn queries(&self, pkg: &Package, env: &Env<'_>) -> Vec<Query>;
}

/// OS packages: distro + release, through the source package.
pub struct DistroSourceMatcher;
/// Language packages: ecosystem + name.
pub struct LanguageMatcher;

/// Every matcher, in the order their queries are made.
pub static MATCHERS: &[&dyn Matcher] = &[&DistroSourceMatcher, &LanguageMatcher];

fn debian_release(d: &Distro) -> Option<String> {
    let major = d.version_id.split('.').next().unwrap_or_default();
    if !major.is_empty() && major.chars().all(|c| c.is_ascii_digit()) {
        return Some(major.to_string());
    }
    let codename = d.codename.as_deref().unwrap_or_default();
    let known = [
        ("trixie", "13"),
        ("bookworm", "12"),
        ("bullseye", "11"),
        ("buster", "10"),
        ("stretch", "9"),
        ("jessie", "8"),
        ("wheezy", "7"),
        ("sid", "unstable"),
    ];
    known
        .iter()
        .find(|(c, _)| *c == codename)
        .map(|(_, v)| (*v).to_string())
}

/// The OSV ecosystem strings for a distro's OS packages (several candidates for Ubuntu).
pub fn distro_ecosystems(d: &Distro, db_ecosystems: &[String]) -> Vec<String> {
    let id = d.id.to_ascii_lowercase();
    let like = |x: &str| id == x || d.id_like.iter().any(|l| l.eq_ignore_ascii_case(x));
    let major = d
        .version_id
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut out = Vec::new();
    if id == "ubuntu" {
        for cand in [
            format!("Ubuntu:{}:LTS", d.version_id),
            format!("Ubuntu:{}", d.version_id),
        ] {
            if db_ecosystems.contains(&cand) {
                out.push(cand);
            }
        }
        if out.is_empty() {
            out.push(format!("Ubuntu:{}:LTS", d.version_id));
        }
    } else if like("debian") && id != "ubuntu" {
        if let Some(r) = debian_release(d) {
            out.push(format!("Debian:{r}"));
        }
    } else if id == "alpine" {
        let mut parts = d.version_id.split('.');
        if let (Some(a), Some(b)) = (parts.next(), parts.next()) {
            out.push(format!("Alpine:v{a}.{b}"));
        }
    } else if id == "almalinux" && !major.is_empty() {
        out.push(format!("AlmaLinux:{major}"));
    } else if id == "rocky" && !major.is_empty() {
        out.push(format!("Rocky Linux:{major}"));
    } else if id == "rhel" && !major.is_empty() {
        out.extend(red_hat_ecosystems(&major, db_ecosystems));
    }
    out
}

/// Red Hat's OSV ecosystems are per product stream and repository
/// (`Red Hat:enterprise_linux:9::baseos`, `Red Hat:enterprise_linux:9::appstream`, …) and an
/// image does not record which repository a package came from, so every
/// `Red Hat:enterprise_linux:<major>` stream present in the DB is queried (the same advisory
/// found in two streams is one finding after merging). EUS/AUS/E4S streams
/// (`Red Hat:rhel_eus:9.2::…`) are for hosts pinned to a minor release and are not queried.
/// With no Red Hat data in the DB the two main repositories are named, so `explain` can say
/// what it looked for.
fn red_hat_ecosystems(major: &str, db_ecosystems: &[String]) -> Vec<String> {
    let exact = format!("Red Hat:enterprise_linux:{major}");
    let prefix = format!("{exact}::");
    let found: Vec<String> = db_ecosystems
        .iter()
        .filter(|e| **e == exact || e.starts_with(&prefix))
        .cloned()
        .collect();
    if found.is_empty() {
        vec![format!("{prefix}baseos"), format!("{prefix}appstream")]
    } else {
        found
    }
}

impl Matcher for DistroSourceMatcher {
    fn id(&self) -> &'static str {
        "distro-source-matcher"
    }

    fn queries(&self, pkg: &Package, env: &Env<'_>) -> Vec<Query> {
        let scheme = match pkg.kind {
            PackageType::Deb => Scheme::Deb,
            PackageType::Apk => Scheme::Apk,
            PackageType::Rpm => Scheme::Rpm,
            _ => return Vec::new(),
        };
        let ecosystems: Vec<String> = match (env.distro_override, env.distro) {
            (Some(o), _) => o.split(',').map(|s| s.trim().to_string()).collect(),
            (None, Some(d)) => distro_ecosystems(d, env.db_ecosystems),
            (None, None) => Vec::new(),
        };
        // Debian/Ubuntu/Alpine advisories name source packages; RPM distros (AlmaLinux, Rocky)
        // name binary packages. Red Hat's records are looked up under the binary name and, when
        // it differs, the source rpm's name too (an advisory found both ways is one finding).
        let source = (
            pkg.source_name.clone().unwrap_or_else(|| pkg.name.clone()),
            pkg.source_version
                .clone()
                .unwrap_or_else(|| pkg.version.clone()),
        );
        let mut out = Vec::new();
        for ecosystem in ecosystems
            .into_iter()
            .filter(|e| Scheme::for_ecosystem(e) == Some(scheme))
        {
            let mut keys = Vec::new();
            if pkg.kind == PackageType::Rpm {
                keys.push((pkg.name.clone(), pkg.version.clone()));
                if ecosystem.starts_with("Red Hat:") && source.0 != pkg.name {
                    keys.push(source.clone());
                }
            } else {
                keys.push(source.clone());
            }
            for (name, version) in keys {
                out.push(Query {
                    matcher: self.id(),
                    ecosystem: ecosystem.clone(),
                    name,
                    version,
                    scheme,
                });
            }
        }
        out
    }
}

/// `groupId:artifactId` of a Maven package, from metadata or the purl.
fn maven_name(pkg: &Package) -> String {
    let meta = |k: &str| {
        pkg.metadata
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    if let (Some(g), Some(a)) = (meta("groupId"), meta("artifactId")) {
        return format!("{g}:{a}");
    }
    if let Some(rest) = pkg.purl.strip_prefix("pkg:maven/") {
        let path = rest.split(['@', '?', '#']).next().unwrap_or_default();
        if let Some((group, artifact)) = path.rsplit_once('/') {
            return format!("{group}:{artifact}");
        }
    }
    pkg.name.clone()
}

impl Matcher for LanguageMatcher {
    fn id(&self) -> &'static str {
        "language-matcher"
    }

    fn queries(&self, pkg: &Package, _env: &Env<'_>) -> Vec<Query> {
        let (ecosystem, name, version) = match pkg.kind {
            PackageType::Python => ("PyPI", pkg.name.clone(), pkg.version.clone()),
            PackageType::Npm => ("npm", pkg.name.clone(), pkg.version.clone()),
            PackageType::JavaArchive => ("Maven", maven_name(pkg), pkg.version.clone()),
            PackageType::GoModule => (
                "Go",
                pkg.name.clone(),
                pkg.version.trim_start_matches('v').to_string(),
            ),
            PackageType::RustCrate => ("crates.io", pkg.name.clone(), pkg.version.clone()),
            PackageType::Gem => ("RubyGems", pkg.name.clone(), pkg.version.clone()),
            PackageType::PhpComposer => (
                "Packagist",
                pkg.name.clone(),
                pkg.version.trim_start_matches('v').to_string(),
            ),
            PackageType::Dotnet => ("NuGet", pkg.name.clone(), pkg.version.clone()),
            _ => return Vec::new(),
        };
        let Some(scheme) = Scheme::for_ecosystem(ecosystem) else {
            return Vec::new();
        };
        vec![Query {
            matcher: self.id(),
            ecosystem: ecosystem.to_string(),
            name,
            version,
            scheme,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn deb(name: &str, version: &str, src: Option<(&str, Option<&str>)>) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind: PackageType::Deb,
            source_name: src.map(|s| s.0.to_string()),
            source_version: src.and_then(|s| s.1.map(str::to_string)),
            ..Default::default()
        }
    }

    #[test]
    fn debian_source_package_queries() {
        let d = Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Default::default()
        };
        let env = Env {
            distro: Some(&d),
            distro_override: None,
            db_ecosystems: &[],
        };
        let q = DistroSourceMatcher.queries(
            &deb("libssl3", "3.0.11-1~deb12u2", Some(("openssl", None))),
            &env,
        );
        assert_eq!(q.len(), 1);
        assert_eq!(
            (
                q[0].ecosystem.as_str(),
                q[0].name.as_str(),
                q[0].version.as_str()
            ),
            ("Debian:12", "openssl", "3.0.11-1~deb12u2")
        );
        let q = DistroSourceMatcher.queries(
            &deb("bash", "5.2.15-2+b2", Some(("bash", Some("5.2.15-2")))),
            &env,
        );
        assert_eq!(
            q[0].version, "5.2.15-2",
            "binNMU: compare the source version"
        );
        assert!(
            LanguageMatcher
                .queries(&deb("bash", "1", None), &env)
                .is_empty()
        );
        let codename_only = Distro {
            id: "debian".into(),
            codename: Some("bookworm".into()),
            ..Default::default()
        };
        assert_eq!(
            distro_ecosystems(&codename_only, &[]),
            vec!["Debian:12".to_string()]
        );
        let alpine = Distro {
            id: "alpine".into(),
            version_id: "3.19.1".into(),
            ..Default::default()
        };
        assert_eq!(
            distro_ecosystems(&alpine, &[]),
            vec!["Alpine:v3.19".to_string()]
        );
        let ubuntu = Distro {
            id: "ubuntu".into(),
            version_id: "22.04".into(),
            ..Default::default()
        };
        assert_eq!(
            distro_ecosystems(&ubuntu, &["Ubuntu:22.04:LTS".to_string()]),
            vec!["Ubuntu:22.04:LTS".to_string()]
        );
    }

    #[test]
    fn rpm_distro_queries() {
        let rpm = Package {
            name: "openssl-libs".into(),
            version: "1:3.0.1-41.el9_0".into(),
            kind: PackageType::Rpm,
            source_name: Some("openssl".into()),
            ..Default::default()
        };
        let distro = |id: &str, v: &str| Distro {
            id: id.into(),
            version_id: v.into(),
            id_like: vec!["rhel".into(), "fedora".into()],
            ..Default::default()
        };
        let keys = |d: &Distro, db: &[String]| -> Vec<(String, String, String)> {
            DistroSourceMatcher
                .queries(
                    &rpm,
                    &Env {
                        distro: Some(d),
                        distro_override: None,
                        db_ecosystems: db,
                    },
                )
                .into_iter()
                .map(|q| (q.ecosystem, q.name, q.version))
                .collect()
        };
        let alma = distro("almalinux", "9.3");
        assert_eq!(
            keys(&alma, &[]),
            vec![(
                "AlmaLinux:9".to_string(),
                "openssl-libs".to_string(),
                "1:3.0.1-41.el9_0".to_string()
            )],
            "AlmaLinux: binary name, epoch kept"
        );
        assert_eq!(keys(&distro("rocky", "8.9"), &[])[0].0, "Rocky Linux:8");
        let db = vec![
            "Red Hat:enterprise_linux:9::appstream".to_string(),
            "Red Hat:enterprise_linux:9::baseos".to_string(),
            "Red Hat:enterprise_linux:8::baseos".to_string(),
            "Red Hat:rhel_eus:9.2::baseos".to_string(),
        ];
        let rh = keys(&distro("rhel", "9.4"), &db);
        let ecos: BTreeSet<&str> = rh.iter().map(|k| k.0.as_str()).collect();
        assert_eq!(
            ecos,
            BTreeSet::from([
                "Red Hat:enterprise_linux:9::appstream",
                "Red Hat:enterprise_linux:9::baseos"
            ])
        );
        assert!(
            rh.iter().any(|k| k.1 == "openssl") && rh.iter().any(|k| k.1 == "openssl-libs"),
            "Red Hat: binary and source names: {rh:?}"
        );
        assert_eq!(
            keys(&distro("rhel", "8"), &[]).len(),
            4,
            "no Red Hat data: baseos + appstream, two names each"
        );
        assert!(
            keys(&distro("centos", "7"), &db).is_empty(),
            "no OSV data for CentOS"
        );
    }

    #[test]
    fn maven_names() {
        let p = Package {
            name: "log4j-core".into(),
            purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into(),
            kind: PackageType::JavaArchive,
            ..Default::default()
        };
        assert_eq!(maven_name(&p), "org.apache.logging.log4j:log4j-core");
    }
}
