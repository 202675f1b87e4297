//! `tollgate github …`: the GitHub side of CI — upload SARIF to code scanning, keep a sticky PR
//! comment, create a check run with annotations, and write the Action's step outputs.
//!
//! Thin: settings come from flags or the `GITHUB_*` variables Actions sets; the HTTP work is
//! `tollgate::github`, the decision and annotations come from `tollgate::report`. Errors (API
//! 4xx/5xx included) exit 2.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use miette::{IntoDiagnostic, WrapErr};
use tollgate::analysis::Analysis;
use tollgate::github::{CommentAction, DEFAULT_API_URL, GithubClient, GithubError, Wait};
use tollgate::report::{self, ReportOptions, SeverityCounts};
use tollgate::types::Severity;

use crate::Outcome;
use crate::args::GlobalArgs;

/// Connection settings shared by the API subcommands.
#[derive(Debug, Clone, Args)]
pub(crate) struct ApiArgs {
    /// API token (`GITHUB_TOKEN` in Actions).
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// `owner/name`.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    repository: Option<String>,
    /// REST API base URL (GHES: `https://HOST/api/v3`).
    #[arg(long, env = "GITHUB_API_URL", default_value = DEFAULT_API_URL)]
    api_url: String,
}

impl ApiArgs {
    fn client(&self) -> Result<GithubClient, GithubError> {
        let repository = self.repository.as_deref().ok_or(GithubError::Missing {
            what: "the repository",
            flag: "--repository",
            env: "GITHUB_REPOSITORY",
        })?;
        GithubClient::new(
            &self.api_url,
            self.token.as_deref().unwrap_or(""),
            repository,
        )
    }
}

/// Gate settings, the same flags as `tollgate scan`.
#[derive(Debug, Clone, Args)]
pub(crate) struct GateArgs {
    /// Matches at or above this severity fail the gate.
    #[arg(long, value_parser = parse_severity)]
    fail_on: Option<Severity>,
    /// Only matches with a known fix count toward `--fail-on`.
    #[arg(long)]
    only_fixed: bool,
    /// A policy WARN fails the gate.
    #[arg(long)]
    fail_on_warn: bool,
    /// The Dockerfile the image was built from (annotation lines).
    #[arg(long)]
    dockerfile: Option<PathBuf>,
}

impl GateArgs {
    fn options(&self) -> ReportOptions {
        ReportOptions {
            fail_on: self.fail_on,
            only_fixed: self.only_fixed,
            fail_on_warn: self.fail_on_warn,
            dockerfile: self.dockerfile.clone(),
            ..Default::default()
        }
    }
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| {
        format!("unknown severity `{s}`; use negligible, low, medium, high or critical")
    })
}

/// GitHub subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum GithubCommand {
    /// Upload a SARIF file to code scanning (gzip + base64) and wait for processing.
    UploadSarif(UploadSarifArgs),
    /// Create or update the one Tollgate comment on a pull request.
    Comment(CommentArgs),
    /// Create a check run with the decision and annotations from a JSON analysis.
    CheckRun(CheckRunArgs),
    /// Write `decision` and counts from a JSON analysis to `$GITHUB_OUTPUT` (or stdout).
    Outputs(OutputsArgs),
}

/// `github upload-sarif`.
#[derive(Debug, Args)]
pub(crate) struct UploadSarifArgs {
    /// The SARIF file (`-o sarif=FILE` of `tollgate scan`).
    #[arg(long)]
    sarif: PathBuf,
    /// The commit the analysis belongs to.
    #[arg(long = "commit", env = "GITHUB_SHA")]
    commit: Option<String>,
    /// The ref (`refs/heads/main`, `refs/pull/1/merge`).
    #[arg(long = "ref", env = "GITHUB_REF")]
    git_ref: Option<String>,
    /// Category: sets every run's `automationDetails.id` (one per image/platform).
    #[arg(long)]
    category: Option<String>,
    /// Return once GitHub accepted the upload, without waiting for processing.
    #[arg(long)]
    no_wait: bool,
    /// Seconds to wait for processing.
    #[arg(long, default_value_t = 120)]
    wait_timeout: u64,
    /// Seconds between processing polls.
    #[arg(long, default_value_t = 3, hide = true)]
    poll_interval: u64,
    #[command(flatten)]
    api: ApiArgs,
}

