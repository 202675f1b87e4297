//! Version schemes per ecosystem: parse, compare, and test membership in OSV ranges.
//!
//! Pure functions: no I/O, no knowledge of packages or advisories. Every scheme is a total
//! order over the versions it can parse; a version it cannot parse is an error, never a guess.
//!
//! * [`Scheme`] names an ordering; [`Scheme::for_ecosystem`] maps OSV ecosystem strings to it.
//! * [`Version`] is a version parsed once under a scheme, cheap to compare many times.
//! * [`compare`] parses and compares two strings in one call.
//! * [`osv`] evaluates OSV `affected[].ranges[]` events and `versions[]` lists.
//! * [`range`] evaluates human-written range expressions (npm, PEP 440, comparator lists).
//!
//! One file per scheme: `deb` (dpkg), `rpm` (rpmvercmp), `apk` (apk-tools), `pep440`
//! (the `pep440_rs` crate), `semver` (SemVer 2.0 and its npm/Cargo/Go/Hex/Pub/Bitnami dialects),
//! `maven` (ComparableVersion), `gem` (Gem::Version), `nuget` (NuGet.Versioning) and
//! `composer` (Composer's VersionParser normalisation + `version_compare`).

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

mod apk;
mod composer;
mod deb;
mod gem;
mod maven;
mod npm_range;
mod nuget;
#[cfg(test)]
mod order_props;
pub mod osv;
mod pep440;
pub mod range;
mod rpm;
mod semver;

/// A version scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Debian / Ubuntu dpkg versions (epoch, `~`, revision).
    Deb,
    /// RPM EVR (rpmvercmp, `~`, `^`, epoch).
    Rpm,
    /// Alpine apk-tools versions.
    Apk,
    /// PEP 440 (PyPI).
    Pep440,
    /// SemVer 2.0 as npm uses it.
    Npm,
    /// SemVer as Cargo uses it.
    Cargo,
    /// Go module versions (semver with `v`, pseudo-versions, `+incompatible`).
    Go,
    /// Maven ComparableVersion.
    Maven,
    /// RubyGems `Gem::Version`.
    Gem,
    /// NuGet versions.
    Nuget,
    /// Composer (Packagist) versions.
    Composer,
    /// Hex (Erlang/Elixir): Elixir's `Version`, strict SemVer 2.0.
    Hex,
    /// Pub (Dart): `pub_semver`, SemVer 2.0.
    Pub,
    /// Bitnami: OSV records use `SEMVER` ranges; versions are SemVer 2.0.
    Bitnami,
    /// Plain SemVer 2.0 precedence, as OSV's `SEMVER` range type defines it.
    Semver,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 15] = [
        Scheme::Deb,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Pep440,
        Scheme::Npm,
        Scheme::Cargo,
        Scheme::Go,
        Scheme::Maven,
        Scheme::Gem,
        Scheme::Nuget,
        Scheme::Composer,
        Scheme::Hex,
        Scheme::Pub,
        Scheme::Bitnami,
        Scheme::Semver,
    ];

    /// The scheme for an OSV `affected[].package.ecosystem` string, including suffixed forms
    /// (`Debian:12`, `Ubuntu:Pro:22.04:LTS`, `Alpine:v3.19`, `Red Hat:rhel_aus:8.4::appstream`,
    /// `Maven:https://maven.google.com`). `None` for ecosystems with no ordering here
    /// (e.g. `GIT`-only ones such as `OSS-Fuzz`, `Linux`, `GHC`).
    pub fn for_ecosystem(osv_ecosystem: &str) -> Option<Scheme> {
        let base = osv_ecosystem
            .split_once(':')
            .map_or(osv_ecosystem, |(b, _)| b)
            .trim();
        Some(match base {
            "Debian" | "Ubuntu" | "Echo" => Scheme::Deb,
            "AlmaLinux" | "Rocky Linux" | "Red Hat" | "SUSE" | "openSUSE" | "Mageia"
            | "openEuler" | "Photon OS" | "Azure Linux" | "Oracle Linux" => Scheme::Rpm,
            "Alpine" | "Wolfi" | "Chainguard" | "MinimOS" => Scheme::Apk,
            "PyPI" => Scheme::Pep440,
            "npm" => Scheme::Npm,
            "crates.io" => Scheme::Cargo,
            "Go" => Scheme::Go,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::Gem,
            "NuGet" => Scheme::Nuget,
            "Packagist" => Scheme::Composer,
            "Hex" => Scheme::Hex,
            "Pub" => Scheme::Pub,
            "Bitnami" => Scheme::Bitnami,
            "SwiftURL" => Scheme::Semver,
            _ => return None,
        })
    }

    /// The kebab-case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Deb => "deb",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Pep440 => "pep440",
            Scheme::Npm => "npm",
            Scheme::Cargo => "cargo",
            Scheme::Go => "go",
            Scheme::Maven => "maven",
            Scheme::Gem => "gem",
            Scheme::Nuget => "nuget",
            Scheme::Composer => "composer",
            Scheme::Hex => "hex",
            Scheme::Pub => "pub",
            Scheme::Bitnami => "bitnami",
            Scheme::Semver => "semver",
        }
    }

    /// Orders schemes for cross-scheme comparisons, with all SemVer dialects sharing one rank
    /// (they share one order, so they must sit together for `Ord` to stay transitive).
    fn family(self) -> u8 {
        if self.is_semver_family() {
            Scheme::Npm as u8
        } else {
            self as u8
        }
    }

    /// True for the schemes whose versions are SemVer 2.0 underneath.
    pub fn is_semver_family(self) -> bool {
        matches!(
            self,
            Scheme::Npm
                | Scheme::Cargo
                | Scheme::Go
                | Scheme::Hex
                | Scheme::Pub
                | Scheme::Bitnami
                | Scheme::Semver
        )
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that its scheme cannot parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("`{version}` is not a valid {scheme} version: {reason}")]
#[diagnostic(
    code(tollgate::version::unparseable),
    help(
        "the version is reported as unparseable and not matched; check the package metadata or advisory that supplied it"
    )
)]
pub struct VersionError {
    /// The scheme.
    pub scheme: Scheme,
    /// The input.
    pub version: String,
    /// Why it failed.
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(scheme: Scheme, version: &str, reason: impl Into<String>) -> VersionError {
        VersionError {
            scheme,
            version: version.to_string(),
            reason: reason.into(),
        }
    }
}

