//! The `tollgate` binary: parse arguments, call the engine, render, set the exit code.
//!
//! Exit codes: 0 pass, 1 the gate failed (policy STOP or `--fail-on`), 2 error. Nothing clever
//! lives here; every decision is the engine's.

mod args;
mod commands;
mod render;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// What a successful command run concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Pass,
    /// Exit 1: the gate failed.
    Fail,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    render::init(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            render::error(miette::miette!("cannot start the async runtime: {e}"));
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome::Pass) => ExitCode::SUCCESS,
        Ok(Outcome::Fail) => ExitCode::from(1),
        Err(report) => {
            if render::is_broken_pipe(&report) {
                return ExitCode::SUCCESS;
            }
            render::error(report);
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> miette::Result<Outcome> {
    let global = cli.global;
    match cli.command {
        Command::Scan(args) => commands::scan::run(*args, &global).await,
        Command::Image(cmd) => commands::image::run(cmd, &global).await,
        Command::Watch(args) => commands::watch::run(*args, &global).await,
        Command::Store(cmd) => commands::store::run(cmd, &global).await,
        Command::Sbom(args) => commands::sbom::run(*args, &global).await,
        Command::Db(cmd) => commands::db::run(cmd, &global).await,
        Command::Explain(args) => commands::explain::run(args, &global).await,
        Command::Github(cmd) => commands::github::run(cmd, &global).await,
        Command::Policy(cmd) => commands::policy::run(cmd, &global),
        Command::Evaluate(args) => commands::evaluate::run(args, &global),
    }
}
