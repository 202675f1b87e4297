//! The plain values the catalog stage produces. Later stages (matcher, policy, report) read
//! these; add fields with `#[serde(default)]` and keep `Default` derivable so fixtures can use
//! `..Default::default()`.

use serde::{Deserialize, Serialize};

use crate::image::{FileEntry, ImageConfig, LayerInfo, SourceInfo};

/// The operating-system distribution of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// os-release `ID` (`debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, `almalinux`, …).
    pub id: String,
    /// os-release `VERSION_ID` (`12`, `22.04`, `3.19.1`).
    #[serde(default)]
    pub version_id: String,
    /// Codename (`bookworm`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// os-release `ID_LIKE` entries.
    #[serde(default)]
    pub id_like: Vec<String>,
    /// os-release `PRETTY_NAME`.
    #[serde(default)]
    pub pretty_name: String,
}

/// The kind of a package, which also fixes its version scheme and its OSV ecosystem.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum PackageType {
    /// A Debian package (dpkg).
    Deb,
    /// An Alpine package (apk).
    Apk,
    /// An RPM package.
    Rpm,
    /// A Python distribution.
    Python,
    /// An npm package.
    Npm,
    /// A Java archive.
    JavaArchive,
    /// A Go module (from binary build info).
    GoModule,
    /// A Rust crate.
    RustCrate,
    /// A Ruby gem.
    Gem,
    /// A PHP Composer package.
    PhpComposer,
    /// A .NET (NuGet) package.
    Dotnet,
    /// Anything else.
    #[default]
    Unknown,
}

impl PackageType {
    /// The kebab-case name used in JSON and policy params.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Apk => "apk",
            PackageType::Rpm => "rpm",
            PackageType::Python => "python",
            PackageType::Npm => "npm",
            PackageType::JavaArchive => "java-archive",
            PackageType::GoModule => "go-module",
            PackageType::RustCrate => "rust-crate",
            PackageType::Gem => "gem",
            PackageType::PhpComposer => "php-composer",
            PackageType::Dotnet => "dotnet",
            PackageType::Unknown => "unknown",
        }
    }

    /// True for packages managed by the operating system's package manager.
    pub fn is_os(self) -> bool {
        matches!(self, PackageType::Deb | PackageType::Apk | PackageType::Rpm)
    }
}

impl std::fmt::Display for PackageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a package was found: a path in the image and the layer that wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path inside the image.
    pub path: String,
    /// Digest (diff_id when known, else blob digest) of the layer that last wrote `path`.
    #[serde(default)]
    pub layer_digest: String,
    /// Index of that layer, base = 0.
    #[serde(default)]
    pub layer_index: usize,
}

/// One package found in the image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Stable id within one inventory (hash of type, name, version and first location).
    pub id: String,
    /// Name as the ecosystem spells it.
    pub name: String,
    /// Version string exactly as installed (`1:2.36-9+deb12u4`, `2.31.0`).
    pub version: String,
    /// The package kind.
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Package URL per the purl spec.
    #[serde(default)]
    pub purl: String,
    /// License expressions (SPDX where possible), as declared.
    #[serde(default)]
    pub licenses: Vec<String>,
    /// Where it was found.
    #[serde(default)]
    pub locations: Vec<Location>,
    /// The cataloger id that found it (`dpkg-db-cataloger`).
    #[serde(default)]
    pub found_by: String,
    /// CPU architecture, for OS packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Source package name (dpkg `Source:`, rpm sourcerpm name, apk origin), when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// Source package version, when it differs from `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// Files owned by the package (OS packages), absolute paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Ecosystem-specific extra facts (rpm epoch, modularity label, Go version, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A secret found in a file. The value itself is never stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// The rule that matched (`AWS_ACCESS_KEY`, `PRIV_KEY`, …).
    pub rule: String,
    /// Path of the file.
    pub path: String,
    /// 1-based line number.
    pub line: u32,
    /// Index of the layer that last wrote the file.
    #[serde(default)]
    pub layer_index: usize,
    /// Short fingerprint (first 12 hex of sha256 of the matched value).
    pub fingerprint: String,
    /// The matched text with the secret masked (`AKIA************MPLE`).
    #[serde(default)]
    pub masked: String,
}

/// A problem met while cataloging that did not stop the scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The cataloger or stage that met it.
    pub source: String,
    /// The file at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What went wrong and what was skipped.
    pub message: String,
}

/// Everything the catalog stage found in one image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Where the image came from.
    #[serde(default)]
    pub source: SourceInfo,
    /// The image config.
    #[serde(default)]
    pub config: ImageConfig,
    /// The layers, base first.
    #[serde(default)]
    pub layers: Vec<LayerInfo>,
    /// The distro, when one was detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    /// Every package, sorted by (type, name, version).
    #[serde(default)]
    pub packages: Vec<Package>,
    /// Metadata of every file of the squashed filesystem (for the file and metadata gates).
    #[serde(default)]
    pub files: Vec<FileEntry>,
    /// Secrets found in file contents (masked).
    #[serde(default)]
    pub secrets: Vec<SecretFinding>,
    /// Small text files retained for gates (`/etc/passwd`, `/etc/group`, and the paths a bundle's
    /// `retrieved_files` rules name), by path; secrets in them are masked before output.
    #[serde(default)]
    pub retrieved_files: std::collections::BTreeMap<String, String>,
    /// Non-fatal problems.
    #[serde(default)]
    pub problems: Vec<Problem>,
}
