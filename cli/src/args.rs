//! The command-line surface: clap derive structs only. Each subcommand's own flags live in its
//! `commands/<name>.rs` beside the code that reads them.

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// Tollgate: a container-image security gate for CI.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// Print nothing but the requested reports and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// More logging on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Scan an image: packages, vulnerabilities, secrets, policy; exit 1 when the gate fails.
    Scan(Box<commands::scan::ScanArgs>),
    /// Policy bundles: validate, describe, convert, and keep bundles in the local store.
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Re-evaluate a saved analysis against a policy bundle (exit 1 on STOP).
    Evaluate(commands::evaluate::EvaluateArgs),
    /// Inspect an image: its config, layers and files.
    #[command(subcommand)]
    Image(commands::image::ImageCommand),
    /// Re-match stored SBOMs against the current DB and notify channels of new findings.
    Watch(Box<commands::watch::WatchArgs>),
    /// The local store of analyses: list, show, prune, import from a registry.
    #[command(subcommand)]
    Store(commands::store::StoreCommand),
    /// Catalog an image's packages and write SBOMs (CycloneDX, SPDX), a table or JSON.
    Sbom(Box<commands::sbom::SbomArgs>),
    /// The vulnerability DB: build from OSV, update, import, push, status, check, search.
    #[command(subcommand)]
    Db(commands::db::DbCommand),
    /// GitHub: upload SARIF, sticky PR comment, check run, Action step outputs.
    #[command(subcommand)]
    Github(commands::github::GithubCommand),
    /// Show why a vulnerability did (or did not) match the packages of an image or analysis.
    Explain(commands::explain::ExplainArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
