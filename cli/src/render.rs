//! Output plumbing shared by every command: logging to stderr, miette error rendering,
//! progress bars only on a TTY, and routing `--output FORMAT[=FILE]` to stdout or a file.

use std::io::IsTerminal;

use crate::args::GlobalArgs;

/// Sets up tracing on stderr and the miette handler.
pub(crate) fn init(global: &GlobalArgs) {
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("tollgate={level},tollgate_cli={level}"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .build(),
        )
    }));
}

/// Prints an error report to stderr.
pub(crate) fn error(report: miette::Report) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{report:?}");
    }
}

/// True when the error is a broken pipe on stdout (`tollgate … | head`), which is not a failure.
pub(crate) fn is_broken_pipe(report: &miette::Report) -> bool {
    report
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// True when progress bars should be drawn (stderr is a terminal and not `--quiet`).
pub(crate) fn show_progress(global: &GlobalArgs) -> bool {
    !global.quiet && std::io::stderr().is_terminal()
}

/// Prints one status line to stderr (not data; suppressed by `--quiet` at the call site).
pub(crate) fn note(line: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{line}");
    }
}

/// Writes `value` to stdout as pretty JSON with one trailing newline (machine-readable output).
pub(crate) fn print_json(value: &impl serde::Serialize) -> miette::Result<()> {
    use miette::IntoDiagnostic;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).into_diagnostic()?;
    out.write_all(b"\n").into_diagnostic()?;
    out.flush().into_diagnostic()
}
