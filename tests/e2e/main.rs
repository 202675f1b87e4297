//! End-to-end tests of the real `tollgate` binary against real parts: local registries,
//! images from `../shared/testimages/build.sh`, CI-format validation, exit codes.
//!
//! One test binary (linked once); one module per area.

mod image;
mod policy;
mod scan;
mod watch;
pub mod support;
mod vulndb;
mod catalog;