/// `github comment`.
#[derive(Debug, Args)]
pub(crate) struct CommentArgs {
    /// Markdown file with the comment body (`-o markdown=FILE` of `tollgate scan`).
    #[arg(long)]
    body: PathBuf,
    /// Pull request number (default: from `GITHUB_EVENT_PATH` or `GITHUB_REF`).
    #[arg(long)]
    pr: Option<u64>,
    /// Identifies the comment to update; use one key per image in matrix jobs.
    #[arg(long, default_value = "tollgate")]
    key: String,
    #[arg(long, env = "GITHUB_EVENT_PATH", hide = true)]
    event_path: Option<PathBuf>,
    #[arg(long = "ref", env = "GITHUB_REF", hide = true)]
    git_ref: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

/// `github check-run`.
#[derive(Debug, Args)]
pub(crate) struct CheckRunArgs {
    /// The JSON analysis (`-o json=FILE` of `tollgate scan`).
    #[arg(long)]
    analysis: PathBuf,
    /// Check run name.
    #[arg(long, default_value = "Tollgate")]
    name: String,
    /// The commit to attach it to.
    #[arg(long = "commit", env = "GITHUB_SHA")]
    commit: Option<String>,
    #[command(flatten)]
    gate: GateArgs,
    #[command(flatten)]
    api: ApiArgs,
}

/// `github outputs`.
#[derive(Debug, Args)]
pub(crate) struct OutputsArgs {
    /// The JSON analysis (`-o json=FILE` of `tollgate scan`).
    #[arg(long)]
    analysis: PathBuf,
    /// The step output file.
    #[arg(long, env = "GITHUB_OUTPUT")]
    output_file: Option<PathBuf>,
    #[command(flatten)]
    gate: GateArgs,
}

fn load_analysis(path: &Path) -> miette::Result<Analysis> {
    let text = std::fs::read_to_string(path).map_err(|source| GithubError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(
        serde_json::from_str(&text).map_err(|source| GithubError::Parse {
            path: path.to_path_buf(),
            what: "analysis",
            source,
        })?,
    )
}

fn require(
    value: Option<String>,
    what: &'static str,
    flag: &'static str,
    env: &'static str,
) -> Result<String, GithubError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or(GithubError::Missing { what, flag, env })
}

/// Runs a `github` subcommand.
pub(crate) async fn run(cmd: GithubCommand, global: &GlobalArgs) -> miette::Result<Outcome> {
    match cmd {
        GithubCommand::UploadSarif(a) => {
            let sarif = std::fs::read(&a.sarif).map_err(|source| GithubError::Read {
                path: a.sarif.clone(),
                source,
            })?;
            let commit = require(a.commit, "the commit sha", "--commit", "GITHUB_SHA")?;
            let git_ref = require(a.git_ref, "the git ref", "--ref", "GITHUB_REF")?;
            let client = a.api.client()?;
            let wait = (!a.no_wait).then(|| Wait {
                timeout: Duration::from_secs(a.wait_timeout),
                interval: Duration::from_secs(a.poll_interval),
            });
            let up = client
                .upload_sarif(&sarif, &commit, &git_ref, a.category.as_deref(), wait)
                .await?;
            if !global.quiet {
                tracing::warn!(
                    "SARIF upload {} {}",
                    up.id,
                    if up.processing_status == "complete" {
                        "processed"
                    } else {
                        "accepted"
                    }
                );
            }
            Ok(Outcome::Pass)
        }
        GithubCommand::Comment(a) => {
            let body = std::fs::read_to_string(&a.body).map_err(|source| GithubError::Read {
                path: a.body.clone(),
                source,
            })?;
            let pr =
                a.pr.or_else(|| {
                    tollgate::github::pull_request_number(
                        a.event_path.as_deref(),
                        a.git_ref.as_deref(),
                    )
                })
                .ok_or(GithubError::Missing {
                    what: "the pull request number",
                    flag: "--pr",
                    env: "GITHUB_EVENT_PATH",
                })?;
            let client = a.api.client()?;
            let action = client.upsert_comment(pr, &a.key, &body).await?;
            if !global.quiet {
                match action {
                    CommentAction::Created(id) => tracing::info!("created comment {id}"),
                    CommentAction::Updated(id) => tracing::info!("updated comment {id}"),
                }
            }
            Ok(Outcome::Pass)
        }
        GithubCommand::CheckRun(a) => {
            let analysis = load_analysis(&a.analysis)?;
            let opts = a.gate.options();
            let decision = opts.decide(&analysis);
            let annotations = report::annotations(&analysis, &opts)?;
            let summary_spec = report::OutputSpec::parse("markdown")?;
            let summary = String::from_utf8_lossy(&summary_spec.render(&analysis, &opts, false)?)
                .into_owned();
            let commit = require(a.commit, "the commit sha", "--commit", "GITHUB_SHA")?;
            let client = a.api.client()?;
            let conclusion = if !decision.pass {
                "failure"
            } else if decision.warnings.is_empty() {
                "success"
            } else {
                "neutral"
            };
            let image = report::ImageIdentity::of(&analysis);
            let title = if decision.pass {
                format!("{} passed", image.display)
            } else {
                format!("{} failed: {}", image.display, decision.reasons.join("; "))
            };
            let title: String = title.chars().take(255).collect();
            client
                .create_check_run(&a.name, &commit, conclusion, &title, &summary, &annotations)
                .await?;
            Ok(Outcome::Pass)
        }
        GithubCommand::Outputs(a) => {
            let analysis = load_analysis(&a.analysis)?;
            let opts = a.gate.options();
            let decision = opts.decide(&analysis);
            let c = SeverityCounts::of(&analysis);
            let (stop, warn) = analysis.evaluation.as_ref().map_or((0, 0), |e| {
                let n = |act| {
                    e.hits
                        .iter()
                        .filter(|h| h.action == act && h.allowlisted.is_none())
                        .count()
                };
                (
                    n(tollgate::policy::Action::Stop),
                    n(tollgate::policy::Action::Warn),
                )
            });
            let lines = format!(
                "decision={}\ncritical={}\nhigh={}\nmedium={}\nlow={}\nnegligible={}\nunknown={}\ntotal={}\nfixable={}\nsuppressed={}\npolicy-stop={stop}\npolicy-warn={warn}\n",
                decision.word(),
                c.critical,
                c.high,
                c.medium,
                c.low,
                c.negligible,
                c.unknown,
                c.total,
                c.fixable,
                c.suppressed
            );
            match &a.output_file {
                Some(path) => {
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .into_diagnostic()
                        .wrap_err_with(|| format!("cannot append to `{}`", path.display()))?;
                    f.write_all(lines.as_bytes())
                        .into_diagnostic()
                        .wrap_err_with(|| format!("cannot append to `{}`", path.display()))?;
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(lines.as_bytes()).into_diagnostic()?;
                }
            }
            Ok(Outcome::Pass)
        }
    }
}
