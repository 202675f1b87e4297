//! [`MatchError`]: what stops the matcher stage. Per-package problems (an unparseable installed
//! version, an advisory event the scheme cannot parse) are not errors: they become `Problem`s in
//! [`super::MatchOutcome`] and matching carries on.

use std::path::PathBuf;

/// A fatal matcher error.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum MatchError {
    /// Reading the advisory DB failed mid-match.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Db(#[from] crate::vulndb::DbError),

    /// An ignore-rule file could not be read or parsed.
    #[error("cannot use the ignore rules in `{}`: {reason}", path.display())]
    #[diagnostic(
        code("tollgate::matcher::bad-ignore-config"),
        help(
            "fix the `ignore:` section of the config file (see README, \"Suppressing findings\"), or pass another file with `--config`"
        )
    )]
    BadIgnoreConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong (with the rule index or field).
        reason: String,
    },

    /// A VEX document could not be read or parsed.
    #[error("cannot use the VEX document `{}`: {reason}", path.display())]
    #[diagnostic(
        code("tollgate::matcher::bad-vex"),
        help(
            "`--vex` takes an OpenVEX JSON document (https://openvex.dev/ns): `statements[]` with `vulnerability`, `products`, `status`"
        )
    )]
    BadVex {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}
