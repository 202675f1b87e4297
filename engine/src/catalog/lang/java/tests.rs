//! Java cataloger tests on archives built here with the `zip` writer: identity precedence,
//! nesting (wars, Spring Boot fat jars, ears), and hostile archives (depth, zip bombs, entry
//! counts, truncation, non-UTF-8 manifests).

use std::io::Write;
use std::sync::Arc;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{declared_entries, is_archive_name};
use crate::catalog::{self, ArchiveLimits, CatalogOptions, Inventory, Package, PackageType};
use crate::image::{FileEntry, FileKind, Image, LayerInfo};

/// A zip of `entries`, deflated or stored.
fn zip_with(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = ZipWriter::new(&mut buf);
        let opts = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(false);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(entries, CompressionMethod::Deflated)
}

fn props(g: &str, a: &str, v: &str) -> Vec<u8> {
    format!("#Created by Apache Maven 3.8.6\ngroupId={g}\nartifactId={a}\nversion={v}\n")
        .into_bytes()
}

fn pom_path(g: &str, a: &str) -> String {
    format!("META-INF/maven/{g}/{a}/pom.properties")
}

const LAYER: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn image(files: Vec<(&str, Vec<u8>)>) -> Image {
    let mut img = Image {
        layers: vec![
            LayerInfo {
                index: 0,
                diff_id: format!("sha256:{}", "0".repeat(64)),
                ..Default::default()
            },
            LayerInfo {
                index: 1,
                diff_id: LAYER.into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    img.source.scheme = "oci-dir".into();
    for (path, data) in files {
        img.files.entries.insert(
            path.into(),
            FileEntry {
                path: path.into(),
                kind: FileKind::Regular,
                mode: 0o644,
                size: data.len() as u64,
                layer: 1,
                ..Default::default()
            },
        );
        img.files.contents.insert(path.into(), Arc::from(data));
    }
    img
}

fn run_with(files: Vec<(&str, Vec<u8>)>, limits: ArchiveLimits) -> Inventory {
    let opts = CatalogOptions {
        archive: limits,
        ..Default::default()
    };
    catalog::run(&image(files), &opts)
}

fn run(files: Vec<(&str, Vec<u8>)>) -> Inventory {
    run_with(files, ArchiveLimits::default())
}

fn java(inv: &Inventory) -> Vec<&Package> {
    inv.packages
        .iter()
        .filter(|p| p.kind == PackageType::JavaArchive)
        .collect()
}

fn find<'a>(inv: &'a Inventory, name: &str) -> &'a Package {
    inv.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} not found in {:#?}", inv.packages))
}

fn meta<'a>(p: &'a Package, k: &str) -> Option<&'a str> {
    p.metadata.get(k).and_then(|v| v.as_str())
}

fn problems_about<'a>(inv: &'a Inventory, needle: &str) -> Vec<&'a catalog::Problem> {
    inv.problems
        .iter()
        .filter(|p| p.path.as_deref().is_some_and(|x| x.contains(needle)))
        .collect()
}

#[test]
fn pom_properties_give_the_identity_and_manifest_the_license() {
    let data = jar(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt\r\nImplementation-Title: Apache Log4j Core\r\nImplementation-Version: 9.9\r\n\r\n",
        ),
        (
            &pom_path("org.apache.logging.log4j", "log4j-core"),
            &props("org.apache.logging.log4j", "log4j-core", "2.14.1"),
        ),
        ("org/apache/logging/log4j/core/Logger.class", &[0xca, 0xfe, 0xba, 0xbe]),
    ]);
    let inv = run(vec![("/app/lib/log4j-core-2.14.1.jar", data)]);
    assert!(inv.problems.is_empty(), "{:#?}", inv.problems);
    let pkgs = java(&inv);
    assert_eq!(pkgs.len(), 1, "{pkgs:#?}");
    let p = pkgs[0];
    assert_eq!(
        (p.name.as_str(), p.version.as_str()),
        ("log4j-core", "2.14.1")
    );
    assert_eq!(
        p.purl,
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
    assert_eq!(p.licenses, vec!["Apache-2.0"]);
    assert_eq!(p.found_by, "java-archive-cataloger");
    assert_eq!(meta(p, "evidence"), Some("pom.properties"));
    assert_eq!(meta(p, "group_id"), Some("org.apache.logging.log4j"));
    assert_eq!(p.locations[0].path, "/app/lib/log4j-core-2.14.1.jar");
    assert_eq!(p.locations[0].layer_digest, LAYER);
    assert_eq!(p.locations[0].layer_index, 1);
}

