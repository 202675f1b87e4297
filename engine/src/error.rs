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
}

/// The engine's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
