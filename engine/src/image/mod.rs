//! Image reference → [`Image`]: the config, the layers and the squashed, read-only
//! [`FileTree`] of the image's final filesystem, every entry attributed to the layer that
//! last wrote it.
//!
//! This stage knows no packages. It streams each layer once and never extracts to disk; it keeps
//! metadata for every file and the contents only of files a later stage asks for through a
//! [`ContentRequest`] (size-capped). The hostile-input rules (path safety, link containment,
//! decompression caps) live in this stage only.

mod model;

pub use model::*;

/// Errors while resolving or reading an image.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ImageError {
    /// Placeholder until the image stage lands its real error enum.
    #[error("image source `{0}` is not supported yet")]
    #[diagnostic(code(tollgate::image::unsupported))]
    Unsupported(String),
}
