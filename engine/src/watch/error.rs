//! [`WatchError`]: everything that can go wrong while loading the `notifications:` config,
//! keeping the outbox, re-matching stored SBOMs and delivering notifications.
//!
//! Variants carry their context as fields (config path, channel name, outbox path, HTTP status),
//! keep causes in `#[source]`, have a stable `tollgate::watch::*` code and a `help` naming the
//! key, flag or environment variable that fixes them. No variant ever holds a channel secret or a
//! full webhook URL: targets are rendered with [`crate::watch::channel::redact_url`] first.

use std::path::PathBuf;

/// Errors of the watch stage.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WatchError {
    /// The config file could not be read.
    #[error("cannot read the notifications config `{path}`")]
    #[diagnostic(
        code("tollgate::watch::config-io"),
        help("pass an existing file with `--config PATH`, or create `.tollgate.yaml`")
    )]
    ConfigIo {
        /// The config file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The config file is not valid YAML, or `notifications:` has the wrong shape.
    #[error("invalid `notifications:` in `{path}`: {reason}")]
    #[diagnostic(
        code("tollgate::watch::config-syntax"),
        help("see README section `Watching for new CVEs` for the `notifications:` layout")
    )]
    ConfigSyntax {
        /// The config file.
        path: PathBuf,
        /// What the parser said (line and column included when known).
        reason: String,
    },

    /// One channel entry is invalid (unknown type, missing field, bad value).
    #[error("invalid channel `{channel}` in `{path}`: {reason}")]
    #[diagnostic(code("tollgate::watch::config-channel"), help("{help}"))]
    ConfigChannel {
        /// The config file.
        path: PathBuf,
        /// The channel's `name` (or `#N` when it has none).
        channel: String,
        /// What is wrong.
        reason: String,
        /// The key that fixes it.
        help: String,
    },

    /// A channel names an environment variable for a secret or URL that is not set.
    #[error("channel `{channel}` needs the environment variable `{var}`, which is not set")]
    #[diagnostic(
        code("tollgate::watch::missing-secret"),
        help(
            "export `{var}` in the job that runs `tollgate watch`; secrets are read only from the environment"
        )
    )]
    MissingSecret {
        /// The channel name.
        channel: String,
        /// The variable name.
        var: String,
    },

    /// The config has no `notifications:` section, or it lists no channel.
    #[error("no notification channel is configured in `{path}`")]
    #[diagnostic(
        code("tollgate::watch::no-channels"),
        help(
            "add `notifications: {{ channels: [...] }}` to the config, or use `--dry-run` to only list findings"
        )
    )]
    NoChannels {
        /// The config file.
        path: PathBuf,
    },

    /// The store directory holding the outbox could not be created.
    #[error("cannot create the store directory `{path}`")]
    #[diagnostic(
        code("tollgate::watch::store-dir"),
        help("pass a writable directory with `--store DIR`")
    )]
    StoreDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The outbox database could not be opened or created.
    #[error("cannot open the watch outbox `{path}`")]
    #[diagnostic(
        code("tollgate::watch::outbox-open"),
        help("check that the store directory (`--store DIR`) is writable")
    )]
    OutboxOpen {
        /// The outbox file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },

    /// The outbox file exists but is not a readable SQLite database, or fails its integrity check.
    #[error("the watch outbox `{path}` is corrupt: {reason}")]
    #[diagnostic(
        code("tollgate::watch::outbox-corrupt"),
        help(
            "move the file aside and run `tollgate watch` again: pending notifications are re-derived from the store, already delivered ones may be sent again"
        )
    )]
    OutboxCorrupt {
        /// The outbox file.
        path: PathBuf,
        /// What SQLite reported.
        reason: String,
    },

    /// The outbox was written by a newer Tollgate.
    #[error("the watch outbox `{path}` has schema version {found}; this build knows up to {known}")]
    #[diagnostic(
        code("tollgate::watch::outbox-too-new"),
        help("upgrade tollgate, or point `--store DIR` at another directory")
    )]
    OutboxTooNew {
        /// The outbox file.
        path: PathBuf,
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },

    /// A query on the outbox failed.
    #[error("outbox operation `{op}` failed on `{path}`")]
    #[diagnostic(code("tollgate::watch::outbox-query"))]
    OutboxQuery {
        /// The outbox file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },

    /// A payload stored in the outbox does not parse (written by a foreign tool or damaged).
    #[error("outbox row {row} in `{path}` holds an unreadable payload")]
    #[diagnostic(
        code("tollgate::watch::outbox-payload"),
        help(
            "the row is left in place; delete it with `sqlite3 {path:?} 'DELETE FROM outbox WHERE id={row}'` if it cannot be repaired"
        )
    )]
    OutboxPayload {
        /// The outbox file.
        path: PathBuf,
        /// The row id.
        row: i64,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },

    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client for notifications")]
    #[diagnostic(code("tollgate::watch::http-client"))]
    HttpClient {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },

    /// Some notifications could not be delivered in this run; they stay in the outbox.
    #[error(
        "{failed} notification(s) could not be delivered and stay queued (first: channel `{channel}`: {reason})"
    )]
    #[diagnostic(
        code("tollgate::watch::delivery-failed"),
        help(
            "they are retried on the next `tollgate watch`; `tollgate watch --dry-run` lists the queue"
        )
    )]
    DeliveryFailed {
        /// How many outbox rows are still pending after this run.
        failed: usize,
        /// The first failing channel.
        channel: String,
        /// Its last error (no secrets; URLs redacted).
        reason: String,
    },

    /// The store of analyses could not be opened or read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] crate::store::StoreError),

    /// Reading the stored analyses for a rescan failed.
    #[error("cannot read stored analyses from `{path}`")]
    #[diagnostic(
        code("tollgate::watch::store-read"),
        help(
            "the store may be corrupt; check it with `tollgate store list`, or pass another `--store DIR`"
        )
    )]
    StoreRead {
        /// The store file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },

    /// A vulnerability DB could not be opened.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Db(#[from] crate::vulndb::DbError),

    /// The ignore rules of the config could not be loaded.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Match(#[from] crate::matcher::MatchError),

    /// A matching thread panicked (a bug); nothing was lost, rerun to resume.
    #[error("a re-matching thread stopped unexpectedly")]
    #[diagnostic(
        code("tollgate::watch::worker-panic"),
        help(
            "this is a bug; rerun `tollgate watch` (queued notifications are kept) and report it"
        )
    )]
    WorkerPanic,

    /// Pushing or pulling an SBOM artifact to or from a registry failed.
    #[error("registry SBOM {op} failed for `{reference}`: {reason}")]
    #[diagnostic(
        code("tollgate::watch::registry-sbom"),
        help(
            "check the reference, registry credentials (docker config.json) and `--insecure-registry` for plain-HTTP registries"
        )
    )]
    RegistrySbom {
        /// `push` or `pull`.
        op: &'static str,
        /// The image or repository reference.
        reference: String,
        /// What went wrong (no credentials).
        reason: String,
    },
}
