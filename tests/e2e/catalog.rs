//! `tollgate sbom` end to end: the real binary on the shared `distroless-like` image writes a
//! CycloneDX and an SPDX document whose packages match the image's `expected.json`, and reads a
//! written SBOM back as `sbom:PATH`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn image_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TOLLGATE_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tollgate-testimages"))
        .join("distroless-like");
    if dir.join("expected.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        dir.display()
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipping: {} not found", dir.display());
    }
    None
}

#[test]
fn sbom_command_writes_cyclonedx_and_spdx_and_reads_them_back() {
    let Some(dir) = image_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cdx = tmp.path().join("out.cdx.json");
    let spdx = tmp.path().join("out.spdx.json");
    let status = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", &format!("oci-dir:{}", dir.join("oci").display())])
        .arg("-o")
        .arg(format!("cyclonedx-json={}", cdx.display()))
        .arg("-o")
        .arg(format!("spdx-json={}", spdx.display()))
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .status()
        .unwrap();
    assert!(status.success());
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let doc: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    let names: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for d in expected["deb"].as_array().unwrap() {
        assert!(names.contains(&d["name"].as_str().unwrap()), "{names:?}");
    }
    assert!(names.contains(&"golang.org/x/text"), "{names:?}");
    let sp: Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    assert_eq!(sp["spdxVersion"], "SPDX-2.3");

    // The written SBOM is a scan source.
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", &format!("sbom:{}", cdx.display()), "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        a["inventory"]["packages"].as_array().unwrap().len(),
        doc["components"].as_array().unwrap().len() - 1, // minus the OS component
    );
    assert_eq!(a["inventory"]["distro"]["id"], "debian");

    // A missing SBOM is an error (exit 2), not an empty result.
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", "sbom:/nonexistent/x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// ---- Rust, Ruby, PHP and .NET catalogers on a `dir:` tree -------------------------------

use std::collections::BTreeSet;

const LANG_FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../engine/tests/fixtures/catalog"
);

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// An ELF64 executable whose `.dep-v0` section holds `json` zlib-compressed, as
/// `cargo auditable build` embeds it.
fn auditable_elf(json: &str) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json.as_bytes()).unwrap();
    elf_with_dep_section(&z.finish().unwrap())
}

/// A minimal ELF64 executable with one `.dep-v0` section holding `section` as is.
fn elf_with_dep_section(section: &[u8]) -> Vec<u8> {
    let strtab = b"\0.dep-v0\0.shstrtab\0";
    let data_off = 64u64;
    let str_off = data_off + section.len() as u64;
    let sh_off = (str_off + strtab.len() as u64).div_ceil(8) * 8;
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&0x3eu16.to_le_bytes()); // x86-64
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&0u64.to_le_bytes()); // entry
    f.extend_from_slice(&0u64.to_le_bytes()); // phoff
    f.extend_from_slice(&sh_off.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes()); // flags
    for v in [64u16, 56, 0, 64, 3, 2] {
        // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(section);
    f.extend_from_slice(strtab);
    f.resize(sh_off as usize, 0);
    let mut sh = |name: u32, kind: u32, flags: u64, off: u64, size: u64| {
        f.extend_from_slice(&name.to_le_bytes());
        f.extend_from_slice(&kind.to_le_bytes());
        f.extend_from_slice(&flags.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes()); // addr
        f.extend_from_slice(&off.to_le_bytes());
        f.extend_from_slice(&size.to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes()); // link
        f.extend_from_slice(&0u32.to_le_bytes()); // info
        f.extend_from_slice(&1u64.to_le_bytes()); // addralign
        f.extend_from_slice(&0u64.to_le_bytes()); // entsize
    };
    sh(0, 0, 0, 0, 0);
    sh(1, 1, 2, data_off, section.len() as u64); // .dep-v0, PROGBITS, ALLOC
    sh(9, 3, 0, str_off, strtab.len() as u64); // .shstrtab, STRTAB
    f
}

