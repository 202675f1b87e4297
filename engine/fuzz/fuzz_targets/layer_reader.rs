//! Fuzzes the layer reader: arbitrary bytes as a layer blob (plain tar, gzip or zstd),
//! squashed, with a content request that exercises globs, executables and a scanner.
//! Any panic, hang or unbounded allocation is a bug; errors are expected.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tollgate::image::{ContentHit, ContentRequest, ContentScanner, read_layer_blob};

#[derive(Debug)]
struct Lines;

impl ContentScanner for Lines {
    fn wants(&self, path: &str, _size: u64) -> bool {
        path.ends_with(".env")
    }
    fn scan(&self, _path: &str, data: &[u8]) -> Vec<ContentHit> {
        vec![ContentHit {
            rule: "len".into(),
            line: data.len() as u32,
            ..Default::default()
        }]
    }
}

fuzz_target!(|data: &[u8]| {
    let request = ContentRequest {
        globs: vec!["/etc/**".into(), "**/*.json".into()],
        executables: true,
        max_file_size: 1 << 16,
        max_binary_size: 1 << 20,
        scanners: vec![Arc::new(Lines)],
    };
    if let Ok((tree, _hits)) = read_layer_blob(data, &request, 64 << 20) {
        for path in tree.entries.keys().take(64) {
            let _ = tree.resolve(path);
        }
    }
});
