//! Writes `examples/app-image.tar`, the small example image the README's first command scans.
//!
//! The image is a `docker save` archive built with [`tollgate::image::fixture`]: a Debian 12
//! base layer with a dpkg database, a layer of old Python distributions, and an `/app` layer
//! with old npm packages and a planted (fake) AWS key — enough for real findings, a secret and
//! policy hits, offline. Output is byte-for-byte reproducible; a test checks the committed copy
//! is current.
//!
//! Usage: `cargo run -p tollgate-engine --example make_example_image -- examples/app-image.tar`

use std::path::PathBuf;

#[path = "../tests/support/example_image.rs"]
mod example_image;

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("examples/app-image.tar"));
    example_image::builder().write_docker_archive(&out, &[example_image::TAG])?;
    Ok(())
}
