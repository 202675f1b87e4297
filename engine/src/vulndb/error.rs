//! [`DbError`]: everything that can go wrong building, fetching, opening or querying the
//! advisory DB. Variants carry their context (path, URL, record id, ecosystem) as fields and keep
//! causes in `#[source]`; the CLI renders them unchanged.

use std::path::PathBuf;

/// An advisory-DB error.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DbError {
    /// The DB file does not exist.
    #[error("no vulnerability DB at `{}`", path.display())]
    #[diagnostic(
        code("tollgate::vulndb::missing"),
        help(
            "build one with `tollgate db build --out FILE`, fetch one with `tollgate db update`, or point `--db`/`TOLLGATE_DB` at an existing file"
        )
    )]
    Missing {
        /// The path looked at.
        path: PathBuf,
    },

    /// The file is not a Tollgate DB (not SQLite, truncated, malformed, or no meta table).
    #[error("`{}` is not a usable Tollgate vulnerability DB: {reason}", path.display())]
    #[diagnostic(
        code("tollgate::vulndb::corrupt"),
        help(
            "the file is damaged or not a DB; rebuild it (`tollgate db build`) or re-fetch it (`tollgate db update`)"
        )
    )]
    Corrupt {
        /// The DB file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The SQLite error, when there is one.
        #[source]
        source: Option<rusqlite::Error>,
    },

    /// The DB was written with another schema version.
    #[error("`{}` has DB schema version {found}, this tollgate reads version {expected}", path.display())]
    #[diagnostic(
        code("tollgate::vulndb::schema-mismatch"),
        help(
            "fetch a DB built for this release (`tollgate db update`) or rebuild it with `tollgate db build`"
        )
    )]
    SchemaMismatch {
        /// The DB file.
        path: PathBuf,
        /// The version in the file.
        found: String,
        /// The version this build reads.
        expected: u32,
    },

    /// The content checksum recorded in the DB does not match its content.
    #[error("checksum mismatch in `{}`: recorded {recorded}, computed {computed}", path.display())]
    #[diagnostic(
        code("tollgate::vulndb::checksum-mismatch"),
        help("the DB was modified or damaged after it was built; rebuild or re-fetch it")
    )]
    ChecksumMismatch {
        /// The DB file.
        path: PathBuf,
        /// What the meta table or the published digest says.
        recorded: String,
        /// What the content hashes to.
        computed: String,
    },

    /// The DB is older than `--max-db-age` allows.
    #[error("the vulnerability DB `{}` was built {age_hours} hours ago, more than the allowed {max_hours} hours", path.display())]
    #[diagnostic(
        code("tollgate::vulndb::stale"),
        help(
            "run `tollgate db update` (or `tollgate db build`), or allow an older DB with `--max-db-age` (e.g. `--max-db-age 30d`, `0` to disable)"
        )
    )]
    Stale {
        /// The DB file.
        path: PathBuf,
        /// Its age in hours.
        age_hours: i64,
        /// The limit in hours.
        max_hours: i64,
    },

    /// A SQLite error while reading or writing.
    #[error("database error on `{}` while {action}", path.display())]
    #[diagnostic(code("tollgate::vulndb::sqlite"))]
    Sqlite {
        /// The DB file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },

    /// A file-system error.
    #[error("cannot {action} `{}`", path.display())]
    #[diagnostic(code("tollgate::vulndb::io"))]
    Io {
        /// The path at fault.
        path: PathBuf,
        /// What was being done (`read`, `write`, `rename`…).
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// An `all.zip` could not be read (truncated, half-written, not a zip).
    #[error("cannot read the OSV archive for `{ecosystem}` from `{location}`")]
    #[diagnostic(
        code("tollgate::vulndb::bad-archive"),
        help("the archive is truncated or not a zip; re-download it or check the `--from` mirror")
    )]
    BadArchive {
        /// The ecosystem folder.
        ecosystem: String,
        /// URL or path of the archive.
        location: String,
        /// The cause.
        #[source]
        source: zip::result::ZipError,
    },

    /// An HTTP request failed (status, connection, timeout).
    #[error("cannot fetch `{url}`: {reason}")]
    #[diagnostic(
        code("tollgate::vulndb::fetch"),
        help(
            "check the URL given to `--from`/`db update` and the network; a local mirror directory also works with `--from DIR`"
        )
    )]
    Fetch {
        /// The URL.
        url: String,
        /// Status or transport failure, readable.
        reason: String,
        /// The transport error, when there is one.
        #[source]
        source: Option<reqwest::Error>,
    },

    /// None of the requested ecosystems were found at the source.
    #[error("no OSV data found at `{from}` (looked for {looked_for})")]
    #[diagnostic(
        code("tollgate::vulndb::no-data"),
        help(
            "`--from` must point at an OSV bucket layout: `<Ecosystem>/all.zip` under the base URL or directory"
        )
    )]
    NoData {
        /// The source.
        from: String,
        /// What was looked for.
        looked_for: String,
    },

    /// An explicitly requested ecosystem is not at the source.
    #[error("ecosystem `{ecosystem}` not found at `{location}`")]
    #[diagnostic(
        code("tollgate::vulndb::ecosystem-missing"),
        help("drop it from `--ecosystem`, or check the mirror's layout (`<Ecosystem>/all.zip`)")
    )]
    EcosystemMissing {
        /// The ecosystem.
        ecosystem: String,
        /// Where it was looked for.
        location: String,
    },

    /// An unknown ecosystem name was requested.
    #[error("`{0}` is not an OSV ecosystem Tollgate ingests")]
    #[diagnostic(
        code("tollgate::vulndb::unknown-ecosystem"),
        help("see `tollgate db build --help` for the list of ecosystems")
    )]
    UnknownEcosystem(String),

    /// A KEV or EPSS enrichment file could not be parsed.
    #[error("cannot parse the {kind} file `{location}`: {reason}")]
    #[diagnostic(
        code("tollgate::vulndb::bad-enrichment"),
        help(
            "`--kev` takes CISA's known_exploited_vulnerabilities.json; `--epss` takes FIRST's EPSS CSV (optionally gzipped)"
        )
    )]
    BadEnrichment {
        /// `KEV` or `EPSS`.
        kind: &'static str,
        /// URL or path.
        location: String,
        /// What is wrong.
        reason: String,
    },

    /// A DB reference (`oci://…`, URL) could not be understood.
    #[error("cannot use `{reference}` as a DB location: {reason}")]
    #[diagnostic(
        code("tollgate::vulndb::bad-reference"),
        help("use an `https://…` URL, `oci://registry/repo:tag`, or a local file path")
    )]
    BadReference {
        /// The reference.
        reference: String,
        /// Why.
        reason: String,
    },

    /// An OCI registry operation failed.
    #[error("OCI registry operation `{action}` failed for `{reference}`")]
    #[diagnostic(
        code("tollgate::vulndb::oci"),
        help(
            "check the reference, credentials (`docker login`) and that the registry is reachable"
        )
    )]
    Oci {
        /// The reference.
        reference: String,
        /// `pull` or `push`.
        action: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// No advisory with this id (or alias) exists in the DB.
    #[error("no advisory `{0}` in the DB")]
    #[diagnostic(
        code("tollgate::vulndb::unknown-id"),
        help("check the id; `tollgate db search NAME` lists advisories by package")
    )]
    UnknownId(String),
}
