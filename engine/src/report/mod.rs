//! [`Analysis`] → report bytes, one adapter per output format, selected with repeatable
//! `-o FORMAT[=FILE]`.
//!
//! * [`OutputSpec::parse`] reads one `-o` value: `FORMAT` or `FORMAT=-` (stdout),
//!   `FORMAT=FILE`, and for user templates `template:TEMPLATE[=FILE]`.
//! * [`write_all`] renders and writes every requested report, carrying on past failures, and
//!   returns every failure at once ([`ReportErrors`]) — so CI keeps the reports that could be
//!   written, and the exit code is decided only afterwards.
//! * [`gate::decide`] is the one place the pass/fail decision is computed.
//! * [`ADAPTERS`] is the table of formats: adding one is one file plus one row here.
//!
//! Adapters read only the final [`Analysis`] (plus [`ReportOptions`]); they never reach back
//! into earlier stages and never touch the network. Apart from `write_all` writing the reports
//! the user asked for to files or stdout, nothing here prints; warnings (SARIF truncation) go
//! through `tracing`.

mod annotations;
pub mod cyclonedx;
mod dockerfile;
mod error;
mod facts;
pub mod gate;
mod gitlab;
mod json;
mod junit;
mod markdown;
mod remediation;
mod sarif;
pub mod spdx;
mod table;
mod template;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use annotations::{Annotation, annotations};
pub use error::{ReportError, ReportErrors};
pub use facts::{ImageIdentity, SeverityCounts};
pub use gate::GateDecision;
pub use markdown::{COMMENT_LIMIT as MARKDOWN_COMMENT_LIMIT, MARKER as MARKDOWN_MARKER};
pub use sarif::{GITHUB_LIMITS, SarifLimits};

use crate::analysis::Analysis;
use crate::types::Severity;

/// Settings that change how reports render (not which reports are written).
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Colour for reports written to stdout (the cli sets it when stdout is a terminal and
    /// `NO_COLOR` is unset). Files never get colour.
    pub color: bool,
    /// The Dockerfile the image was built from, as a repository-relative path: SARIF results
    /// point at its lines instead of in-image paths.
    pub dockerfile: Option<PathBuf>,
    /// `--fail-on`: matches at or above this severity fail the gate (and get a JUnit suite).
    pub fail_on: Option<Severity>,
    /// `--only-fixed`: only matches with a known fix count toward `fail_on`.
    pub only_fixed: bool,
    /// `--fail-on-warn`: a policy WARN fails the gate (and is a JUnit failure).
    pub fail_on_warn: bool,
    /// `--show-suppressed`: list suppressed matches (marked) in table, markdown and SARIF.
    pub show_suppressed: bool,
    /// SARIF `automationDetails.id` category override (default `tollgate/<repo>/<platform>`).
    pub sarif_category: Option<String>,
}

impl ReportOptions {
    /// The gate decision these options imply for `analysis`.
    pub fn decide(&self, analysis: &Analysis) -> GateDecision {
        gate::decide(analysis, self.fail_on, self.only_fixed, self.fail_on_warn)
    }
}

/// What an adapter gets besides the analysis.
#[derive(Debug, Clone, Copy)]
pub struct RenderCx<'a> {
    /// The options.
    pub options: &'a ReportOptions,
    /// Colour for this output (true only for stdout with `options.color`).
    pub color: bool,
    /// The template file, for the template adapter.
    pub template: Option<&'a Path>,
    /// The format version asked for with `FORMAT@VERSION` (one of [`Adapter::versions`]),
    /// `None` for the adapter's default.
    pub version: Option<&'a str>,
}

/// One output format. Implementers are unit structs listed in [`ADAPTERS`].
pub trait Adapter: Sync {
    /// The format id used with `-o` (kebab-case).
    fn id(&self) -> &'static str;
    /// Other accepted names.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// One line for `--help`.
    fn description(&self) -> &'static str;
    /// Versions accepted as `FORMAT@VERSION`, default first; empty when the format has one
    /// version only.
    fn versions(&self) -> &'static [&'static str] {
        &[]
    }
    /// True when the format needs a template file (`template:TEMPLATE`).
    fn needs_template(&self) -> bool {
        false
    }
    /// Renders the report into `out`.
    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError>;
}

/// Every output format.
pub static ADAPTERS: &[&dyn Adapter] = &[
    &table::Table,
    &json::Json,
    &markdown::Markdown,
    &template::Template,
    &sarif::Sarif,
    &gitlab::Gitlab,
    &junit::Junit,
    &json::ValueAdapter {
        id: "cyclonedx-json",
        aliases: &["cyclonedx", "cdx-json"],
        description: "CycloneDX JSON SBOM, spec 1.6 (`cyclonedx-json@1.5` for GitLab `artifacts:reports:cyclonedx`)",
        versions: cyclonedx::SPEC_VERSIONS,
        render: cyclonedx::to_json_spec,
    },
    &json::ValueAdapter {
        id: "spdx-json",
        aliases: &["spdx"],
        description: "SPDX 2.3 JSON SBOM",
        versions: &[],
        render: json::spdx_json,
    },
];

