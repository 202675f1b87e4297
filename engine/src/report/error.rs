//! [`ReportError`]: everything that can go wrong turning an analysis into report bytes or
//! writing them out, and [`ReportErrors`], the list `write_all` returns so every failed output is
//! reported at once.
//!
//! Does not cover the GitHub API (see `crate::github::GithubError`). Causes stay in `#[source]`.

use std::path::PathBuf;

/// One report that could not be produced or written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReportError {
    /// `-o` named a format no adapter provides.
    #[error("unknown output format `{format}` in `-o {spec}`")]
    #[diagnostic(
        code("tollgate::report::unknown-format"),
        help("use `-o FORMAT[=FILE]` with one of: {known}")
    )]
    UnknownFormat {
        /// The whole `-o` value.
        spec: String,
        /// The format word.
        format: String,
        /// Known format ids, comma separated.
        known: String,
    },

    /// `-o` was empty or malformed.
    #[error("malformed output spec `{spec}`: {reason}")]
    #[diagnostic(
        code("tollgate::report::bad-output-spec"),
        help("write `-o FORMAT` (stdout), `-o FORMAT=FILE`, or `-o template:TEMPLATE[=FILE]`")
    )]
    BadSpec {
        /// The whole `-o` value.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Two `-o` values write the same file.
    #[error("two reports would be written to `{path}`")]
    #[diagnostic(
        code("tollgate::report::duplicate-output"),
        help("give each `-o FORMAT=FILE` its own FILE")
    )]
    DuplicateOutput {
        /// The file named twice.
        path: PathBuf,
    },

    /// The output file (or its directory) could not be created or written.
    #[error("cannot write the {format} report to `{path}`")]
    #[diagnostic(
        code("tollgate::report::unwritable-output"),
        help(
            "check that the directory of `-o {format}=FILE` is writable, or write to stdout with `-o {format}`"
        )
    )]
    Write {
        /// Adapter id.
        format: &'static str,
        /// Destination.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Writing to stdout failed (other than a closed pipe, which callers may ignore).
    #[error("cannot write the {format} report to stdout")]
    #[diagnostic(code("tollgate::report::stdout"))]
    Stdout {
        /// Adapter id.
        format: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The template file could not be read.
    #[error("cannot read the template `{path}`")]
    #[diagnostic(
        code("tollgate::report::template-unreadable"),
        help("`-o template:TEMPLATE[=FILE]` needs a readable minijinja template file")
    )]
    TemplateRead {
        /// Template path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The template is larger than the limit.
    #[error("the template `{path}` is {size} bytes, over the {limit}-byte limit")]
    #[diagnostic(code("tollgate::report::template-too-large"))]
    TemplateTooLarge {
        /// Template path.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// The template failed to parse or render (syntax error, undefined value, fuel exhausted).
    #[error("template `{path}` failed: {detail}")]
    #[diagnostic(
        code("tollgate::report::template"),
        help(
            "the template sees `analysis`, `decision`, `vulnerabilities`, `policy_hits` and `counts`; see the README section \"Templates\""
        )
    )]
    Template {
        /// Template path.
        path: PathBuf,
        /// minijinja's message with its line number.
        detail: String,
        /// The minijinja error.
        #[source]
        source: minijinja::Error,
    },

    /// The Dockerfile given for SARIF locations could not be read.
    #[error("cannot read the Dockerfile `{path}`")]
    #[diagnostic(
        code("tollgate::report::dockerfile-unreadable"),
        help(
            "`--dockerfile` must name the Dockerfile the image was built from, relative to the repository root"
        )
    )]
    Dockerfile {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// JSON serialisation failed.
    #[error("cannot serialise the {format} report")]
    #[diagnostic(code("tollgate::report::serialize"))]
    Json {
        /// Adapter id.
        format: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },

    /// JUnit XML serialisation failed.
    #[error("cannot serialise the JUnit report")]
    #[diagnostic(code("tollgate::report::junit"))]
    Junit {
        /// The writer's error.
        #[source]
        source: quick_junit::SerializeError,
    },

    /// The SARIF document could not fit GitHub's limits even after truncation.
    #[error("the SARIF report cannot be made to fit GitHub's limits: {reason}")]
    #[diagnostic(code("tollgate::report::sarif-limits"))]
    SarifLimits {
        /// Why.
        reason: String,
    },

    /// Writing into an in-memory buffer or a formatter failed.
    #[error("cannot render the {format} report")]
    #[diagnostic(code("tollgate::report::render"))]
    Render {
        /// Adapter id.
        format: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Every report that failed in one `write_all` call; the others were written.
#[derive(Debug, thiserror::Error)]
#[error("{} of the requested reports could not be written", .errors.len())]
pub struct ReportErrors {
    /// The failures, in `-o` order.
    pub errors: Vec<ReportError>,
}

impl miette::Diagnostic for ReportErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("tollgate::report::failed"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(
            "the other reports were written; fix the outputs listed below and run again",
        ))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.errors.iter().map(|e| e as &dyn miette::Diagnostic),
        ))
    }
}
