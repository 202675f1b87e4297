//! Shared helpers for end-to-end tests: running the binary, locating the shared test images,
//! and a real Debian `docker-registry` on 127.0.0.1 ([`registry::Registry`]) with optional
//! htpasswd auth and TLS from a CA made in the test.
//!
//! Other areas' e2e tests may reuse these. Nothing here binds anything but 127.0.0.1, and every
//! server is stopped when its handle drops.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]
#![allow(dead_code)]

pub mod registry;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `tollgate` with `args` (no stdin) and returns its output.
pub fn tollgate(args: &[&str]) -> Output {
    tollgate_cmd(args).output().expect("run tollgate")
}

/// A `Command` for the `tollgate` binary with a hermetic environment (no user docker config,
/// no user cache).
pub fn tollgate_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    c.args(args)
        .env_remove("TOLLGATE_REGISTRY_USERNAME")
        .env_remove("TOLLGATE_REGISTRY_PASSWORD")
        .env("DOCKER_CONFIG", "/nonexistent-tollgate-test")
        .env("REGISTRY_AUTH_FILE", "/nonexistent-tollgate-test/auth.json")
        .env("NO_COLOR", "1");
    c
}

/// stdout as a string.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as a string.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Whether stderr contains `needle`, ignoring the line wrapping and the `|` gutters of
/// miette's rendering (compares with all whitespace and `|` removed).
pub fn stderr_has(o: &Output, needle: &str) -> bool {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '|')
            .collect()
    };
    squash(&stderr(o)).contains(&squash(needle))
}

/// The shared test images dir, or `None` (after printing why) when absent outside CI.
/// Panics when absent and `CI=true`.
pub fn testimages(image: &str) -> Option<PathBuf> {
    let root = std::env::var_os("TOLLGATE_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tollgate-testimages"));
    let dir = root.join(image);
    if dir.join("expected.json").is_file() && dir.join("oci/index.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but the shared test image {} is missing (run ../shared/testimages/build.sh)",
            dir.display()
        );
    }
    eprintln!(
        "skipping: shared test image {} not built (run ../shared/testimages/build.sh)",
        dir.display()
    );
    None
}

/// True when the tool is installed; otherwise prints why the test is skipped (and panics in CI).
pub fn have_tool(path: &str) -> bool {
    if std::path::Path::new(path).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {path} is missing (scripts/test installs it)");
    }
    eprintln!("skipping: {path} is not installed");
    false
}
