//! End-to-end tests of the real `tollgate` binary against real parts: local registries,
//! images from `../shared/testimages/build.sh`, CI-format validation, exit codes.
//!
//! One test binary (linked once); one module per area.

mod catalog;
mod ci_integrations;
mod image;
mod policy;
mod reports;
mod scan;
pub mod support;
mod vulndb;
mod watch;