/// Looks up an adapter by id or alias (case-insensitive).
pub fn adapter(name: &str) -> Option<&'static dyn Adapter> {
    let name = name.to_ascii_lowercase();
    ADAPTERS
        .iter()
        .copied()
        .find(|a| a.id() == name || a.aliases().contains(&name.as_str()))
}

/// `(id, description)` of every format, for help text.
pub fn formats() -> Vec<(&'static str, &'static str)> {
    ADAPTERS.iter().map(|a| (a.id(), a.description())).collect()
}

/// Where one report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file (its directory is created when missing).
    File(PathBuf),
}

/// One parsed `-o` value.
#[derive(Clone)]
pub struct OutputSpec {
    adapter: &'static dyn Adapter,
    template: Option<PathBuf>,
    version: Option<String>,
    destination: Destination,
    raw: String,
}

impl std::fmt::Debug for OutputSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputSpec")
            .field("format", &self.adapter.id())
            .field("template", &self.template)
            .field("version", &self.version)
            .field("destination", &self.destination)
            .finish()
    }
}

impl PartialEq for OutputSpec {
    fn eq(&self, other: &Self) -> bool {
        self.adapter.id() == other.adapter.id()
            && self.template == other.template
            && self.version == other.version
            && self.destination == other.destination
    }
}

