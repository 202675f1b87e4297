//! The committed README example image (`examples/app-image.tar`) is exactly what
//! `cargo run -p tollgate-engine --example make_example_image` writes, so it can be rebuilt
//! from source and never drifts from its definition.

#[path = "support/example_image.rs"]
mod example_image;

#[test]
fn committed_example_image_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("app-image.tar");
    example_image::builder()
        .write_docker_archive(&fresh, &[example_image::TAG])
        .unwrap();
    let committed =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/app-image.tar");
    let committed = std::fs::read(&committed).expect("examples/app-image.tar is committed");
    assert!(
        std::fs::read(&fresh).unwrap() == committed,
        "examples/app-image.tar is stale: run `cargo run -p tollgate-engine --example make_example_image -- examples/app-image.tar`"
    );
}
