//! A real Debian `docker-registry` (distribution) on 127.0.0.1 for tests, with images written
//! straight into its filesystem storage (no push client needed), optional htpasswd auth, and
//! optional TLS with a CA generated in the test by the `openssl` CLI.
//!
//! The process is killed and its temp dir removed when [`Registry`] drops. Storage layout is
//! distribution v2's: `docker/registry/v2/{blobs,repositories}`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tollgate::image::fixture::{BuiltImage, BuiltIndex};

/// The registry binary from Debian's `docker-registry` package.
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// How to start a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `(user, password)` for htpasswd auth.
    pub htpasswd: Option<(String, String)>,
    /// Serve HTTPS with a certificate from a test CA.
    pub tls: bool,
}

/// A running registry.
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The CA certificate (PEM) when TLS is on.
    pub ca_cert: Option<PathBuf>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_tls(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = dir.join("ca.key");
    let ca = dir.join("ca.crt");
    let key = dir.join("server.key");
    let csr = dir.join("server.csr");
    let crt = dir.join("server.crt");
    let ext = dir.join("san.ext");
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write ext");
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=tollgate test CA",
        ])
        .arg("-keyout")
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-out")
        .arg(&crt)
        .arg("-extfile")
        .arg(&ext));
    (ca, crt, key)
}

impl Registry {
    /// Starts a registry; panics with the registry's log if it does not come up.
    pub fn start(opts: RegistryOptions) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).expect("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {addr}\n  secret: tollgate-test-secret\n",
            storage.display()
        );
        let mut ca_cert = None;
        if opts.tls {
            let (ca, crt, key) = make_tls(dir.path());
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                crt.display(),
                key.display()
            ));
            ca_cert = Some(ca);
        }
        if let Some((user, pass)) = &opts.htpasswd {
            let file = dir.path().join("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .expect("htpasswd (apache2-utils)");
            assert!(out.status.success());
            std::fs::write(&file, &out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: tollgate-test\n    path: {}\n",
                file.display()
            ));
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).expect("config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let reg = Registry {
            child,
            dir,
            addr,
            ca_cert,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&reg.addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "registry did not start:\n{}",
                reg.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        reg
    }

    /// The registry's log so far (access lines included).
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.path().join("registry.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    fn v2(&self) -> PathBuf {
        self.dir.path().join("storage/docker/registry/v2")
    }

    /// The path of a blob's data file in storage (to tamper with it).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.v2()
            .join("blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    fn put_blob(&self, repo: &str, digest: &str, data: &[u8], layer_link: bool) {
        let p = self.blob_path(digest);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, data).expect("blob");
        let hex = digest.trim_start_matches("sha256:");
        let kind = if layer_link {
            "_layers"
        } else {
            "_manifests/revisions"
        };
        let link = self
            .v2()
            .join("repositories")
            .join(repo)
            .join(kind)
            .join("sha256")
            .join(hex)
            .join("link");
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        let mut f = std::fs::File::create(link).expect("link");
        f.write_all(digest.as_bytes()).expect("link");
    }

    fn tag(&self, repo: &str, tag: &str, digest: &str) {
        let hex = digest.trim_start_matches("sha256:");
        let base = self
            .v2()
            .join("repositories")
            .join(repo)
            .join("_manifests/tags")
            .join(tag);
        for link in [
            base.join("current/link"),
            base.join("index/sha256").join(hex).join("link"),
        ] {
            std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
            std::fs::write(link, digest).expect("tag link");
        }
    }

    fn put_manifest_blobs(&self, repo: &str, img: &BuiltImage) {
        for (d, data) in img.blobs() {
            self.put_blob(repo, &d, data, true);
        }
        self.put_blob(repo, &img.manifest_digest, &img.manifest, false);
    }

    /// Stores an image as `repo:tag`.
    pub fn put_image(&self, repo: &str, tag: &str, img: &BuiltImage) {
        self.put_manifest_blobs(repo, img);
        self.tag(repo, tag, &img.manifest_digest);
    }

    /// Stores a blob given as a file, hard-linked when the file system allows (the shared test
    /// images are hundreds of MiB), else copied.
    fn put_blob_file(&self, repo: &str, digest: &str, file: &Path) {
        let p = self.blob_path(digest);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        if std::fs::hard_link(file, &p).is_err() {
            std::fs::copy(file, &p).expect("copy blob");
        }
        let hex = digest.trim_start_matches("sha256:");
        let link = self
            .v2()
            .join("repositories")
            .join(repo)
            .join("_layers/sha256")
            .join(hex)
            .join("link");
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        std::fs::write(link, digest).expect("link");
    }

    /// Stores the first image of an OCI layout (`index.json` + `blobs/`) as `repo:tag`, and,
    /// when `docker_tag` is given, the same blobs under a Docker v2 schema 2 manifest as
    /// `repo:docker_tag` (what `skopeo copy docker-archive:` would push). Returns the OCI
    /// manifest digest and the Docker manifest digest (if made).
    pub fn put_oci_layout(
        &self,
        repo: &str,
        tag: &str,
        docker_tag: Option<&str>,
        layout: &Path,
    ) -> (String, Option<String>) {
        let blob = |d: &str| {
            layout
                .join("blobs/sha256")
                .join(d.trim_start_matches("sha256:"))
        };
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
                .expect("index.json is JSON");
        let mdigest = index["manifests"][0]["digest"]
            .as_str()
            .expect("index.json names a manifest")
            .to_string();
        let mbytes = std::fs::read(blob(&mdigest)).expect("manifest blob");
        let manifest: serde_json::Value = serde_json::from_slice(&mbytes).expect("manifest JSON");
        let config = manifest["config"]["digest"]
            .as_str()
            .expect("config")
            .to_string();
        self.put_blob_file(repo, &config, &blob(&config));
        for l in manifest["layers"].as_array().expect("layers") {
            let d = l["digest"].as_str().expect("layer digest");
            self.put_blob_file(repo, d, &blob(d));
        }
        self.put_blob(repo, &mdigest, &mbytes, false);
        self.tag(repo, tag, &mdigest);
        let docker = docker_tag.map(|dtag| {
            let mut m = manifest.clone();
            m["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json".into();
            m["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json".into();
            for l in m["layers"].as_array_mut().expect("layers") {
                let gz = l["mediaType"].as_str().unwrap_or("").ends_with("+gzip");
                l["mediaType"] = if gz {
                    "application/vnd.docker.image.rootfs.diff.tar.gzip"
                } else {
                    "application/vnd.docker.image.rootfs.diff.tar"
                }
                .into();
            }
            if let Some(o) = m.as_object_mut() {
                o.remove("annotations");
            }
            let bytes = serde_json::to_vec(&m).expect("manifest");
            let digest = tollgate::image::fixture::sha256_digest(&bytes);
            self.put_blob(repo, &digest, &bytes, false);
            self.tag(repo, dtag, &digest);
            digest
        });
        (mdigest, docker)
    }

    /// Stores a multi-platform index (and its images) as `repo:tag`.
    pub fn put_index(&self, repo: &str, tag: &str, idx: &BuiltIndex) {
        for img in &idx.images {
            self.put_manifest_blobs(repo, img);
        }
        self.put_blob(repo, &idx.digest, &idx.index, false);
        self.tag(repo, tag, &idx.digest);
    }
}