#[test]
fn several_pom_properties_are_each_a_package_and_the_file_name_picks_the_own_one() {
    let data = jar(&[
        (
            &pom_path("com.google.guava", "guava"),
            &props("com.google.guava", "guava", "31.1-jre"),
        ),
        (
            &pom_path("com.example", "app"),
            &props("com.example", "app", "1.0"),
        ),
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nBundle-License: MIT\n",
        ),
    ]);
    let inv = run(vec![("/srv/app-1.0.jar", data)]);
    let app = find(&inv, "app");
    let guava = find(&inv, "guava");
    assert_eq!(app.purl, "pkg:maven/com.example/app@1.0");
    assert_eq!(
        app.licenses,
        vec!["MIT"],
        "the manifest license is the archive's own"
    );
    assert_eq!(meta(app, "shaded"), None);
    assert_eq!(guava.purl, "pkg:maven/com.google.guava/guava@31.1-jre");
    assert!(guava.licenses.is_empty());
    assert_eq!(
        guava.metadata.get("shaded"),
        Some(&serde_json::Value::Bool(true))
    );
    assert_eq!(java(&inv).len(), 2);
}

#[test]
fn a_lone_pom_of_a_shaded_library_is_not_the_archive_identity() {
    let cglib = props("cglib", "cglib", "3.2.12");
    let manifest: &[u8] = b"Bundle-SymbolicName: com.google.inject\nBundle-Version: 4.2.3\n";
    let guice = jar(&[
        ("META-INF/MANIFEST.MF", manifest),
        (&pom_path("cglib", "cglib"), &cglib),
    ]);
    let inv = run(vec![
        ("/usr/share/java/guice-4.2.3.jar", guice.clone()),
        ("/usr/share/java/guice.jar", guice),
    ]);
    let purls: Vec<&str> = java(&inv).iter().map(|p| p.purl.as_str()).collect();
    assert_eq!(
        purls,
        vec![
            "pkg:maven/cglib/cglib@3.2.12",
            "pkg:maven/cglib/cglib@3.2.12",
            "pkg:maven/com.google.inject/guice@4.2.3",
            "pkg:maven/com.google.inject/guice@4.2.3",
        ]
    );
    assert!(
        inv.packages
            .iter()
            .filter(|p| p.name == "cglib")
            .all(|p| p.metadata.get("shaded") == Some(&serde_json::Value::Bool(true)))
    );
    // Renamed, no other evidence: the lone pom is the archive's own.
    let app = jar(&[(
        &pom_path("com.example", "svc"),
        &props("com.example", "svc", "1.2"),
    )]);
    let inv = run(vec![("/app/app.jar", app)]);
    assert_eq!(java(&inv).len(), 1);
    assert_eq!(meta(java(&inv)[0], "shaded"), None);
}

#[test]
fn pom_xml_when_there_is_no_pom_properties() {
    let pom = br#"<project><parent><groupId>org.acme</groupId><version>3.2.1</version></parent>
        <artifactId>widget</artifactId>
        <licenses><license><name>The Apache Software License, Version 2.0</name></license></licenses></project>"#;
    let data = jar(&[("META-INF/maven/org.acme/widget/pom.xml", pom)]);
    let inv = run(vec![("/opt/widget.jar", data)]);
    let p = find(&inv, "widget");
    assert_eq!(p.purl, "pkg:maven/org.acme/widget@3.2.1");
    assert_eq!(meta(p, "evidence"), Some("pom.xml"));
    assert_eq!(p.licenses, vec!["Apache-2.0"]);
}

