//! End-to-end tests of the real `tollgate` binary against real parts: local registries,
//! images from `../shared/testimages/build.sh`, CI-format validation, exit codes.
//!
//! One test binary (linked once); one module per area.

// Test helpers outside `#[test]` functions may unwrap and print skip reasons too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod catalog;
mod catalog_accuracy;
mod ci_integrations;
mod image;
mod policy;
mod reports;
mod scan;
pub mod support;
mod vulndb;
mod watch;
