//! [`Image`](crate::image::Image) → [`Inventory`]: the distro, every OS and language package,
//! the file list, secrets and image-config facts, plus the problems met on the way.
//!
//! Catalogers read only the files they declare; they never touch the network and never match
//! vulnerabilities (that is `matcher`).

mod model;

pub use model::*;