/// The parsed form, one variant per representation.
#[derive(Debug, Clone)]
enum Repr {
    Deb(deb::DebVersion),
    Rpm(rpm::RpmVersion),
    Apk(apk::ApkVersion),
    Pep440(pep440_rs::Version),
    Semver(semver::SemVer),
    Maven(maven::MavenVersion),
    Gem(gem::GemVersion),
    Nuget(nuget::NugetVersion),
    Composer(composer::ComposerVersion),
}

/// A version parsed once under a [`Scheme`], for comparing against many bounds.
///
/// `Ord` is the scheme's own order. Versions of different schemes are never equal; they order
/// by scheme first so that `Ord` stays total, but comparing them is meaningless — callers keep
/// one scheme per comparison (the matcher does). Equality is the scheme's equality, which can be
/// looser than string equality (`1.0 == 1.0.0` under PEP 440, `1.2.3+a == 1.2.3+b` under SemVer).
#[derive(Debug, Clone)]
pub struct Version {
    scheme: Scheme,
    raw: Box<str>,
    repr: Repr,
}

impl Version {
    /// Parses `s` under `scheme`. Errors say why the string is not a version of that scheme.
    pub fn parse(scheme: Scheme, s: &str) -> Result<Version, VersionError> {
        let err = |reason: String| VersionError::new(scheme, s, reason);
        let repr = match scheme {
            Scheme::Deb => Repr::Deb(deb::DebVersion::parse(s).map_err(err)?),
            Scheme::Rpm => Repr::Rpm(rpm::RpmVersion::parse(s).map_err(err)?),
            Scheme::Apk => Repr::Apk(apk::ApkVersion::parse(s).map_err(err)?),
            Scheme::Pep440 => Repr::Pep440(pep440::parse(s).map_err(err)?),
            Scheme::Npm
            | Scheme::Cargo
            | Scheme::Go
            | Scheme::Hex
            | Scheme::Pub
            | Scheme::Bitnami
            | Scheme::Semver => Repr::Semver(semver::SemVer::parse(scheme, s).map_err(err)?),
            Scheme::Maven => Repr::Maven(maven::MavenVersion::parse(s).map_err(err)?),
            Scheme::Gem => Repr::Gem(gem::GemVersion::parse(s).map_err(err)?),
            Scheme::Nuget => Repr::Nuget(nuget::NugetVersion::parse(s).map_err(err)?),
            Scheme::Composer => Repr::Composer(composer::ComposerVersion::parse(s).map_err(err)?),
        };
        Ok(Version {
            scheme,
            raw: s.into(),
            repr,
        })
    }

    /// The scheme this version was parsed under.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The string as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// True for pre-releases where the scheme has the notion (SemVer family, PEP 440, NuGet,
    /// RubyGems, Composer, Maven qualifiers below release); false otherwise.
    pub fn is_prerelease(&self) -> bool {
        match &self.repr {
            Repr::Semver(v) => v.is_prerelease(),
            Repr::Pep440(v) => v.any_prerelease(),
            Repr::Nuget(v) => v.is_prerelease(),
            Repr::Gem(v) => v.is_prerelease(),
            Repr::Composer(v) => v.is_prerelease(),
            Repr::Maven(v) => v.is_prerelease(),
            Repr::Deb(_) | Repr::Rpm(_) | Repr::Apk(_) => false,
        }
    }

