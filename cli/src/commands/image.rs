//! `tollgate image inspect|files`: show an image's identity, config and layers, or its squashed
//! file list, as a table or JSON.
//!
//! The image-source flags ([`SourceArgs`]: platform, credentials, TLS, cache, caps) live here
//! so every command that reads an image can flatten them. Rendering only; loading is the
//! engine's. Progress bars are drawn only when stderr is a terminal.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tollgate::image::{
    ContentRequest, Credentials, FileEntry, FileKind, Image, LoadOptions, PathGlobs, Progress,
    ProgressEvent, Reference,
};

use crate::Outcome;
use crate::args::GlobalArgs;
use crate::render;

/// `tollgate image …`
#[derive(Debug, Subcommand)]
pub(crate) enum ImageCommand {
    /// Digest, platform, layers (size, created_by) and config summary.
    Inspect {
        #[command(flatten)]
        source: SourceArgs,
        /// Output format: `table` or `json`, optionally `=FILE`.
        #[arg(short, long, default_value = "table")]
        output: String,
    },
    /// The squashed file list: mode, size, owner and the layer that last wrote each path.
    Files {
        #[command(flatten)]
        source: SourceArgs,
        /// Only paths matching these globs (`/etc/*`, `usr/**/*.so`; `*` stays within one
        /// directory, `**` crosses directories; globs without a leading `/` are rooted).
        globs: Vec<String>,
        /// Output format: `table` or `json`, optionally `=FILE`.
        #[arg(short, long, default_value = "table")]
        output: String,
    },
}

/// Flags naming and fetching an image; flatten this into any command that reads one.
#[derive(Debug, Clone, Args)]
pub(crate) struct SourceArgs {
    /// The image: `registry:REF`, a bare reference (`alpine:3.20`, `localhost:5000/app@sha256:…`),
    /// `docker-archive:PATH[:repo:tag]`, `oci-archive:PATH`, `oci-dir:PATH[:ref]`, `dir:PATH`,
    /// or an existing path (detected by content).
    pub(crate) image: String,
    /// Platform to pick from a multi-platform image: `os/arch[/variant]` (default linux/amd64).
    #[arg(long, env = "TOLLGATE_PLATFORM")]
    pub(crate) platform: Option<String>,
    /// Read every platform of a multi-platform image and report each.
    #[arg(long, conflicts_with = "platform")]
    pub(crate) all_platforms: bool,
    /// Registry user name (for the image's registry only).
    #[arg(long, env = "TOLLGATE_REGISTRY_USERNAME")]
    pub(crate) username: Option<String>,
    /// Read the registry password from stdin.
    #[arg(long, requires = "username")]
    pub(crate) password_stdin: bool,
    /// Reach this registry (`host[:port]`) over plain HTTP; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub(crate) insecure_registries: Vec<String>,
    /// Trust this CA certificate (PEM or DER) for registry TLS; repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Layer cache directory (default `$XDG_CACHE_HOME/tollgate/blobs`).
    #[arg(long, env = "TOLLGATE_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Cap on decompressed bytes per image (protects against decompression bombs).
    #[arg(long, env = "TOLLGATE_MAX_IMAGE_BYTES", default_value_t = tollgate::image::DEFAULT_MAX_DECOMPRESSED_BYTES)]
    pub(crate) max_image_bytes: u64,
    /// Concurrent layer downloads.
    #[arg(long, default_value_t = 4)]
    pub(crate) max_parallel_downloads: usize,
}

