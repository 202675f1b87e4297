//! Rust binaries built with `cargo auditable` (ELF, Mach-O, PE): the `.dep-v0` section →
//! every crate compiled in.
//!
//! Format (cargo-auditable's `auditable-serde`): the section holds zlib-compressed JSON
//! `{"packages":[{"name","version","source","kind","dependencies":[indices],"root"}]}`.
//! `source` is `crates.io`, `git`, `local`, `registry` or another string; `kind` is `runtime`
//! (the default when absent) or `build` (build scripts and proc macros, which run at build time
//! and are not linked into the binary).
//!
//! Reported: every package with a name and a version, `metadata.source`, `metadata.kind`, and
//! `metadata.root = true` on the binary's own crate (like `cargo audit bin` and syft: a build
//! dependency can still be a supply-chain finding, and `metadata.kind` lets policy tell them
//! apart). Binaries without the section are not Rust-auditable and give nothing, silently (most
//! executables are not Rust binaries).
//!
//! Bad input — a section over [`MAX_COMPRESSED`], zlib that does not inflate, JSON over
//! [`MAX_JSON`] once inflated, JSON of the wrong shape, a package without a name or version —
//! is a problem naming the binary and what was skipped. Does not: read WebAssembly (`object`
//! is built without wasm), or the older `cargo-auditable` JSON variants without `packages`.

use object::{Object, ObjectSection};
use serde_json::Value;

use super::super::{
    CatalogCx, CatalogError, Cataloger, FileRef, Found, PackageType, Tag, parse::str_field,
};

/// Crates recorded by `cargo auditable` in executables.
#[derive(Debug, Clone, Copy)]
pub struct CargoAuditableCataloger;

const ID: &str = "cargo-auditable-binary-cataloger";
/// Name of the section cargo-auditable writes (all object formats).
pub const SECTION: &str = ".dep-v0";
/// Largest compressed section read (cargo-auditable's own reader caps at the same order).
pub const MAX_COMPRESSED: u64 = 8 * 1024 * 1024;
/// Largest inflated JSON accepted (a zlib bomb stops here).
pub const MAX_JSON: u64 = 32 * 1024 * 1024;

impl Cataloger for CargoAuditableCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed, Tag::Binary]
    }
    fn globs(&self) -> &'static [&'static str] {
        &[]
    }
    fn executables(&self) -> bool {
        true
    }
    fn executable_markers(&self) -> &'static [&'static [u8]] {
        // The section name is in every auditable binary's section table (ELF `.shstrtab`,
        // Mach-O `sectname`, PE section header).
        const MARKERS: &[&[u8]] = &[SECTION.as_bytes()];
        MARKERS
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let Some(json) = read_dep_info(file.data).map_err(|r| malformed(file.path, r))? else {
            return Ok(found);
        };
        let Some(packages) = json.get("packages").and_then(Value::as_array) else {
            return Err(malformed(
                file.path,
                "dependency JSON has no `packages` array; nothing read",
            ));
        };
        for (i, entry) in packages.iter().enumerate() {
            let (Some(name), Some(version)) =
                (str_field(entry, "name"), str_field(entry, "version"))
            else {
                found.problem(
                    ID,
                    file.path,
                    format!("`{SECTION}` package #{i} has no name or no version; skipped"),
                );
                continue;
            };
            let mut p = cx.package(PackageType::RustCrate, name, version, file.path);
            let source = str_field(entry, "source").unwrap_or("crates.io");
            p.metadata.insert("source".into(), source.into());
            let kind = str_field(entry, "kind").unwrap_or("runtime");
            p.metadata.insert("kind".into(), kind.into());
            if entry.get("root").and_then(Value::as_bool) == Some(true) {
                p.metadata.insert("root".into(), true.into());
            }
            found.packages.push(p);
        }
        if found.packages.is_empty() && !packages.is_empty() {
            return Err(malformed(
                file.path,
                "no package in the dependency JSON has a name and a version",
            ));
        }
        Ok(found)
    }
}

