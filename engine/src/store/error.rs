//! [`StoreError`]: why the local store could not be opened, read or written.

use std::path::PathBuf;

/// A store failure.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StoreError {
    /// Neither `XDG_DATA_HOME` nor `HOME` is set.
    #[error("cannot find a data directory for the local store")]
    #[diagnostic(
        code("tollgate::store::no-data-dir"),
        help("pass `--store DIR` or set `XDG_DATA_HOME`")
    )]
    NoDataDir,

    /// The store directory could not be created.
    #[error("cannot create the store directory `{path}`")]
    #[diagnostic(
        code("tollgate::store::create-dir"),
        help("pass a writable `--store DIR`")
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The database could not be opened.
    #[error("cannot open the store `{path}`")]
    #[diagnostic(
        code("tollgate::store::open"),
        help("check the file is a Tollgate store, or pass another `--store DIR`")
    )]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },

    /// A query failed (corrupt file, disk full, …).
    #[error("store `{path}`: cannot {action}")]
    #[diagnostic(
        code("tollgate::store::sql"),
        help("the store may be corrupt; move it away or pass another `--store DIR`")
    )]
    Sql {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },

    /// The store was written by a newer Tollgate.
    #[error("store `{path}` has schema version {found}; this Tollgate supports up to {supported}")]
    #[diagnostic(
        code("tollgate::store::too-new"),
        help("upgrade Tollgate, or pass another `--store DIR`")
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },

    /// A stored document could not be (de)serialised.
    #[error("cannot (de)serialise a stored analysis")]
    #[diagnostic(code("tollgate::store::json"))]
    Json {
        /// The cause.
        #[source]
        source: serde_json::Error,
    },

    /// No such object.
    #[error("no {what} `{key}` in the store")]
    #[diagnostic(
        code("tollgate::store::not-found"),
        help("`tollgate policy list` shows stored bundles")
    )]
    NotFound {
        /// `bundle` / `analysis`.
        what: &'static str,
        /// The id asked for.
        key: String,
    },

    /// A stored bundle no longer validates.
    #[error("stored bundle `{id}` is invalid")]
    #[diagnostic(
        code("tollgate::store::bad-bundle"),
        help("re-add a fixed bundle with `tollgate policy add`, or delete it")
    )]
    Bundle {
        /// Bundle id.
        id: String,
        /// The validation error.
        #[source]
        source: Box<crate::policy::PolicyError>,
    },
}