/// The four ecosystems' fixtures under one root, plus an auditable Rust binary and a broken
/// one (`usr/local/bin/broken` has a `.dep-v0` section that is not zlib).
fn lang_tree(root: &std::path::Path) {
    for eco in ["rust", "ruby", "php", "dotnet"] {
        copy_tree(
            &std::path::Path::new(LANG_FIXTURES).join(eco),
            &root.join(eco),
        );
    }
    let bin = root.join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("auditable-app"),
        auditable_elf(
            r#"{"packages":[{"name":"auditable-app","version":"0.3.0","source":"local","dependencies":[1,2],"root":true},{"name":"regex","version":"1.5.4","source":"crates.io"},{"name":"smallvec","version":"1.6.0","source":"crates.io"}]}"#,
        ),
    )
    .unwrap();
    std::fs::write(
        bin.join("broken"),
        elf_with_dep_section(b"this is not zlib data"),
    )
    .unwrap();
}

#[test]
fn sbom_dir_reports_rust_ruby_php_and_dotnet_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    lang_tree(&root);
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", &format!("dir:{}", root.display()), "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = a["inventory"]["packages"].as_array().unwrap();
    let rows: BTreeSet<(String, String, String)> = packages
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
            let path = p["locations"][0]["path"].as_str().unwrap_or("").to_string();
            (s("purl"), s("found_by"), path)
        })
        .collect();
    let expect = [
        // Rust: the lock file and the auditable binary.
        (
            "pkg:cargo/smallvec@1.6.0",
            "rust-cargo-lock-cataloger",
            "/rust/Cargo.lock",
        ),
        (
            "pkg:cargo/time@0.1.43",
            "rust-cargo-lock-cataloger",
            "/rust/Cargo.lock",
        ),
        (
            "pkg:cargo/libc@0.2.150",
            "rust-cargo-lock-cataloger",
            "/rust/Cargo.lock",
        ),
        (
            "pkg:cargo/fixture-app@0.1.0",
            "rust-cargo-lock-cataloger",
            "/rust/Cargo.lock",
        ),
        (
            "pkg:cargo/regex@1.5.4",
            "cargo-auditable-binary-cataloger",
            "/usr/local/bin/auditable-app",
        ),
        (
            "pkg:cargo/smallvec@1.6.0",
            "cargo-auditable-binary-cataloger",
            "/usr/local/bin/auditable-app",
        ),
        (
            "pkg:cargo/auditable-app@0.3.0",
            "cargo-auditable-binary-cataloger",
            "/usr/local/bin/auditable-app",
        ),
        // Ruby: installed gemspecs and the Gemfile.lock.
        (
            "pkg:gem/rack@2.0.8",
            "ruby-installed-gemspec-cataloger",
            "/ruby/usr/local/bundle/specifications/rack-2.0.8.gemspec",
        ),
        (
            "pkg:gem/nokogiri@1.15.4",
            "ruby-installed-gemspec-cataloger",
            "/ruby/usr/local/bundle/specifications/nokogiri-1.15.4-x86_64-linux.gemspec",
        ),
        (
            "pkg:gem/rack@2.0.8",
            "ruby-gemfile-cataloger",
            "/ruby/app/Gemfile.lock",
        ),
        (
            "pkg:gem/racc@1.7.1",
            "ruby-gemfile-cataloger",
            "/ruby/app/Gemfile.lock",
        ),
        (
            "pkg:gem/nokogiri@1.15.4",
            "ruby-gemfile-cataloger",
            "/ruby/app/Gemfile.lock",
        ),
        // PHP: installed.json and composer.lock (dev packages included).
        (
            "pkg:composer/symfony/http-kernel@v4.4.0",
            "php-composer-installed-cataloger",
            "/php/var/www/vendor/composer/installed.json",
        ),
        (
            "pkg:composer/psr/log@1.1.4",
            "php-composer-installed-cataloger",
            "/php/var/www/vendor/composer/installed.json",
        ),
        (
            "pkg:composer/symfony/http-kernel@v4.4.0",
            "php-composer-lock-cataloger",
            "/php/app/composer.lock",
        ),
        (
            "pkg:composer/psr/log@1.1.4",
            "php-composer-lock-cataloger",
            "/php/app/composer.lock",
        ),
        (
            "pkg:composer/phpunit/phpunit@9.6.13",
            "php-composer-lock-cataloger",
            "/php/app/composer.lock",
        ),
        // .NET: deps.json and packages.lock.json.
        (
            "pkg:nuget/Newtonsoft.Json@12.0.1",
            "dotnet-deps-cataloger",
            "/dotnet/app/bin/FixtureApp.deps.json",
        ),
        (
            "pkg:nuget/Serilog@2.10.0",
            "dotnet-deps-cataloger",
            "/dotnet/app/bin/FixtureApp.deps.json",
        ),
        (
            "pkg:nuget/Newtonsoft.Json@12.0.1",
            "dotnet-packages-lock-cataloger",
            "/dotnet/src/packages.lock.json",
        ),
        (
            "pkg:nuget/Serilog@2.10.0",
            "dotnet-packages-lock-cataloger",
            "/dotnet/src/packages.lock.json",
        ),
    ];
    let expect: BTreeSet<(String, String, String)> = expect
        .iter()
        .map(|(a, b, c)| ((*a).to_string(), (*b).to_string(), (*c).to_string()))
        .collect();
    assert_eq!(rows, expect, "exactly the fixture packages, nothing else");
    let gem = packages
        .iter()
        .find(|p| p["name"] == "rack" && p["found_by"] == "ruby-installed-gemspec-cataloger")
        .unwrap();
    assert_eq!(gem["licenses"], serde_json::json!(["MIT"]));
    // The broken binary is a problem naming it, the rest of the tree is still cataloged.
    let problems = a["inventory"]["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["path"] == "/usr/local/bin/broken"
            && p["source"] == "cargo-auditable-binary-cataloger"),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");

    // Lock files are declared sources: `--catalogers -declared` leaves the installed evidence.
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", &format!("dir:{}", root.display()), "-o", "json"])
        .arg("--catalogers=-declared")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found_by: BTreeSet<&str> = a["inventory"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["found_by"].as_str())
        .collect();
    assert_eq!(
        found_by,
        BTreeSet::from([
            "cargo-auditable-binary-cataloger",
            "dotnet-deps-cataloger",
            "php-composer-installed-cataloger",
            "ruby-installed-gemspec-cataloger",
        ])
    );
}

