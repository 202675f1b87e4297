//! The engine's top-level error: one transparent variant per stage error.
//!
//! Each stage owns its own error enum (with context fields and a stable diagnostic code);
//! this type only wraps them so callers that drive several stages can use one `Result`.

/// Any error the engine can return.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    /// Reading or resolving an image failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Image(#[from] crate::image::ImageError),
    /// Reading an SBOM or cataloging failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    /// The vulnerability DB could not be used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Db(#[from] crate::vulndb::DbError),
    /// Matching or suppression failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Match(#[from] crate::matcher::MatchError),
    /// A policy bundle could not be used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    /// The local store failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The engine's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
