//! `tollgate image inspect|files` end to end: every file-based source built by the fixture
//! builder, a real Debian `docker-registry` on 127.0.0.1 (anonymous over HTTP, htpasswd over
//! TLS with a test CA, a multi-arch index, a tampered blob, 404 and 401, the layer cache), and
//! the shared test images with their `expected.json`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::io::Write;
use std::process::Stdio;

use serde_json::Value;
use tollgate::image::fixture::{Compression, ImageBuilder, Layer, build_index};

use crate::support::registry::{REGISTRY_BIN, Registry, RegistryOptions};
use crate::support::{have_tool, stderr, stderr_has, stdout, testimages, tollgate, tollgate_cmd};

fn app_image() -> ImageBuilder {
    ImageBuilder::new()
        .layer_created_by(
            Layer::new()
                .dir("etc")
                .file("etc/os-release", "ID=debian\n")
                .dir("usr/bin")
                .file_with("usr/bin/passwd", "\x7fELF", 0o4755, 0, 0)
                .dir("app")
                .file("app/old.txt", "old")
                .file("app/keep.txt", "keep")
                .dir("app/cache")
                .file("app/cache/a", "a"),
            "ADD rootfs /",
        )
        .layer_created_by(
            Layer::new()
                .whiteout("app/old.txt")
                .opaque("app/cache")
                .file("app/cache/b", "b")
                .hardlink("app/keep-link", "app/keep.txt"),
            "RUN cleanup",
        )
        .env("PATH=/usr/bin")
        .user("app")
        .port("8080/tcp")
        .label("maintainer", "tests")
}

