//! The definition of the README's example image (`examples/app-image.tar`), shared by the
//! `make_example_image` example (which writes it) and the test that checks the committed copy
//! is current. All secrets in it are fake.

use tollgate::image::fixture::{Compression, ImageBuilder, Layer};

/// The tag the archive carries.
pub(crate) const TAG: &str = "tollgate-example/app:1.0";

const OS_RELEASE: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

/// (package, source line or "", version, arch, description)
const DEBS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "base-files",
        "",
        "12.4+deb12u5",
        "amd64",
        "Debian base system miscellaneous files",
    ),
    (
        "bash",
        "bash (5.2.15-2)",
        "5.2.15-2+b2",
        "amd64",
        "GNU Bourne Again SHell",
    ),
    (
        "libc6",
        "glibc",
        "2.36-9+deb12u3",
        "amd64",
        "GNU C Library: Shared libraries",
    ),
    (
        "libssl3",
        "openssl",
        "3.0.11-1~deb12u2",
        "amd64",
        "Secure Sockets Layer toolkit - shared libraries",
    ),
    (
        "openssl",
        "",
        "3.0.11-1~deb12u2",
        "amd64",
        "Secure Sockets Layer toolkit - cryptographic utility",
    ),
    (
        "zlib1g",
        "zlib",
        "1:1.2.13.dfsg-1",
        "amd64",
        "compression library - runtime",
    ),
];

fn dpkg_status() -> String {
    let mut out = String::new();
    for (name, source, version, arch, desc) in DEBS {
        out.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: libs\n\
             Installed-Size: 1024\nMaintainer: Debian Developers <debian-devel@lists.debian.org>\n\
             Architecture: {arch}\n"
        ));
        if !source.is_empty() {
            out.push_str(&format!("Source: {source}\n"));
        }
        out.push_str(&format!("Version: {version}\nDescription: {desc}\n\n"));
    }
    out
}

fn copyright(license: &str) -> String {
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
         Files: *\nCopyright: the upstream authors\nLicense: {license}\n"
    )
}

fn dist_info(name: &str, version: &str, license: &str) -> (String, String) {
    (
        format!("usr/local/lib/python3.11/site-packages/{name}-{version}.dist-info/METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name}\n\
             License: {license}\n\n"
        ),
    )
}

fn npm_package(name: &str, version: &str, license: &str) -> (String, String) {
    (
        format!("app/node_modules/{name}/package.json"),
        format!(
            "{{\n  \"name\": \"{name}\",\n  \"version\": \"{version}\",\n  \"license\": \"{license}\"\n}}\n"
        ),
    )
}

/// The image definition.
pub(crate) fn builder() -> ImageBuilder {
    let mut base = Layer::new()
        .dir("etc")
        .file("etc/os-release", OS_RELEASE)
        .file("etc/debian_version", "12.4\n")
        .file(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
             nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        )
        .file("etc/group", "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n")
        .file_with(
            "etc/shadow",
            "root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n",
            0o640,
            0,
            42,
        )
        .file("var/lib/dpkg/status", dpkg_status())
        .file_with("usr/bin/bash", "#!fake bash binary\n", 0o755, 0, 0)
        .file_with("usr/bin/passwd", "#!fake passwd binary\n", 0o4755, 0, 0)
        .symlink("bin", "usr/bin");
    for (name, license) in [
        ("bash", "GPL-3+"),
        ("libc6", "LGPL-2.1+"),
        ("libssl3", "Apache-2.0"),
        ("openssl", "Apache-2.0"),
        ("zlib1g", "Zlib"),
        ("base-files", "GPL-2+"),
    ] {
        base = base.file(
            &format!("usr/share/doc/{name}/copyright"),
            copyright(license),
        );
    }

    let mut python = Layer::new();
    for (name, version, license) in [
        ("PyYAML", "5.3", "MIT"),
        ("requests", "2.19.1", "Apache 2.0"),
        ("urllib3", "1.24.1", "MIT"),
        ("Jinja2", "2.10", "BSD"),
    ] {
        let (path, body) = dist_info(name, version, license);
        python = python.file(&path, body);
    }

    let mut app = Layer::new()
        .file(
            "app/package.json",
            "{\n  \"name\": \"example-app\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {\n    \
             \"lodash\": \"4.17.15\",\n    \"minimist\": \"1.2.0\"\n  }\n}\n",
        )
        .file("app/server.py", "import yaml, requests\nprint('hello')\n")
        .file(
            "app/.env",
            "DATABASE_URL=postgres://app@db/app\nAWS_ACCESS_KEY_ID=AKIAQ4TOLLGATEFAKE7X\n\
             AWS_SECRET_ACCESS_KEY=Tg7vFakeK3yTollgateExample0NotReal0Xy9Zq\n",
        );
    for (name, version, license) in [("lodash", "4.17.15", "MIT"), ("minimist", "1.2.0", "MIT")] {
        let (path, body) = npm_package(name, version, license);
        app = app.file(&path, body);
    }

    ImageBuilder::new()
        .compression(Compression::Gzip)
        .docker_media_types(true)
        .layer_created_by(base, "ADD rootfs.tar.gz / # debian:bookworm")
        .layer_created_by(
            python,
            "RUN pip install PyYAML==5.3 requests==2.19.1 urllib3==1.24.1 Jinja2==2.10",
        )
        .layer_created_by(app, "COPY app/ /app/")
        .env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("PYTHONUNBUFFERED=1")
        .port("22/tcp")
        .port("8080/tcp")
        .working_dir("/app")
        .cmd(&["python3", "/app/server.py"])
        .label("org.opencontainers.image.title", "tollgate example app")
}