impl SourceArgs {
    /// Validates the flags into the reference and engine options (reads stdin for
    /// `--password-stdin`).
    pub(crate) fn resolve(&self, global: &GlobalArgs) -> miette::Result<(Reference, LoadOptions)> {
        let reference = Reference::parse(&self.image)?;
        let platform = self
            .platform
            .as_deref()
            .map(tollgate::image::parse_platform)
            .transpose()?;
        let password = if self.password_stdin {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| miette::miette!("cannot read the password from stdin: {e}"))?;
            Some(s.trim_end_matches(['\n', '\r']).to_string())
        } else {
            // Env only, so the password never shows in the process list.
            std::env::var("TOLLGATE_REGISTRY_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty())
        };
        let credentials = match (&self.username, password) {
            (Some(u), Some(p)) => Some(Credentials {
                username: u.clone(),
                password: p,
            }),
            (Some(_), None) => {
                return Err(miette::miette!(
                    help = "pipe the password with `--password-stdin` or set `TOLLGATE_REGISTRY_PASSWORD`",
                    "`--username` needs a password"
                ));
            }
            _ => None,
        };
        let progress: Option<Arc<dyn Progress>> = if render::show_progress(global) {
            Some(Arc::new(Bars::new()))
        } else {
            None
        };
        Ok((
            reference,
            LoadOptions {
                platform,
                credentials,
                insecure_registries: self.insecure_registries.clone(),
                ca_certs: self.ca_certs.clone(),
                cache_dir: self.cache_dir.clone(),
                max_decompressed_bytes: self.max_image_bytes,
                max_parallel_downloads: self.max_parallel_downloads.max(1),
                progress,
                ..Default::default()
            },
        ))
    }

    /// Loads the image(s) the flags name.
    pub(crate) async fn load(
        &self,
        global: &GlobalArgs,
        request: &ContentRequest,
    ) -> miette::Result<Vec<Image>> {
        let (reference, opts) = self.resolve(global)?;
        let images = if self.all_platforms {
            tollgate::image::load_all_platforms(&reference, &opts, request).await?
        } else {
            vec![tollgate::image::load(&reference, &opts, request).await?]
        };
        if let Some(p) = &opts.progress {
            p.event(ProgressEvent::Finished);
        }
        Ok(images)
    }
}

/// Progress bars on stderr: downloaded bytes, then layers read.
#[derive(Debug)]
struct Bars {
    bar: ProgressBar,
}

impl Bars {
    fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes} {bar:30}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bars { bar }
    }
}

impl Progress for Bars {
    fn event(&self, event: ProgressEvent) {
        match event {
            ProgressEvent::DownloadStarted { total, .. } => {
                self.bar.set_message("pulling");
                self.bar.inc_length(total.unwrap_or(0));
            }
            ProgressEvent::DownloadProgress { bytes, .. } => self.bar.inc(bytes),
            ProgressEvent::DownloadFinished { .. } => {}
            ProgressEvent::LayerRead { index, total, .. } => {
                self.bar
                    .set_message(format!("read layer {}/{total}", index + 1));
            }
            ProgressEvent::Finished => self.bar.finish_and_clear(),
        }
    }
}

/// `FORMAT[=FILE]`.
fn parse_output(spec: &str) -> miette::Result<(bool, Option<PathBuf>)> {
    let (format, file) = match spec.split_once('=') {
        Some((f, p)) => (f, Some(PathBuf::from(p))),
        None => (spec, None),
    };
    match format {
        "json" => Ok((true, file)),
        "table" => Ok((false, file)),
        other => Err(miette::miette!(
            help = "use `-o table` or `-o json` (optionally `=FILE`)",
            "unknown output format `{other}`"
        )),
    }
}

fn write_out(file: Option<PathBuf>, text: &str) -> miette::Result<()> {
    match file {
        Some(p) => std::fs::write(&p, text)
            .map_err(|e| miette::miette!("cannot write `{}`: {e}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                // `tollgate image files … | head` is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(miette::miette!("cannot write to stdout: {e}")),
                Ok(()) => Ok(()),
            }
        }
    }
}