#[test]
fn scan_dir_matches_old_crates_gems_composer_and_nuget_packages() {
    let mirror = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/osv-mirror"
    ));
    if !mirror.join("crates.io/all.zip").is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {} is missing",
            mirror.display()
        );
        eprintln!("skipping: {} not found", mirror.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    lang_tree(&root);
    let db = tmp.path().join("db.sqlite");
    let mut build = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    build
        .args(["db", "build", "--quiet", "--from"])
        .arg(&mirror)
        .arg("--out")
        .arg(&db);
    for eco in ["crates.io", "RubyGems", "Packagist", "NuGet"] {
        build.args(["--ecosystem", eco]);
    }
    let out = build.env("XDG_CACHE_HOME", tmp.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["scan", &format!("dir:{}", root.display()), "-o", "json"])
        .args(["--no-policy", "--no-store", "--max-db-age", "0", "--db"])
        .arg(&db)
        .env("XDG_CACHE_HOME", tmp.path())
        .env("XDG_DATA_HOME", tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits: BTreeSet<(String, String)> = a["matches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            // The advisory under its primary id and every alias (the DB may prefer the CVE).
            let purl = m["purl"].as_str().unwrap_or("").to_string();
            let v = &m["vulnerability"];
            std::iter::once(&v["id"])
                .chain(v["aliases"].as_array().into_iter().flatten())
                .filter_map(Value::as_str)
                .map(|id| (id.to_string(), purl.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    for (id, purl) in [
        ("RUSTSEC-2021-0003", "pkg:cargo/smallvec@1.6.0"),
        ("RUSTSEC-2020-0071", "pkg:cargo/time@0.1.43"),
        ("RUSTSEC-2022-0013", "pkg:cargo/regex@1.5.4"),
        ("GHSA-rqv2-275x-2jq5", "pkg:gem/rack@2.0.8"),
        (
            "GHSA-h7vf-5wrv-9fhv",
            "pkg:composer/symfony/http-kernel@v4.4.0",
        ),
        ("GHSA-5crp-9r3c-p9vr", "pkg:nuget/Newtonsoft.Json@12.0.1"),
    ] {
        assert!(
            hits.contains(&(id.to_string(), purl.to_string())),
            "{id} on {purl} not matched; got {hits:?}"
        );
    }
    // Fixed versions are not matched.
    assert!(
        !hits
            .iter()
            .any(|(_, p)| p == "pkg:cargo/libc@0.2.150" || p == "pkg:nuget/Serilog@2.10.0"),
        "{hits:?}"
    );
}

/// A jar (deflated zip) of `entries`, built with the `zip` writer.
fn java_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
    buf.into_inner()
}

fn schema_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/schemas"));
    if dir.join("cyclonedx/bom-1.6.schema.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        dir.display()
    );
    eprintln!("skipping schema checks: {} not found", dir.display());
    None
}

/// `tollgate sbom docker-archive:` on an image holding a war (with a nested log4j jar and a
/// zip bomb), a manifest-only jar and a file-name-only jar: Maven packages with their purls and
/// nesting chains, the bomb as a warning, and CycloneDX/SPDX output that still validates.
#[test]
fn sbom_reports_java_archives_nested_and_hostile() {
    let props = |g: &str, a: &str, v: &str| format!("groupId={g}\nartifactId={a}\nversion={v}\n");
    let log4j = java_zip(&[(
        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
        props("org.apache.logging.log4j", "log4j-core", "2.14.1").as_bytes(),
    )]);
    let zeros = vec![0u8; 16 * 1024 * 1024];
    let war = java_zip(&[
        (
            "META-INF/maven/com.example/shop/pom.properties",
            props("com.example", "shop", "1.4.0").as_bytes(),
        ),
        ("WEB-INF/lib/log4j-core-2.14.1.jar", &log4j),
        ("WEB-INF/lib/bomb.jar", &zeros),
    ]);
    let manifest_only = java_zip(&[(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\r\nImplementation-Title: tiny\r\nImplementation-Version: 0.9\r\nImplementation-Vendor-Id: org.acme\r\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0\r\n",
    )]);
    let by_name = java_zip(&[("org/apache/commons/io/IOUtils.class", b"\xca\xfe\xba\xbe")]);
    use tollgate::image::fixture::{ImageBuilder, Layer};
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("java.tar");
    ImageBuilder::new()
        .layer(Layer::new().file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"))
        .layer(
            Layer::new()
                .file("app/shop.war", &war)
                .file("opt/tiny.jar", &manifest_only)
                .file("opt/lib/commons-io-2.11.0.jar", &by_name),
        )
        .write_docker_archive(&archive, &["example/java:1"])
        .unwrap();
    let cdx = tmp.path().join("java.cdx.json");
    let spdx = tmp.path().join("java.spdx.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["sbom", &format!("docker-archive:{}", archive.display())])
        .args(["-o", "json"])
        .arg("-o")
        .arg(format!("cyclonedx-json={}", cdx.display()))
        .arg("-o")
        .arg(format!("spdx-json={}", spdx.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inv = &a["inventory"];
    let java: BTreeSet<(String, String)> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "java-archive")
        .map(|p| {
            (
                p["purl"].as_str().unwrap().to_string(),
                p["locations"][0]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("pkg:maven/com.example/shop@1.4.0", "/app/shop.war"),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "/app/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar",
        ),
        ("pkg:maven/org.acme/tiny@0.9", "/opt/tiny.jar"),
        (
            "pkg:maven/commons-io@2.11.0",
            "/opt/lib/commons-io-2.11.0.jar",
        ),
    ]
    .iter()
    .map(|(p, l)| ((*p).to_string(), (*l).to_string()))
    .collect();
    assert_eq!(java, want);
    let bomb: Vec<&Value> = inv["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["path"] == "/app/shop.war!/WEB-INF/lib/bomb.jar")
        .collect();
    assert_eq!(bomb.len(), 1, "{:#}", inv["problems"]);
    assert!(bomb[0]["message"].as_str().unwrap().contains("zip bomb"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bomb.jar"),
        "the bomb is a visible warning"
    );

    let cdx_doc: Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    let log4j_c = cdx_doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "log4j-core")
        .unwrap();
    assert_eq!(log4j_c["group"], "org.apache.logging.log4j");
    assert_eq!(
        log4j_c["purl"],
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
    let spdx_doc: Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    let Some(dir) = schema_dir() else { return };
    let read =
        |p: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            read(dir.join("cyclonedx/spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            read(dir.join("cyclonedx/jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let cdx_schema = jsonschema::options()
        .with_registry(&registry)
        .build(&read(dir.join("cyclonedx/bom-1.6.schema.json")))
        .unwrap();
    let errs: Vec<String> = cdx_schema
        .iter_errors(&cdx_doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errs.is_empty(), "{errs:#?}");
    let spdx_schema = jsonschema::options()
        .build(&read(dir.join("spdx/spdx-schema-2.3.json")))
        .unwrap();
    let errs: Vec<String> = spdx_schema
        .iter_errors(&spdx_doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errs.is_empty(), "{errs:#?}");
}

/// `tollgate sbom dir:` on small root filesystems holding each rpm database format (the
/// engine's committed fixtures): the rpm packages, their purls and the Rocky distro show up,
/// and a corrupt database is a warning, not a failure.
#[test]
fn sbom_lists_rpm_packages_from_each_database_format() {
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/catalog/rpm");
    let os_release = "ID=\"rocky\"\nVERSION_ID=\"9.3\"\nID_LIKE=\"rhel centos fedora\"\n";
    for (dir, name) in [
        ("var/lib/rpm", "rpmdb.sqlite"),
        ("var/lib/rpm", "Packages"),
        ("usr/lib/sysimage/rpm", "Packages.db"),
    ] {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/os-release"), os_release).unwrap();
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
        std::fs::copy(fixtures.join(name), root.path().join(dir).join(name)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args([
                "sbom",
                &format!("dir:{}", root.path().display()),
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a: Value = serde_json::from_slice(&out.stdout).unwrap();
        let inv = &a["inventory"];
        assert_eq!(inv["distro"]["id"], "rocky", "{name}");
        let rpms: Vec<(&str, &str)> = inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == "rpm")
            .map(|p| (p["name"].as_str().unwrap(), p["version"].as_str().unwrap()))
            .collect();
        assert_eq!(
            rpms,
            [
                ("bash", "5.1.8-6.el9_1"),
                ("nodejs", "1:18.19.0-1.module+el9.3.0+16045+1ee1d7d9"),
                ("openssl-libs", "1:3.0.7-25.el9_3"),
                ("python3-requests", "2.25.1-8.el9"),
            ],
            "{name}"
        );
        let ssl = inv["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "openssl-libs")
            .unwrap();
        assert_eq!(
            ssl["purl"],
            "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9_3?arch=x86_64&distro=rocky-9.3&epoch=1&upstream=openssl-3.0.7-25.el9_3.src.rpm"
        );
        assert_eq!(ssl["found_by"], "rpm-db-cataloger");
        assert_eq!(ssl["locations"][0]["path"], format!("/{dir}/{name}"));
        assert!(
            inv["problems"].as_array().is_none_or(|p| p.is_empty()),
            "{name}: {}",
            inv["problems"]
        );
    }

    // A corrupt database: still exit 0, with the problem named in the output.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/os-release"), os_release).unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    let mut broken = std::fs::read(fixtures.join("Packages")).unwrap();
    broken.truncate(5000);
    std::fs::write(root.path().join("var/lib/rpm/Packages"), broken).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "sbom",
            &format!("dir:{}", root.path().display()),
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = a["inventory"]["problems"].to_string();
    assert!(problems.contains("/var/lib/rpm/Packages"), "{problems}");
    assert!(problems.contains("truncated"), "{problems}");
}