fn malformed(path: &str, reason: impl Into<String>) -> CatalogError {
    CatalogError::malformed(ID, path, reason)
}

/// The decoded JSON of an executable's `.dep-v0` section. `Ok(None)` when the data is not an
/// object file or has no such section; `Err` (a reason) when the section is there but too big,
/// not zlib, not UTF-8 JSON, or inflates past [`MAX_JSON`].
pub fn read_dep_info(data: &[u8]) -> Result<Option<Value>, String> {
    let Ok(file) = object::File::parse(data) else {
        return Ok(None);
    };
    let Some(section) = file.section_by_name(SECTION) else {
        return Ok(None);
    };
    if section.size() > MAX_COMPRESSED {
        return Err(format!(
            "`{SECTION}` section is {} bytes, over the {MAX_COMPRESSED}-byte cap; skipped",
            section.size()
        ));
    }
    let compressed = section
        .data()
        .map_err(|e| format!("`{SECTION}` section cannot be read ({e}); truncated file?"))?;
    if compressed.is_empty() {
        return Err(format!("`{SECTION}` section is empty"));
    }
    let json = inflate(compressed)?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|e| format!("`{SECTION}` section is not valid JSON ({e}); skipped"))
}

/// Inflates zlib data, refusing to produce more than [`MAX_JSON`] bytes.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("`{SECTION}` section is not valid zlib data ({e}); skipped"))?;
    if out.len() as u64 > MAX_JSON {
        return Err(format!(
            "`{SECTION}` section inflates past {MAX_JSON} bytes (a decompression bomb?); skipped"
        ));
    }
    Ok(out)
}