#[test]
fn manifest_only_identity() {
    let data = jar(&[(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\nImplementation-Title: My Library\nImplementation-Version: 2.3.4\nImplementation-Vendor-Id: org.acme\nBundle-License: EPL-2.0\n",
    )]);
    let inv = run(vec![("/opt/mylib.jar", data)]);
    let p = find(&inv, "mylib");
    assert_eq!(p.purl, "pkg:maven/org.acme/mylib@2.3.4");
    assert_eq!(meta(p, "evidence"), Some("manifest"));
    assert_eq!(meta(p, "implementation_title"), Some("My Library"));
    assert_eq!(p.licenses, vec!["EPL-2.0"]);

    // As syft: the file name's name, the symbolic name as the group when it is a package name,
    // and the file name's version over the manifest's.
    let osgi = jar(&[(
        "META-INF/MANIFEST.MF",
        b"Implementation-Title: ASM, a very small\n and fast framework\nBundle-SymbolicName: org.objectweb.asm;singleton:=true\nBundle-Version: 9.4.0.SNAPSHOT\nImplementation-Version: 9.4-SNAPSHOT\n",
    )]);
    let inv = run(vec![
        ("/usr/share/java/asm.jar", osgi.clone()),
        ("/usr/share/java/asm-9.4.jar", osgi),
    ]);
    let purls: Vec<&str> = java(&inv).iter().map(|p| p.purl.as_str()).collect();
    assert_eq!(
        purls,
        vec![
            "pkg:maven/org.objectweb.asm/asm@9.4",
            "pkg:maven/org.objectweb.asm/asm@9.4-SNAPSHOT"
        ]
    );
    assert!(
        java(&inv)
            .iter()
            .all(|p| meta(p, "evidence") == Some("manifest"))
    );

    // Jenkins plugin manifest.
    let hpi = jar(&[(
        "META-INF/MANIFEST.MF",
        b"Short-Name: git\nPlugin-Version: 5.2.0\nGroup-Id: org.jenkins-ci.plugins\nLong-Name: Jenkins Git plugin\n",
    )]);
    let inv = run(vec![("/var/jenkins_home/plugins/git-client.jpi", hpi)]);
    let p = find(&inv, "git");
    assert_eq!(p.purl, "pkg:maven/org.jenkins-ci.plugins/git@5.2.0");
    assert_eq!(meta(p, "java_type"), Some("jenkins-plugin"));
}

#[test]
fn file_name_is_the_last_resort() {
    let data = jar(&[("org/apache/commons/io/IOUtils.class", b"\xca\xfe\xba\xbe")]);
    let inv = run(vec![("/usr/share/java/commons-io-2.11.0.jar", data)]);
    let p = find(&inv, "commons-io");
    assert_eq!(p.version, "2.11.0");
    assert_eq!(meta(p, "evidence"), Some("filename"));
    assert_eq!(p.purl, "pkg:maven/commons-io@2.11.0");
}

#[test]
fn war_with_nested_jars_reports_the_chain() {
    let spring = jar(&[(
        &pom_path("org.springframework", "spring-core"),
        &props("org.springframework", "spring-core", "5.3.20"),
    )]);
    let plain = jar(&[("a/B.class", b"\xca\xfe\xba\xbe")]);
    let war = jar(&[
        ("WEB-INF/web.xml", b"<web-app/>"),
        (
            &pom_path("com.shop", "shop"),
            &props("com.shop", "shop", "2.0"),
        ),
        ("WEB-INF/lib/spring-core-5.3.20.jar", &spring),
        ("WEB-INF/lib/plain-1.0.jar", &plain),
    ]);
    let inv = run(vec![("/app/shop.war", war)]);
    assert!(inv.problems.is_empty(), "{:#?}", inv.problems);
    let shop = find(&inv, "shop");
    assert_eq!(shop.locations[0].path, "/app/shop.war");
    let spring = find(&inv, "spring-core");
    assert_eq!(
        spring.locations[0].path,
        "/app/shop.war!/WEB-INF/lib/spring-core-5.3.20.jar"
    );
    assert_eq!(spring.locations[0].layer_digest, LAYER);
    assert_eq!(
        spring.purl,
        "pkg:maven/org.springframework/spring-core@5.3.20"
    );
    let plain = find(&inv, "plain");
    assert_eq!(plain.version, "1.0");
    assert_eq!(java(&inv).len(), 3);
}