impl OutputSpec {
    /// Parses `FORMAT[@VERSION]`, `FORMAT[@VERSION]=-`, `FORMAT[@VERSION]=FILE` or
    /// `template:TEMPLATE[=FILE]`.
    pub fn parse(spec: &str) -> Result<OutputSpec, ReportError> {
        let raw = spec.to_string();
        let bad = |reason: &str| ReportError::BadSpec {
            spec: raw.clone(),
            reason: reason.to_string(),
        };
        let trimmed = spec.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        let (head, file) = match trimmed.split_once('=') {
            Some((h, f)) => (h.trim(), Some(f.trim())),
            None => (trimmed, None),
        };
        let (format, template) = match head.split_once(':') {
            Some((f, t)) => (f.trim(), Some(t.trim())),
            None => (head, None),
        };
        let (format, version) = match format.split_once('@') {
            Some((f, v)) => (f.trim(), Some(v.trim())),
            None => (format, None),
        };
        if format.is_empty() {
            return Err(bad("the format is missing before `=`"));
        }
        let Some(adapter) = adapter(format) else {
            return Err(ReportError::UnknownFormat {
                spec: raw,
                format: format.to_string(),
                known: ADAPTERS
                    .iter()
                    .map(|a| a.id())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let template = match (adapter.needs_template(), template) {
            (true, Some(t)) if !t.is_empty() => Some(PathBuf::from(t)),
            (true, _) => {
                return Err(bad(
                    "the template format needs its template file: `-o template:TEMPLATE[=FILE]`",
                ));
            }
            (false, Some(_)) => {
                return Err(bad(&format!(
                    "only `template` takes a `:TEMPLATE` part, not `{}`",
                    adapter.id()
                )));
            }
            (false, None) => None,
        };
        let version = match version {
            None => None,
            Some(v) if adapter.versions().contains(&v) => Some(v.to_string()),
            Some(v) if adapter.versions().is_empty() => {
                return Err(bad(&format!(
                    "`{}` has one version only; drop `@{v}`",
                    adapter.id()
                )));
            }
            Some(v) => {
                return Err(bad(&format!(
                    "`{}` has no version `{v}`; use one of {}",
                    adapter.id(),
                    adapter.versions().join(", ")
                )));
            }
        };
        let destination = match file {
            None | Some("-") => Destination::Stdout,
            Some("") => return Err(bad("the file name after `=` is empty")),
            Some(f) => Destination::File(PathBuf::from(f)),
        };
        Ok(OutputSpec {
            adapter,
            template,
            version,
            destination,
            raw,
        })
    }

    /// A spec for `adapter_id` to `destination` (the default `table` to stdout, for example).
    pub fn new(adapter_id: &str, destination: Destination) -> Result<OutputSpec, ReportError> {
        let mut spec = OutputSpec::parse(adapter_id)?;
        spec.destination = destination;
        Ok(spec)
    }

    /// The format id.
    pub fn format(&self) -> &'static str {
        self.adapter.id()
    }

    /// Where it goes.
    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// The version asked for with `FORMAT@VERSION`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The template file, for `template:` specs.
    pub fn template(&self) -> Option<&Path> {
        self.template.as_deref()
    }

    /// The `-o` value as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Renders this report into memory.
    pub fn render(
        &self,
        analysis: &Analysis,
        opts: &ReportOptions,
        color: bool,
    ) -> Result<Vec<u8>, ReportError> {
        let cx = RenderCx {
            options: opts,
            color,
            template: self.template.as_deref(),
            version: self.version.as_deref(),
        };
        let mut buf = Vec::new();
        self.adapter.write(analysis, &cx, &mut buf)?;
        Ok(buf)
    }
}

/// Renders and writes every report in `specs`: files are written, `-`/absent destinations go to
/// stdout. Every report that can be written is written even when another fails; all failures
/// are returned together.
pub fn write_all(
    analysis: &Analysis,
    specs: &[OutputSpec],
    opts: &ReportOptions,
) -> Result<(), ReportErrors> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    write_all_to(analysis, specs, opts, &mut lock)
}

/// [`write_all`] with an explicit stdout sink (tests, or callers that capture stdout).
pub fn write_all_to(
    analysis: &Analysis,
    specs: &[OutputSpec],
    opts: &ReportOptions,
    stdout: &mut dyn Write,
) -> Result<(), ReportErrors> {
    let mut errors = Vec::new();
    let mut seen_files = BTreeSet::new();
    for spec in specs {
        let format = spec.format();
        match &spec.destination {
            Destination::Stdout => {
                let bytes = match spec.render(analysis, opts, opts.color) {
                    Ok(b) => b,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                if let Err(source) = stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
                    errors.push(ReportError::Stdout { format, source });
                }
            }
            Destination::File(path) => {
                if !seen_files.insert(path.clone()) {
                    errors.push(ReportError::DuplicateOutput { path: path.clone() });
                    continue;
                }
                let bytes = match spec.render(analysis, opts, false) {
                    Ok(b) => b,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                if let Err(source) = write_file(path, &bytes) {
                    errors.push(ReportError::Write {
                        format,
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ReportErrors { errors })
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a reader never
/// sees a half-written report.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tollgate-{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod fixture_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_specs() {
        let s = OutputSpec::parse("sarif=out/x.sarif").unwrap();
        assert_eq!(s.format(), "sarif");
        assert_eq!(
            s.destination(),
            &Destination::File(PathBuf::from("out/x.sarif"))
        );
        let s = OutputSpec::parse("json").unwrap();
        assert_eq!(s.destination(), &Destination::Stdout);
        let s = OutputSpec::parse("JSON=-").unwrap();
        assert_eq!(s.format(), "json");
        assert_eq!(s.destination(), &Destination::Stdout);
        let s = OutputSpec::parse("template:./t.j2=out.txt").unwrap();
        assert_eq!(s.template(), Some(Path::new("./t.j2")));
        assert_eq!(s.destination(), &Destination::File("out.txt".into()));
        let s = OutputSpec::parse("gitlab-container-scanning=gl.json").unwrap();
        assert_eq!(s.format(), "gitlab");
    }

    #[test]
    fn parse_rejects_bad_specs() {
        assert!(matches!(
            OutputSpec::parse("xml=out"),
            Err(ReportError::UnknownFormat { .. })
        ));
        assert!(matches!(
            OutputSpec::parse(""),
            Err(ReportError::BadSpec { .. })
        ));
        assert!(matches!(
            OutputSpec::parse("=file"),
            Err(ReportError::BadSpec { .. })
        ));
        assert!(matches!(
            OutputSpec::parse("template=t.j2"),
            Err(ReportError::BadSpec { .. })
        ));
        assert!(matches!(
            OutputSpec::parse("json:x=y"),
            Err(ReportError::BadSpec { .. })
        ));
        assert!(matches!(
            OutputSpec::parse("json="),
            Err(ReportError::BadSpec { .. })
        ));
    }

    #[test]
    fn adapter_ids_are_unique_kebab_case() {
        let mut seen = BTreeSet::new();
        for a in ADAPTERS {
            for name in std::iter::once(a.id()).chain(a.aliases().iter().copied()) {
                assert!(seen.insert(name), "duplicate adapter name {name}");
                assert!(
                    name.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                    "{name} is not kebab-case"
                );
            }
        }
    }

    #[test]
    fn write_all_keeps_going_past_failures() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let good = dir.path().join("sub/a.json");
        let specs = vec![
            OutputSpec::parse(&format!("json={}", blocker.join("x.json").display())).unwrap(),
            OutputSpec::parse(&format!("json={}", good.display())).unwrap(),
            OutputSpec::parse(&format!("table={}", good.display())).unwrap(),
            OutputSpec::parse("json").unwrap(),
        ];
        let mut out = Vec::new();
        let err = write_all_to(
            &Analysis::default(),
            &specs,
            &ReportOptions::default(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(err.errors.len(), 2, "{err:?}");
        assert!(matches!(err.errors[0], ReportError::Write { .. }));
        assert!(matches!(err.errors[1], ReportError::DuplicateOutput { .. }));
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
        assert!(written.get("schema_version").is_some());
        assert!(!out.is_empty());
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