/// Builds object files with a `.dep-v0` section, for tests here and in the catalog tests.
#[cfg(test)]
pub(crate) mod testbin {
    use object::write::Object;
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};

    /// zlib-compresses `json`.
    pub(crate) fn zlib(json: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(json).unwrap();
        e.finish().unwrap()
    }

    /// An object file of `format` whose `.dep-v0` section holds `section` as is.
    pub(crate) fn with_section(format: BinaryFormat, section: &[u8]) -> Vec<u8> {
        let mut obj = Object::new(format, Architecture::X86_64, Endianness::Little);
        let segment = obj
            .segment_name(object::write::StandardSegment::Data)
            .to_vec();
        let id = obj.add_section(
            segment,
            super::SECTION.as_bytes().to_vec(),
            SectionKind::ReadOnlyData,
        );
        obj.append_section_data(id, section, 1);
        let text = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
        obj.append_section_data(text, &[0xc3], 1);
        obj.write().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testbin::{with_section, zlib};
    use super::*;
    use object::BinaryFormat;

    const DEPS: &str = r#"{"packages":[
        {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
        {"name":"smallvec","version":"1.6.0","source":"crates.io"},
        {"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"}
    ]}"#;

    #[test]
    fn reads_elf_and_macho_sections() {
        for format in [BinaryFormat::Elf, BinaryFormat::MachO, BinaryFormat::Coff] {
            let bin = with_section(format, &zlib(DEPS.as_bytes()));
            let v = read_dep_info(&bin).unwrap().unwrap();
            assert_eq!(v["packages"][1]["name"], "smallvec", "{format:?}");
        }
    }

    #[test]
    fn catalogs_every_crate_in_a_binary() {
        use crate::catalog::{CatalogOptions, parse::test_image, run};
        let bin = with_section(BinaryFormat::Elf, &zlib(DEPS.as_bytes()));
        let inv = run(
            &test_image("oci-dir", &[("/usr/local/bin/app", &bin)]),
            &CatalogOptions::default(),
        );
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        let rows: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("app", "0.1.0", "pkg:cargo/app@0.1.0"),
                ("cc", "1.0.83", "pkg:cargo/cc@1.0.83"),
                ("smallvec", "1.6.0", "pkg:cargo/smallvec@1.6.0"),
            ]
        );
        assert!(inv.packages.iter().all(|p| p.kind == PackageType::RustCrate
            && p.found_by == ID
            && p.locations[0].path == "/usr/local/bin/app"));
        assert_eq!(inv.packages[0].metadata["root"], true);
        assert_eq!(inv.packages[1].metadata["kind"], "build");

        // Broken section and a nameless entry: problems naming the binary, never silence.
        let broken = with_section(BinaryFormat::Elf, b"garbage");
        let partial = with_section(
            BinaryFormat::Elf,
            &zlib(br#"{"packages":[{"name":"ok","version":"1.0.0"},{"version":"2"}]}"#),
        );
        let shape = with_section(BinaryFormat::Elf, &zlib(br#"[1,2]"#));
        let inv = run(
            &test_image(
                "oci-dir",
                &[
                    ("/bin/broken", &broken),
                    ("/bin/partial", &partial),
                    ("/bin/shape", &shape),
                ],
            ),
            &CatalogOptions::default(),
        );
        assert_eq!(inv.packages.len(), 1);
        let at = |path: &str| {
            inv.problems
                .iter()
                .find(|p| p.path.as_deref() == Some(path))
                .map(|p| p.message.clone())
                .unwrap_or_default()
        };
        assert!(at("/bin/broken").contains("zlib"), "{:?}", inv.problems);
        assert!(at("/bin/partial").contains("#1"), "{:?}", inv.problems);
        assert!(at("/bin/shape").contains("packages"), "{:?}", inv.problems);
    }

    #[test]
    fn executables_with_the_section_name_are_retained() {
        let r = crate::catalog::content_request();
        assert!(r.executable_markers.iter().any(|m| m == SECTION.as_bytes()));
        for format in [BinaryFormat::Elf, BinaryFormat::MachO, BinaryFormat::Coff] {
            let bin = with_section(format, &zlib(DEPS.as_bytes()));
            assert!(
                bin.windows(SECTION.len()).any(|w| w == SECTION.as_bytes()),
                "{format:?}"
            );
        }
    }

    #[test]
    fn no_section_or_not_an_object_is_nothing() {
        assert_eq!(read_dep_info(b"\x7fELF short"), Ok(None));
        let mut obj = object::write::Object::new(
            BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let t = obj.add_section(Vec::new(), b".text".to_vec(), object::SectionKind::Text);
        obj.append_section_data(t, &[0x90], 1);
        assert_eq!(read_dep_info(&obj.write().unwrap()), Ok(None));
    }

    #[test]
    fn hostile_sections_are_reasons_not_panics() {
        let bad_zlib = with_section(BinaryFormat::Elf, b"not zlib at all");
        assert!(read_dep_info(&bad_zlib).unwrap_err().contains("zlib"));
        let bad_json = with_section(BinaryFormat::Elf, &zlib(b"{\"packages\": ["));
        assert!(read_dep_info(&bad_json).unwrap_err().contains("JSON"));
        let empty = with_section(BinaryFormat::Elf, b"");
        assert!(read_dep_info(&empty).unwrap_err().contains("empty"));
        let oversized = with_section(BinaryFormat::Elf, &vec![0u8; MAX_COMPRESSED as usize + 1]);
        assert!(read_dep_info(&oversized).unwrap_err().contains("cap"));
        // A bomb: 40 MiB of spaces compress to a few KiB.
        let bomb = with_section(BinaryFormat::Elf, &zlib(&vec![b' '; 40 * 1024 * 1024]));
        assert!(read_dep_info(&bomb).unwrap_err().contains("bomb"));
        // Truncated file: the section header points past the end.
        let good = with_section(BinaryFormat::Elf, &zlib(DEPS.as_bytes()));
        for cut in [good.len() / 2, 70, 10] {
            let r = read_dep_info(&good[..cut]);
            assert!(matches!(r, Ok(None) | Err(_)), "cut at {cut}: {r:?}");
        }
    }
}