#[test]
fn spring_boot_fat_jar_with_stored_libs_and_a_launch_script() {
    let lib = |g: &str, a: &str, v: &str| {
        zip_with(
            &[
                (&pom_path(g, a), &props(g, a, v)),
                ("x/Y.class", b"\xca\xfe"),
            ],
            CompressionMethod::Deflated,
        )
    };
    let jackson = lib("com.fasterxml.jackson.core", "jackson-databind", "2.13.4.2");
    let snake = lib("org.yaml", "snakeyaml", "1.30");
    let boot = zip_with(
        &[
            (
                "META-INF/MANIFEST.MF",
                b"Main-Class: org.springframework.boot.loader.JarLauncher\nStart-Class: com.example.Demo\n",
            ),
            (&pom_path("com.example", "demo"), &props("com.example", "demo", "0.0.1-SNAPSHOT")),
            ("BOOT-INF/classes/com/example/Demo.class", b"\xca\xfe"),
            ("BOOT-INF/lib/jackson-databind-2.13.4.2.jar", &jackson),
            ("BOOT-INF/lib/snakeyaml-1.30.jar", &snake),
        ],
        CompressionMethod::Stored,
    );
    // `executable` Spring Boot jars start with a shell script.
    let mut data = b"#!/bin/bash\necho launch\nexit 0\n".to_vec();
    data.extend_from_slice(&boot);
    let inv = run(vec![("/app/demo-0.0.1-SNAPSHOT.jar", data)]);
    assert!(inv.problems.is_empty(), "{:#?}", inv.problems);
    assert_eq!(find(&inv, "demo").version, "0.0.1-SNAPSHOT");
    let j = find(&inv, "jackson-databind");
    assert_eq!(
        j.purl,
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.4.2"
    );
    assert_eq!(
        j.locations[0].path,
        "/app/demo-0.0.1-SNAPSHOT.jar!/BOOT-INF/lib/jackson-databind-2.13.4.2.jar"
    );
    assert_eq!(find(&inv, "snakeyaml").version, "1.30");
}

#[test]
fn ear_with_war_with_jar() {
    let inner = jar(&[(&pom_path("g", "deep"), &props("g", "deep", "1"))]);
    let war = jar(&[("WEB-INF/lib/deep-1.jar", &inner)]);
    let ear = jar(&[("web.war", &war)]);
    let inv = run(vec![("/opt/app.ear", ear)]);
    let p = find(&inv, "deep");
    assert_eq!(
        p.locations[0].path,
        "/opt/app.ear!/web.war!/WEB-INF/lib/deep-1.jar"
    );
}

/// `l1.jar` ⊃ `l2.jar` ⊃ … ⊃ `l{levels}.jar`, each with its own pom.properties.
fn nested(levels: usize) -> Vec<u8> {
    let mut data = jar(&[(
        &pom_path("g", &format!("l{levels}")),
        &props("g", &format!("l{levels}"), "1"),
    )]);
    for level in (1..levels).rev() {
        let a = format!("l{level}");
        data = jar(&[
            (&pom_path("g", &a), &props("g", &a, "1")),
            (&format!("lib/l{}.jar", level + 1), &data),
        ]);
    }
    data
}

#[test]
fn nesting_beyond_the_depth_cap_is_a_problem_naming_the_chain() {
    let inv = run(vec![("/app/l1.jar", nested(6))]);
    let names: Vec<&str> = java(&inv).iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["l1", "l2", "l3", "l4"],
        "default depth cap is 4"
    );
    let limit: Vec<_> = inv
        .problems
        .iter()
        .filter(|p| p.message.contains("depth cap"))
        .collect();
    assert_eq!(limit.len(), 1, "{:#?}", inv.problems);
    assert_eq!(
        limit[0].path.as_deref(),
        Some("/app/l1.jar!/lib/l2.jar!/lib/l3.jar!/lib/l4.jar!/lib/l5.jar")
    );
    assert_eq!(limit[0].source, "java-archive-cataloger");

    let shallow = run_with(
        vec![("/app/l1.jar", nested(3))],
        ArchiveLimits {
            max_depth: 1,
            ..Default::default()
        },
    );
    assert_eq!(java(&shallow).len(), 1);
    assert_eq!(problems_about(&shallow, "/app/l1.jar!/lib/l2.jar").len(), 1);
}