    pub(crate) fn semver(&self) -> Option<&semver::SemVer> {
        match &self.repr {
            Repr::Semver(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn pep440(&self) -> Option<&pep440_rs::Version> {
        match &self.repr {
            Repr::Pep440(v) => Some(v),
            _ => None,
        }
    }

    /// The same version reinterpreted as plain SemVer 2.0 (for OSV `SEMVER` ranges).
    pub(crate) fn as_semver(&self) -> Result<Version, VersionError> {
        if let Repr::Semver(_) = self.repr {
            let mut v = self.clone();
            v.scheme = Scheme::Semver;
            return Ok(v);
        }
        Version::parse(Scheme::Semver, &self.raw)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let family = self.scheme.family().cmp(&other.scheme.family());
        if family != Ordering::Equal {
            return family;
        }
        match (&self.repr, &other.repr) {
            (Repr::Deb(a), Repr::Deb(b)) => a.cmp(b),
            (Repr::Rpm(a), Repr::Rpm(b)) => a.cmp(b),
            (Repr::Apk(a), Repr::Apk(b)) => a.cmp(b),
            (Repr::Pep440(a), Repr::Pep440(b)) => a.cmp(b),
            (Repr::Semver(a), Repr::Semver(b)) => a.cmp(b),
            (Repr::Maven(a), Repr::Maven(b)) => a.cmp(b),
            (Repr::Gem(a), Repr::Gem(b)) => a.cmp(b),
            (Repr::Nuget(a), Repr::Nuget(b)) => a.cmp(b),
            (Repr::Composer(a), Repr::Composer(b)) => a.cmp(b),
            // Unreachable for versions built by `parse` (the scheme decides the variant); keep
            // the order total anyway.
            _ => self.scheme.cmp(&other.scheme),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Compares two versions under `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(Version::parse(scheme, a)?.cmp(&Version::parse(scheme, b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems_map_to_schemes() {
        let cases = [
            ("Debian", Scheme::Deb),
            ("Debian:12", Scheme::Deb),
            ("Ubuntu:22.04:LTS", Scheme::Deb),
            ("Ubuntu:Pro:18.04:LTS", Scheme::Deb),
            ("Alpine:v3.19", Scheme::Apk),
            ("AlmaLinux:9", Scheme::Rpm),
            ("Rocky Linux:9", Scheme::Rpm),
            ("Red Hat:rhel_aus:8.4::appstream", Scheme::Rpm),
            ("openSUSE:Tumbleweed", Scheme::Rpm),
            ("Bitnami", Scheme::Bitnami),
            ("PyPI", Scheme::Pep440),
            ("npm", Scheme::Npm),
            ("Go", Scheme::Go),
            ("crates.io", Scheme::Cargo),
            ("Maven", Scheme::Maven),
            ("Maven:https://maven.google.com", Scheme::Maven),
            ("RubyGems", Scheme::Gem),
            ("Packagist", Scheme::Composer),
            ("Packagist:https://packages.drupal.org/8", Scheme::Composer),
            ("NuGet", Scheme::Nuget),
            ("Hex", Scheme::Hex),
            ("Pub", Scheme::Pub),
            ("Wolfi", Scheme::Apk),
        ];
        for (eco, want) in cases {
            assert_eq!(Scheme::for_ecosystem(eco), Some(want), "{eco}");
        }
        for eco in [
            "",
            "OSS-Fuzz",
            "Linux",
            "GHC",
            "debian",
            "pypi",
            "Unknown:1",
        ] {
            assert_eq!(Scheme::for_ecosystem(eco), None, "{eco}");
        }
    }

    #[test]
    fn compare_parses_both_sides() {
        assert_eq!(
            compare(Scheme::Deb, "1.0", "1.0~rc1"),
            Ok(Ordering::Greater)
        );
        let err = compare(Scheme::Deb, "1.0", "not a version").unwrap_err();
        assert_eq!(err.version, "not a version");
        assert_eq!(err.scheme, Scheme::Deb);
        assert_eq!(
            err.to_string(),
            "`not a version` is not a valid deb version: version string has embedded spaces"
        );
        assert!(compare(Scheme::Npm, "", "1.0.0").is_err());
    }

    #[test]
    fn every_scheme_rejects_garbage() {
        for scheme in Scheme::ALL {
            for bad in ["", "   ", "\u{0}", "💥"] {
                // Maven orders any non-blank string (it is all qualifiers), as Maven does.
                if scheme == Scheme::Maven && bad == "💥" {
                    continue;
                }
                assert!(
                    Version::parse(scheme, bad).is_err(),
                    "{scheme} accepted {bad:?}"
                );
            }
        }
    }

    #[test]
    fn cross_scheme_order_is_total_but_never_equal() {
        let a = Version::parse(Scheme::Deb, "1.0").unwrap();
        let b = Version::parse(Scheme::Pep440, "1.0").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        let n = Version::parse(Scheme::Npm, "1.0.0").unwrap();
        let s = Version::parse(Scheme::Semver, "1.0.0").unwrap();
        assert_eq!(n, s, "SemVer dialects share one order");
    }
}
