//! [`CatalogError`]: what can go wrong while reading package metadata out of an image or an
//! SBOM file.
//!
//! Inside a scan these errors are *partial*: [`super::run`] turns each one into a
//! [`Problem`](super::Problem) naming the file and carries on. Only [`super::sbom_input::read`]
//! returns them to the caller as fatal errors, because there the SBOM is the whole input.

use std::path::PathBuf;

/// An error met while cataloging one file, or reading one SBOM.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CatalogError {
    /// A metadata file could not be parsed at all.
    #[error("cannot parse `{path}`: {reason}")]
    #[diagnostic(
        code("tollgate::catalog::malformed"),
        help(
            "the file is skipped and the rest of the image is still cataloged; disable the cataloger with `--catalogers -{cataloger}` to silence this"
        )
    )]
    Malformed {
        /// The cataloger that met it.
        cataloger: &'static str,
        /// The file (absolute path inside the image).
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A binary database (rpmdb, BDB, NDB) is structurally broken at `offset`.
    #[error("corrupt database `{path}` at byte offset {offset}: {reason}")]
    #[diagnostic(
        code("tollgate::catalog::corrupt-db"),
        help(
            "the records before the damage are kept; rebuild the database inside the image (`rpm --rebuilddb`) to catalog the rest"
        )
    )]
    CorruptDb {
        /// The database file.
        path: String,
        /// Byte offset of the damage.
        offset: u64,
        /// What was expected there.
        reason: String,
    },

    /// An archive went over a safety cap (nesting depth, entry size, compression ratio).
    #[error("archive `{path}` skipped: {reason}")]
    #[diagnostic(
        code("tollgate::catalog::archive-limit"),
        help(
            "raise the cap with `--max-archive-depth` / `--max-archive-bytes` if the archive is trusted"
        )
    )]
    ArchiveLimit {
        /// The archive (with `!` separating nested members).
        path: String,
        /// Which cap was hit.
        reason: String,
    },

    /// An SQLite rpm database could not be opened or queried.
    #[error("cannot read SQLite rpm database `{path}`")]
    #[diagnostic(
        code("tollgate::catalog::rpm-sqlite"),
        help("the file is not a readable SQLite database with a `Packages` table")
    )]
    RpmSqlite {
        /// The database file.
        path: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },

    /// An SBOM file could not be read from disk.
    #[error("cannot read SBOM `{}`", path.display())]
    #[diagnostic(
        code("tollgate::catalog::sbom-read"),
        help("check the path given as `sbom:PATH`")
    )]
    SbomIo {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An SBOM file is not JSON, or not one of the supported formats.
    #[error("`{}` is not a supported SBOM: {reason}", path.display())]
    #[diagnostic(
        code("tollgate::catalog::sbom-format"),
        help(
            "supported inputs for `sbom:PATH` are CycloneDX 1.4–1.6 JSON, SPDX 2.3 JSON and syft JSON"
        )
    )]
    SbomFormat {
        /// The file.
        path: PathBuf,
        /// What was recognised (or not).
        reason: String,
    },

    /// An SBOM file is JSON of a known format but a field has the wrong shape.
    #[error("SBOM `{}` is invalid at `{pointer}`", path.display())]
    #[diagnostic(
        code("tollgate::catalog::sbom-invalid"),
        help("the document does not follow its format's schema at that field")
    )]
    SbomInvalid {
        /// The file.
        path: PathBuf,
        /// JSON pointer of the bad field.
        pointer: String,
        /// The decode error.
        #[source]
        source: serde_json::Error,
    },
}

impl CatalogError {
    /// Shorthand for [`CatalogError::Malformed`].
    pub(crate) fn malformed(
        cataloger: &'static str,
        path: &str,
        reason: impl Into<String>,
    ) -> Self {
        CatalogError::Malformed {
            cataloger,
            path: path.to_string(),
            reason: reason.into(),
        }
    }
}