#[test]
fn zip_bombs_are_skipped_with_a_problem() {
    let zeros = vec![0u8; 24 * 1024 * 1024];
    let ok = jar(&[(&pom_path("g", "fine"), &props("g", "fine", "1"))]);
    let outer = jar(&[
        ("META-INF/MANIFEST.MF", &zeros),
        ("lib/bomb.jar", &zeros),
        ("lib/fine-1.jar", &ok),
        ("big/Data.class", &zeros),
    ]);
    assert!(
        outer.len() < 200 * 1024,
        "the fixture is small: {}",
        outer.len()
    );
    let inv = run(vec![("/app/bombs-1.0.jar", outer)]);
    let bomb = problems_about(&inv, "/app/bombs-1.0.jar!/lib/bomb.jar");
    assert_eq!(bomb.len(), 1, "{:#?}", inv.problems);
    assert!(bomb[0].message.contains("zip bomb"), "{}", bomb[0].message);
    assert!(bomb[0].message.contains("nested archive not opened"));
    let manifest = problems_about(&inv, "!/META-INF/MANIFEST.MF");
    assert_eq!(manifest.len(), 1, "{:#?}", inv.problems);
    // The rest of the archive is still cataloged; class files are never inflated.
    assert_eq!(find(&inv, "fine").version, "1");
    assert_eq!(find(&inv, "bombs").version, "1.0");
    assert!(problems_about(&inv, "Data.class").is_empty());
}

#[test]
fn per_member_and_total_byte_caps() {
    let inner = jar(&[
        (&pom_path("g", "inner"), &props("g", "inner", "1")),
        (
            "pad.bin",
            &(0..200_000u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect::<Vec<_>>(),
        ),
    ]);
    let outer = jar(&[("lib/a.jar", &inner), ("lib/b.jar", &inner)]);
    let member_cap = run_with(
        vec![("/x/outer.jar", outer.clone())],
        ArchiveLimits {
            max_entry_bytes: 1000,
            ..Default::default()
        },
    );
    assert_eq!(member_cap.problems.len(), 2, "{:#?}", member_cap.problems);
    assert!(member_cap.problems[0].message.contains("per-member cap"));
    let total_cap = run_with(
        vec![("/x/outer.jar", outer)],
        ArchiveLimits {
            max_total_bytes: inner.len() as u64 + 1000,
            ..Default::default()
        },
    );
    let inner_found: Vec<_> = java(&total_cap)
        .iter()
        .filter(|p| p.name == "inner")
        .map(|p| p.locations[0].path.clone())
        .collect();
    assert_eq!(
        inner_found,
        vec!["/x/outer.jar!/lib/a.jar".to_string()],
        "{:#?}",
        total_cap.problems
    );
    let p = problems_about(&total_cap, "/x/outer.jar!/lib/b.jar");
    assert_eq!(p.len(), 1, "{:#?}", total_cap.problems);
    assert!(p[0].message.contains("total cap"), "{}", p[0].message);
}

#[test]
fn entry_count_cap_is_checked_before_parsing() {
    let many: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| (format!("c/{i}.class"), vec![1u8]))
        .collect();
    let refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let data = jar(&refs);
    assert_eq!(declared_entries(&data), Some(50));
    let inv = run_with(
        vec![("/x/many-1.0.jar", data)],
        ArchiveLimits {
            max_entries: 10,
            ..Default::default()
        },
    );
    assert!(java(&inv).is_empty());
    assert_eq!(inv.problems.len(), 1);
    assert!(
        inv.problems[0].message.contains("declares 50 entries"),
        "{}",
        inv.problems[0].message
    );
}