fn files_json(args: &[&str]) -> Value {
    let mut all = vec!["image", "files"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let out = tollgate(&all);
    assert!(out.status.success(), "{:?}: {}", all, stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("json")
}

fn paths(v: &Value) -> Vec<String> {
    v["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_string())
        .collect()
}

#[test]
fn image_files_and_inspect_on_every_file_source() {
    let dir = tempfile::tempdir().unwrap();
    let oci = dir.path().join("oci");
    let ociar = dir.path().join("img.oci.tar");
    let da = dir.path().join("img.docker.tar");
    let b = app_image().compression(Compression::Zstd);
    b.write_oci_dir(&oci, Some("1.0")).unwrap();
    b.write_oci_archive(&ociar, None).unwrap();
    app_image()
        .compression(Compression::None)
        .write_docker_archive(&da, &["example/app:1.0"])
        .unwrap();
    let expected = [
        "/app",
        "/app/cache",
        "/app/cache/b",
        "/app/keep-link",
        "/app/keep.txt",
        "/etc",
        "/etc/os-release",
        "/usr",
        "/usr/bin",
        "/usr/bin/passwd",
    ];
    for src in [
        format!("oci-dir:{}", oci.display()),
        format!("oci-dir:{}:1.0", oci.display()),
        format!("oci-archive:{}", ociar.display()),
        format!("docker-archive:{}", da.display()),
        format!("docker-archive:{}:example/app:1.0", da.display()),
        da.display().to_string(),
        oci.display().to_string(),
    ] {
        let v = files_json(&[&src]);
        assert_eq!(paths(&v), expected, "{src}");
        let passwd = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/usr/bin/passwd")
            .unwrap();
        assert_eq!(passwd["mode"], "4755");
        assert_eq!(passwd["permissions"], "-rwsr-xr-x");
        assert_eq!(passwd["layer"], 0);
        let link = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/app/keep-link")
            .unwrap();
        assert_eq!(link["kind"], "hardlink");
        assert_eq!(link["link_target"], "/app/keep.txt");
        assert_eq!(link["size"], 4);
        assert_eq!(link["layer"], 1);
    }
    // Globs filter the list.
    let v = files_json(&[
        &format!("oci-dir:{}", oci.display()),
        "/app/cache/*",
        "etc/**",
    ]);
    assert_eq!(paths(&v), ["/app/cache/b", "/etc/os-release"]);
    // Table output.
    let out = tollgate(&[
        "image",
        "files",
        &format!("oci-dir:{}", oci.display()),
        "usr/bin/*",
    ]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("-rwsr-xr-x"), "{}", stdout(&out));

    let out = tollgate(&[
        "image",
        "inspect",
        &format!("oci-dir:{}", oci.display()),
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["platform"], "linux/amd64");
    assert_eq!(v["config"]["user"], "app");
    assert_eq!(v["config"]["exposed_ports"][0], "8080/tcp");
    assert_eq!(v["layers"][1]["created_by"], "RUN cleanup");
    assert_eq!(
        v["layers"][0]["media_type"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    assert_eq!(v["setuid_setgid"][0], "/usr/bin/passwd");
    assert!(
        v["source"]["manifest_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let out = tollgate(&["image", "inspect", &da.display().to_string()]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("example/app:1.0") && text.contains("RUN cleanup"),
        "{text}"
    );
}

#[test]
fn image_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(&["image", "files", "oci-dir:/nonexistent/layout"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_has(&out, "/nonexistent/layout"), "{}", stderr(&out));
    let bad = dir.path().join("evil");
    ImageBuilder::new()
        .layer(Layer::new().raw(b"../../../tmp/tollgate-pwned", b"", b'0', 1, b"x"))
        .write_oci_dir(&bad, None)
        .unwrap();
    let out = tollgate(&["image", "files", &format!("oci-dir:{}", bad.display())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_has(&out, "escaping the image root"),
        "{}",
        stderr(&out)
    );
    assert!(!std::path::Path::new("/tmp/tollgate-pwned").exists());
    let out = tollgate(&["image", "inspect", "sbom:whatever.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_has(&out, "is an SBOM, not an image"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn registry_anonymous_pull_multiarch_cache_and_errors() {
    if !have_tool(REGISTRY_BIN) {
        return;
    }
    let reg = Registry::start(RegistryOptions::default());
    let img = app_image().build().unwrap();
    reg.put_image("team/app", "1.0", &img);
    let docker_flavour = app_image().docker_media_types(true).build().unwrap();
    reg.put_image("team/app", "docker", &docker_flavour);
    let mk = |arch: &str, v: Option<&str>| {
        ImageBuilder::new()
            .platform("linux", arch, v)
            .layer(Layer::new().file("arch", format!("{arch}{}", v.unwrap_or(""))))
            .build()
            .unwrap()
    };
    let idx = build_index(
        vec![
            mk("amd64", None),
            mk("arm", Some("v6")),
            mk("arm", Some("v7")),
            mk("arm64", Some("v8")),
        ],
        false,
    )
    .unwrap();
    reg.put_index("team/multi", "latest", &idx);

    let cache = tempfile::tempdir().unwrap();
    let cache_s = cache.path().display().to_string();
    let r = |s: &str| format!("{}/{s}", reg.addr);
    let common = ["--insecure-registry", &reg.addr, "--cache-dir", &cache_s];

    // Anonymous pull over plain HTTP.
    let mut args = vec![r("team/app:1.0")];
    args.extend(common.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = files_json(&a);
    assert_eq!(v["manifest_digest"], img.manifest_digest.as_str());
    assert!(paths(&v).contains(&"/app/keep-link".to_string()));
    assert!(!paths(&v).contains(&"/app/old.txt".to_string()));
    // Docker v2 media types, and by digest.
    let by_tag = files_json(&[
        &r("team/app:docker"),
        common[0],
        common[1],
        common[2],
        common[3],
    ]);
    assert_eq!(paths(&by_tag), paths(&v));
    let by_digest = format!(
        "registry:{}",
        r(&format!("team/app@{}", img.manifest_digest))
    );
    let out = tollgate(&[
        "image", "inspect", &by_digest, "-o", "json", common[0], common[1], common[2], common[3],
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let iv: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        iv["source"]["repo_digests"][0],
        format!("{}@{}", r("team/app"), img.manifest_digest)
    );

    // A rescan downloads no layer blob: every layer is served from the cache.
    let log_before = reg.log();
    let _ = files_json(&a);
    let log_after = reg.log();
    let new_lines = &log_after[log_before.len()..];
    for l in &img.layers {
        assert!(
            !new_lines.contains(&format!("blobs/{}", l.digest)),
            "layer {} fetched again:\n{new_lines}",
            l.digest
        );
    }
    assert!(
        log_before.contains(&format!("blobs/{}", img.layers[0].digest)),
        "first pull fetched the layer"
    );

    // Multi-arch: variants pick the right manifest; --all-platforms reports each.
    for (plat, want) in [
        ("linux/arm/v7", "armv7"),
        ("linux/arm/v6", "armv6"),
        ("linux/arm64", "arm64v8"),
        ("linux/amd64", "amd64"),
    ] {
        let out = tollgate(&[
            "image",
            "inspect",
            &r("team/multi"),
            "--platform",
            plat,
            "-o",
            "json",
            common[0],
            common[1],
            common[2],
            common[3],
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let p = v["platform"]
            .as_str()
            .unwrap()
            .replace('/', "")
            .replace("linux", "");
        assert_eq!(p, want, "{plat}");
        assert_eq!(v["source"]["index_digest"], idx.digest.as_str());
    }
    let out = tollgate(&[
        "image",
        "files",
        &r("team/multi"),
        "--all-platforms",
        "-o",
        "json",
        common[0],
        common[1],
        common[2],
        common[3],
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let plats: BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["platform"].as_str().unwrap())
        .collect();
    assert_eq!(
        plats,
        BTreeSet::from([
            "linux/amd64",
            "linux/arm/v6",
            "linux/arm/v7",
            "linux/arm64/v8"
        ])
    );
    let out = tollgate(&[
        "image",
        "files",
        &r("team/multi"),
        "--platform",
        "linux/s390x",
        common[0],
        common[1],
        common[2],
        common[3],
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_has(&out, "has no image for platform") && stderr_has(&out, "s390x"),
        "{}",
        stderr(&out)
    );

    // 404: unknown tag and unknown repository.
    for missing in ["team/app:nope", "team/none:1"] {
        let out = tollgate(&[
            "image",
            "inspect",
            &r(missing),
            common[0],
            common[1],
            common[2],
            common[3],
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr_has(&out, "was not found in registry"),
            "{}",
            stderr(&out)
        );
    }

    // A tampered layer blob in registry storage is refused, naming the blob.
    let tampered = ImageBuilder::new()
        .layer(Layer::new().file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"))
        .build()
        .unwrap();
    reg.put_image("team/tampered", "1", &tampered);
    let blob = reg.blob_path(&tampered.layers[0].digest);
    let mut data = std::fs::read(&blob).unwrap();
    let n = data.len();
    data[n / 2] ^= 0xff;
    std::fs::write(&blob, &data).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let out = tollgate(&[
        "image",
        "files",
        &r("team/tampered:1"),
        common[0],
        common[1],
        "--cache-dir",
        &fresh.path().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_has(&out, "digest mismatch") && stderr_has(&out, &tampered.layers[0].digest),
        "{}",
        stderr(&out)
    );
    // Nothing unverified was left in the cache.
    let hex = tampered.layers[0].digest.trim_start_matches("sha256:");
    assert!(!fresh.path().join("sha256").join(hex).exists());
}

#[test]
fn registry_htpasswd_over_tls_with_test_ca() {
    if !have_tool(REGISTRY_BIN) || !have_tool("/usr/bin/htpasswd") || !have_tool("/usr/bin/openssl")
    {
        return;
    }
    let reg = Registry::start(RegistryOptions {
        htpasswd: Some(("alice".into(), "s3cret-pass".into())),
        tls: true,
    });
    let img = app_image().build().unwrap();
    reg.put_image("private/app", "1", &img);
    let ca = reg.ca_cert.clone().unwrap().display().to_string();
    let cache = tempfile::tempdir().unwrap();
    let cache_s = cache.path().display().to_string();
    let image = format!("{}/private/app:1", reg.addr);

    // Without credentials: 401 with a clear message.
    let out = tollgate(&[
        "image",
        "files",
        &image,
        "--ca-cert",
        &ca,
        "--cache-dir",
        &cache_s,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_has(&out, "denied access"), "{}", stderr(&out));

    // Without the CA: a TLS failure, not a silent success.
    let out = tollgate_cmd(&[
        "image",
        "files",
        &image,
        "--username",
        "alice",
        "--cache-dir",
        &cache_s,
    ])
    .env("TOLLGATE_REGISTRY_PASSWORD", "s3cret-pass")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr_has(&out, "s3cret-pass"));
    assert!(stderr_has(&out, "--ca-cert"), "{}", stderr(&out));

    // Wrong password: 401, and the password never appears in the output.
    let out = tollgate_cmd(&[
        "image",
        "files",
        &image,
        "--ca-cert",
        &ca,
        "--username",
        "alice",
        "--cache-dir",
        &cache_s,
    ])
    .env("TOLLGATE_REGISTRY_PASSWORD", "wrong-pass")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_has(&out, "denied access"), "{}", stderr(&out));
    assert!(!stderr_has(&out, "wrong-pass"));

    // --password-stdin.
    let mut child = tollgate_cmd(&[
        "image",
        "files",
        &image,
        "--ca-cert",
        &ca,
        "--username",
        "alice",
        "--password-stdin",
        "--cache-dir",
        &cache_s,
        "-o",
        "json",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-pass\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(paths(&v).contains(&"/usr/bin/passwd".to_string()));

    // Docker config.json `auths` for this host (and only this host).
    let cfg = tempfile::tempdir().unwrap();
    let auth = {
        // base64("alice:s3cret-pass")
        "YWxpY2U6czNjcmV0LXBhc3M="
    };
    std::fs::write(
        cfg.path().join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}},"other.example:5000":{{"auth":"eDp5"}}}}}}"#,
            reg.addr
        ),
    )
    .unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let out = tollgate_cmd(&[
        "image",
        "inspect",
        &image,
        "--ca-cert",
        &ca,
        "--cache-dir",
        &fresh.path().display().to_string(),
        "-o",
        "json",
    ])
    .env("DOCKER_CONFIG", cfg.path())
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // A credential helper (`credHelpers`) and podman's `REGISTRY_AUTH_FILE`.
    let bin = tempfile::tempdir().unwrap();
    let helper = bin.path().join("docker-credential-tgtest");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret-pass\"}' \"$server\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let helper_cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        helper_cfg.path().join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"tgtest"}}}}"#, reg.addr),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let fresh = tempfile::tempdir().unwrap();
    let out = tollgate_cmd(&[
        "image",
        "files",
        &image,
        "--ca-cert",
        &ca,
        "--cache-dir",
        &fresh.path().display().to_string(),
    ])
    .env("DOCKER_CONFIG", helper_cfg.path())
    .env("PATH", &path)
    .output()
    .unwrap();
    assert!(out.status.success(), "credHelpers: {}", stderr(&out));
    let podman = cfg.path().join("auth.json");
    std::fs::write(
        &podman,
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr),
    )
    .unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let out = tollgate_cmd(&[
        "image",
        "files",
        &image,
        "--ca-cert",
        &ca,
        "--cache-dir",
        &fresh.path().display().to_string(),
    ])
    .env("REGISTRY_AUTH_FILE", &podman)
    .output()
    .unwrap();
    assert!(out.status.success(), "podman auth file: {}", stderr(&out));
}

#[test]
fn shared_testimages_match_expected() {
    let Some(dir) = testimages("debian-py-node") else {
        return;
    };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let want_suid: BTreeSet<(String, String)> = expected["setuid_setgid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["mode"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("0o")
                    .to_string(),
            )
        })
        .collect();
    let mut lists = Vec::new();
    for src in [
        format!("oci-dir:{}", dir.join("oci").display()),
        format!(
            "docker-archive:{}",
            dir.join("docker-archive.tar").display()
        ),
    ] {
        let v = files_json(&[&src]);
        let files = v["files"].as_array().unwrap();
        let suid: BTreeSet<(String, String)> = files
            .iter()
            .filter(|f| {
                f["kind"] == "regular"
                    && u32::from_str_radix(f["mode"].as_str().unwrap(), 8).unwrap() & 0o6000 != 0
            })
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["mode"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(suid, want_suid, "{src}");
        let p = paths(&v);
        assert!(
            !p.iter().any(|x| x.contains("PyJWT")
                || x.starts_with("/usr/local/lib/python3.11/site-packages/jwt")
                || x == "/usr/local/bin/pyjwt"),
            "{src}: PyJWT survived the whiteouts"
        );
        assert!(
            !p.contains(&"/app/.npmrc".to_string()),
            "{src}: .npmrc survived"
        );
        for pkg in expected["python"].as_array().unwrap() {
            assert!(
                p.contains(&pkg["path"].as_str().unwrap().to_string()),
                "{src}: missing {}",
                pkg["path"]
            );
        }
        for pkg in expected["npm"].as_array().unwrap() {
            assert!(
                p.contains(&format!("{}/package.json", pkg["path"].as_str().unwrap())),
                "{src}: missing {}",
                pkg["path"]
            );
        }
        lists.push(p);
    }
    assert_eq!(
        lists[0], lists[1],
        "oci-dir and docker-archive squash to the same tree"
    );
}
