//! `tollgate policy …`: validate, describe, convert bundles, and keep several bundles in the
//! local store with one active. Logic lives in `tollgate::policy` and `tollgate::store`; this
//! module parses flags and renders.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use miette::{IntoDiagnostic, Result};
use tollgate::policy::gates::{self, GATES};
use tollgate::policy::{Bundle, BundleFormat};
use tollgate::store::Store;

use crate::Outcome;
use crate::args::GlobalArgs;

/// Where the local store lives.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArgs {
    /// Directory of the local store (default: `$XDG_DATA_HOME/tollgate`).
    #[arg(long, value_name = "DIR", env = "TOLLGATE_STORE")]
    pub(crate) store: Option<PathBuf>,
}

/// The form `policy convert` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ConvertTo {
    /// Anchore engine v1 (`version: "1_0"`).
    V1,
    /// Anchore Enterprise v2 (`version: "2"`).
    V2,
}

/// Text encoding of a written bundle.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Encoding {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Policy bundle commands.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Check a bundle (JSON or YAML, v1 or v2); lists every problem with its location.
    Validate {
        /// The bundle file.
        file: PathBuf,
    },
    /// List gates, triggers and params (from the evaluator's own tables).
    Describe {
        /// Only this gate.
        gate: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a bundle in v1 or v2 form.
    Convert {
        /// The bundle file.
        file: PathBuf,
        /// Target form.
        #[arg(long, value_enum)]
        to: ConvertTo,
        /// Output encoding.
        #[arg(long, value_enum, default_value = "json")]
        encoding: Encoding,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the embedded default bundle.
    Default,
    /// Validate a bundle and keep it in the local store.
    Add {
        /// The bundle file.
        file: PathBuf,
        /// Also make it the active bundle.
        #[arg(long)]
        activate: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List stored bundles (`*` marks the active one).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print a stored bundle's original text.
    Get {
        /// Bundle id.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make a stored bundle the active one (used by `scan`/`evaluate` without `--policy`).
    Activate {
        /// Bundle id.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a stored bundle.
    Delete {
        /// Bundle id.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn out() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

fn warn(global: &GlobalArgs, warnings: &[String]) {
    if global.quiet {
        return;
    }
    for w in warnings {
        tracing::warn!("{w}");
    }
}

/// Runs a `policy` subcommand.
pub(crate) fn run(cmd: PolicyCommand, global: &GlobalArgs) -> Result<Outcome> {
    let mut o = out();
    match cmd {
        PolicyCommand::Validate { file } => {
            let b = Bundle::load(&file)?;
            warn(global, &b.warnings);
            let rules: usize = b.rule_sets.iter().map(|r| r.rules.len()).sum();
            let items: usize = b.allowlists.iter().map(|a| a.items.len()).sum();
            if !global.quiet {
                writeln!(
                    o,
                    "{}: valid {} bundle `{}` ({} rule sets, {rules} rules, {} allowlists with {items} items, {} mappings)",
                    file.display(),
                    if b.format == BundleFormat::V1 { "v1" } else { "v2" },
                    b.id,
                    b.rule_sets.len(),
                    b.allowlists.len(),
                    b.mappings.len()
                )
                .into_diagnostic()?;
            }
        }
        PolicyCommand::Describe { gate, json } => describe(&mut o, gate.as_deref(), json)?,
        PolicyCommand::Convert {
            file,
            to,
            encoding,
            output,
        } => {
            let b = Bundle::load(&file)?;
            warn(global, &b.warnings);
            let value = match to {
                ConvertTo::V1 => b.to_v1(),
                ConvertTo::V2 => b.to_v2(),
            };
            let text = match encoding {
                Encoding::Json => serde_json::to_string_pretty(&value).into_diagnostic()? + "\n",
                Encoding::Yaml => yaml_serde::to_string(&value).into_diagnostic()?,
            };
            match output {
                Some(path) => std::fs::write(&path, text).into_diagnostic()?,
                None => o.write_all(text.as_bytes()).into_diagnostic()?,
            }
        }
        PolicyCommand::Default => o
            .write_all(Bundle::default_bundle_text().as_bytes())
            .into_diagnostic()?,
        PolicyCommand::Add {
            file,
            activate,
            store,
        } => {
            let text = std::fs::read_to_string(&file).into_diagnostic()?;
            let yaml = file.extension().is_some_and(|e| e == "yaml" || e == "yml");
            let b = Bundle::from_text(&file.display().to_string(), &text, yaml)?;
            warn(global, &b.warnings);
            let mut st = Store::open(store.store.as_deref())?;
            let rec = st.add_bundle(&b, &text)?;
            if activate {
                st.activate_bundle(&rec.id)?;
            }
            if !global.quiet {
                writeln!(
                    o,
                    "added bundle `{}` ({}){}",
                    rec.id,
                    rec.digest,
                    if activate { ", active" } else { "" }
                )
                .into_diagnostic()?;
            }
        }
        PolicyCommand::List { store } => {
            let st = Store::open(store.store.as_deref())?;
            for r in st.list_bundles()? {
                writeln!(
                    o,
                    "{} {}\t{}\t{}\t{}\t{}",
                    if r.active { "*" } else { " " },
                    r.id,
                    r.format,
                    r.digest,
                    r.added,
                    r.name
                )
                .into_diagnostic()?;
            }
        }
        PolicyCommand::Get { id, store } => {
            let st = Store::open(store.store.as_deref())?;
            match st.get_bundle(&id)? {
                Some((_, text)) => o.write_all(text.as_bytes()).into_diagnostic()?,
                None => {
                    return Err(tollgate::store::StoreError::NotFound {
                        what: "bundle",
                        key: id,
                    }
                    .into());
                }
            }
        }
        PolicyCommand::Activate { id, store } => {
            Store::open(store.store.as_deref())?.activate_bundle(&id)?;
        }
        PolicyCommand::Delete { id, store } => {
            Store::open(store.store.as_deref())?.delete_bundle(&id)?;
        }
    }
    o.flush().into_diagnostic()?;
    Ok(Outcome::Pass)
}

fn describe(o: &mut impl Write, only: Option<&str>, json: bool) -> Result<()> {
    let selected: Vec<_> = match only {
        Some(name) => match gates::gate(name) {
            Some(g) => vec![g],
            None => {
                return Err(miette::miette!(
                    code = "tollgate::policy::unknown-gate",
                    help = format!(
                        "known gates: {}",
                        GATES
                            .iter()
                            .map(|g| g.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "unknown gate `{name}`"
                ));
            }
        },
        None => GATES.to_vec(),
    };
    if json {
        let v: Vec<_> = selected
            .iter()
            .map(|g| {
                serde_json::json!({
                    "gate": g.name(), "aliases": g.aliases(), "description": g.description(),
                    "triggers": g.triggers().iter().map(|t| serde_json::json!({
                        "trigger": t.name, "aliases": t.aliases, "description": t.description,
                        "params": t.params.iter().map(|p| serde_json::json!({
                            "name": p.name, "aliases": p.aliases, "kind": p.kind.describe(),
                            "required": p.required, "default": p.default, "description": p.description,
                        })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        writeln!(o, "{}", serde_json::to_string_pretty(&v).into_diagnostic()?).into_diagnostic()?;
        return Ok(());
    }
    for g in selected {
        writeln!(o, "{}: {}", g.name(), g.description()).into_diagnostic()?;
        for t in g.triggers() {
            let alias = if t.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also: {})", t.aliases.join(", "))
            };
            writeln!(o, "  {}{alias}: {}", t.name, t.description).into_diagnostic()?;
            for p in t.params {
                let mut extra = Vec::new();
                if p.required {
                    extra.push("required".to_string());
                }
                if let Some(d) = p.default {
                    extra.push(format!("default `{d}`"));
                }
                writeln!(
                    o,
                    "    {} [{}{}] {}",
                    p.name,
                    p.kind.describe(),
                    if extra.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", extra.join(", "))
                    },
                    p.description
                )
                .into_diagnostic()?;
            }
        }
    }
    if only.is_none() {
        let eol: Vec<&str> = gates::EOL_GATES.iter().map(|g| g.name).collect();
        writeln!(
            o,
            "end-of-life gates (accepted with a warning, never evaluated): {}",
            eol.join(", ")
        )
        .into_diagnostic()?;
    }
    Ok(())
}