#[test]
fn truncated_archives_are_problems_and_the_rest_continues() {
    let good = jar(&[(&pom_path("g", "good"), &props("g", "good", "1"))]);
    let mut cut = jar(&[(&pom_path("g", "cut"), &props("g", "cut", "1"))]);
    cut.truncate(cut.len() / 2);
    let outer = jar(&[("lib/cut-1.jar", &cut), ("lib/good-1.jar", &good)]);
    let inv = run(vec![
        ("/a/top-cut.jar", cut.clone()),
        ("/a/outer-2.jar", outer),
    ]);
    let top = problems_about(&inv, "/a/top-cut.jar");
    assert_eq!(top.len(), 1);
    assert!(
        top[0].message.contains("cannot parse"),
        "{}",
        top[0].message
    );
    let nested = problems_about(&inv, "/a/outer-2.jar!/lib/cut-1.jar");
    assert_eq!(nested.len(), 1, "{:#?}", inv.problems);
    assert_eq!(find(&inv, "good").version, "1");
    assert_eq!(find(&inv, "outer").version, "2");
    // Garbage and empty files never panic.
    let inv = run(vec![
        ("/a/empty.jar", Vec::new()),
        ("/a/junk.war", b"PK\x05\x06garbage".to_vec()),
    ]);
    assert_eq!(inv.problems.len(), 2, "{:#?}", inv.problems);
    assert!(java(&inv).is_empty());
}

#[test]
fn non_utf8_manifest_is_read_lossily_with_a_problem() {
    let data = jar(&[(
        "META-INF/MANIFEST.MF",
        b"Implementation-Title: latin\nImplementation-Version: 1.0\nImplementation-Vendor: Soci\xe9t\xe9 G\xe9n\xe9rale\n",
    )]);
    let inv = run(vec![("/opt/latin.jar", data)]);
    assert_eq!(find(&inv, "latin").version, "1.0");
    let p = problems_about(&inv, "/opt/latin.jar!/META-INF/MANIFEST.MF");
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("UTF-8"));
}

#[test]
fn globs_and_names() {
    assert!(is_archive_name("WEB-INF/lib/x.jar"));
    assert!(is_archive_name("plugins/git.HPI"));
    assert!(!is_archive_name("lib/.jar"));
    assert!(!is_archive_name("x.jar.sha1"));
    assert!(!is_archive_name("lib/"));
    let r = catalog::content_request();
    for g in ["**/*.jar", "**/*.war", "**/*.ear", "**/*.jpi", "**/*.hpi"] {
        assert!(r.globs.iter().any(|x| x == g), "{g} not requested");
    }
}

/// Rewrites the declared uncompressed size of `name` in both its local and central headers.
fn lie_about_size(zip: &mut [u8], name: &str, size: u32) {
    let mut patched = 0;
    for i in 0..zip.len().saturating_sub(46) {
        let (sig_ok, name_at, size_at) = match &zip[i..i + 4] {
            b"PK\x03\x04" => (true, i + 30, i + 22),
            b"PK\x01\x02" => (true, i + 46, i + 24),
            _ => (false, 0, 0),
        };
        if sig_ok && zip.get(name_at..name_at + name.len()) == Some(name.as_bytes()) {
            zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
}

#[test]
fn lying_declared_sizes_do_not_get_past_the_caps() {
    let zeros = vec![0u8; 24 * 1024 * 1024];
    let mut outer = jar(&[("lib/bomb.jar", &zeros), ("lib/ok-1.0.jar", &jar(&[]))]);
    lie_about_size(&mut outer, "lib/bomb.jar", 1000);
    let inv = run(vec![("/app/liar-1.jar", outer)]);
    let p = problems_about(&inv, "/app/liar-1.jar!/lib/bomb.jar");
    assert_eq!(p.len(), 1, "{:#?}", inv.problems);
    // The zip reader itself refuses to inflate past the declared size; our caps are the
    // second line (see `zip_bombs_are_skipped_with_a_problem`).
    assert!(p[0].message.contains("declared"), "{}", p[0].message);
    assert_eq!(find(&inv, "ok").version, "1.0");
}