pub(crate) async fn run(cmd: ImageCommand, global: &GlobalArgs) -> miette::Result<Outcome> {
    match cmd {
        ImageCommand::Inspect { source, output } => {
            let (json, file) = parse_output(&output)?;
            let images = source.load(global, &ContentRequest::default()).await?;
            let text = if json {
                let docs: Vec<Value> = images.iter().map(inspect_json).collect();
                let v = if source.all_platforms {
                    Value::Array(docs)
                } else {
                    docs.into_iter().next().unwrap_or(Value::Null)
                };
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&v).map_err(|e| miette::miette!("{e}"))?
                )
            } else {
                images
                    .iter()
                    .map(inspect_table)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            write_out(file, &text)?;
        }
        ImageCommand::Files {
            source,
            globs,
            output,
        } => {
            let (json, file) = parse_output(&output)?;
            let matcher = PathGlobs::new(&globs)?;
            let images = source.load(global, &ContentRequest::default()).await?;
            let text = if json {
                let docs: Vec<Value> = images.iter().map(|i| files_json(i, &matcher)).collect();
                let v = if source.all_platforms {
                    Value::Array(docs)
                } else {
                    docs.into_iter().next().unwrap_or(Value::Null)
                };
                format!(
                    "{}\n",
                    serde_json::to_string(&v).map_err(|e| miette::miette!("{e}"))?
                )
            } else {
                let mut s = String::new();
                for img in &images {
                    if source.all_platforms {
                        s.push_str(&format!("# {}\n", img.config.platform));
                    }
                    files_table(img, &matcher, &mut s);
                }
                s
            };
            write_out(file, &text)?;
        }
    }
    Ok(Outcome::Pass)
}

fn inspect_json(img: &Image) -> Value {
    let files = img.files.entries.len();
    let suid: Vec<&str> = img
        .files
        .entries
        .values()
        .filter(|e| e.is_suid_or_sgid())
        .map(|e| e.path.as_str())
        .collect();
    json!({
        "source": img.source,
        "image_id": img.config.digest,
        "platform": img.config.platform.to_string(),
        "created": img.config.created,
        "layers": img.layers,
        "config": {
            "env": img.config.env,
            "user": img.config.user,
            "exposed_ports": img.config.exposed_ports,
            "entrypoint": img.config.entrypoint,
            "cmd": img.config.cmd,
            "working_dir": img.config.working_dir,
            "labels": img.config.labels,
            "volumes": img.config.volumes,
        },
        "history": img.config.history,
        "files": files,
        "setuid_setgid": suid,
        "size": img.layers.iter().map(|l| l.size).sum::<u64>(),
        "uncompressed_size": img.layers.iter().map(|l| l.uncompressed_size).sum::<u64>(),
    })
}

fn human(n: u64) -> String {
    const U: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < U.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

fn inspect_table(img: &Image) -> String {
    let mut s = String::new();
    let src = &img.source;
    let line = |s: &mut String, k: &str, v: &str| {
        if !v.is_empty() {
            s.push_str(&format!("{k:<14}{v}\n"));
        }
    };
    line(&mut s, "Source", &format!("{} ({})", src.input, src.scheme));
    line(&mut s, "Reference", src.reference.as_deref().unwrap_or(""));
    line(&mut s, "Tags", &src.tags.join(", "));
    line(
        &mut s,
        "Digest",
        src.manifest_digest.as_deref().unwrap_or(""),
    );
    line(
        &mut s,
        "Index digest",
        src.index_digest.as_deref().unwrap_or(""),
    );
    line(&mut s, "Repo digests", &src.repo_digests.join(", "));
    line(&mut s, "Image ID", &img.config.digest);
    line(&mut s, "Platform", &img.config.platform.to_string());
    line(
        &mut s,
        "Created",
        img.config.created.as_deref().unwrap_or(""),
    );
    let c = &img.config;
    line(
        &mut s,
        "User",
        if c.user.is_empty() { "(root)" } else { &c.user },
    );
    line(&mut s, "Entrypoint", &c.entrypoint.join(" "));
    line(&mut s, "Cmd", &c.cmd.join(" "));
    line(&mut s, "Workdir", &c.working_dir);
    line(&mut s, "Ports", &c.exposed_ports.join(", "));
    for (i, e) in c.env.iter().enumerate() {
        line(&mut s, if i == 0 { "Env" } else { "" }, e);
    }
    for (k, v) in &c.labels {
        line(&mut s, "Label", &format!("{k}={v}"));
    }
    line(&mut s, "Files", &img.files.entries.len().to_string());
    s.push_str(&format!(
        "\n{:<4} {:<19} {:>10} {:>10}  CREATED BY\n",
        "#", "DIGEST", "SIZE", "UNPACKED"
    ));
    for l in &img.layers {
        let short: String = l
            .digest
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect();
        let by: String = l
            .created_by
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(80)
            .collect();
        s.push_str(&format!(
            "{:<4} sha256:{:<12} {:>10} {:>10}  {}\n",
            l.index,
            short,
            human(l.size),
            human(l.uncompressed_size),
            by
        ));
    }
    s
}

fn mode_string(e: &FileEntry) -> String {
    let t = match e.kind {
        FileKind::Regular | FileKind::Hardlink => '-',
        FileKind::Directory => 'd',
        FileKind::Symlink => 'l',
        FileKind::CharDevice => 'c',
        FileKind::BlockDevice => 'b',
        FileKind::Fifo => 'p',
    };
    let m = e.mode;
    let bit = |b: u32, c: char| if m & b != 0 { c } else { '-' };
    let special = |x: bool, s: bool, lower: char, upper: char| match (s, x) {
        (true, true) => lower,
        (true, false) => upper,
        (false, true) => 'x',
        (false, false) => '-',
    };
    format!(
        "{t}{}{}{}{}{}{}{}{}{}",
        bit(0o400, 'r'),
        bit(0o200, 'w'),
        special(m & 0o100 != 0, m & 0o4000 != 0, 's', 'S'),
        bit(0o040, 'r'),
        bit(0o020, 'w'),
        special(m & 0o010 != 0, m & 0o2000 != 0, 's', 'S'),
        bit(0o004, 'r'),
        bit(0o002, 'w'),
        special(m & 0o001 != 0, m & 0o1000 != 0, 't', 'T'),
    )
}

fn files_json(img: &Image, matcher: &PathGlobs) -> Value {
    let files: Vec<Value> = img
        .files
        .entries
        .values()
        .filter(|e| matcher.is_match(&e.path))
        .map(|e| {
            let mut v = json!({
                "path": e.path,
                "kind": e.kind,
                "mode": format!("{:04o}", e.mode),
                "permissions": mode_string(e),
                "uid": e.uid,
                "gid": e.gid,
                "size": e.size,
                "layer": e.layer,
                "layer_digest": img.layers.get(e.layer).map(|l| l.digest.as_str()).unwrap_or(""),
            });
            if let (Some(t), Some(o)) = (&e.link_target, v.as_object_mut()) {
                o.insert("link_target".into(), json!(t));
            }
            v
        })
        .collect();
    json!({
        "platform": img.config.platform.to_string(),
        "manifest_digest": img.source.manifest_digest,
        "files": files,
    })
}

fn files_table(img: &Image, matcher: &PathGlobs, s: &mut String) {
    use std::fmt::Write as _;
    for e in img
        .files
        .entries
        .values()
        .filter(|e| matcher.is_match(&e.path))
    {
        let _ = write!(
            s,
            "{} {:>5}:{:<5} {:>10} {:>3}  {}",
            mode_string(e),
            e.uid,
            e.gid,
            e.size,
            e.layer,
            e.path
        );
        match (&e.kind, &e.link_target) {
            (FileKind::Symlink, Some(t)) => {
                let _ = write!(s, " -> {t}");
            }
            (FileKind::Hardlink, Some(t)) => {
                let _ = write!(s, " link to {t}");
            }
            _ => {}
        }
        s.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_strings() {
        let e = |kind, mode| FileEntry {
            kind,
            mode,
            ..Default::default()
        };
        assert_eq!(mode_string(&e(FileKind::Regular, 0o4755)), "-rwsr-xr-x");
        assert_eq!(mode_string(&e(FileKind::Regular, 0o2644)), "-rw-r-Sr--");
        assert_eq!(mode_string(&e(FileKind::Directory, 0o1777)), "drwxrwxrwt");
    }
}
