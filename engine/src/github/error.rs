//! [`GithubError`]: everything that can go wrong talking to the GitHub REST API (or GHES) for
//! SARIF uploads, pull-request comments and check runs. Tokens never appear in messages.

/// A failed GitHub API operation.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum GithubError {
    /// A required setting is missing.
    #[error("{what} is not set")]
    #[diagnostic(
        code("tollgate::github::missing-setting"),
        help("pass `{flag}` or set `{env}` (GitHub Actions sets it for every job)")
    )]
    Missing {
        /// What is missing.
        what: &'static str,
        /// The flag that sets it.
        flag: &'static str,
        /// The environment variable that sets it.
        env: &'static str,
    },

    /// A setting has the wrong shape.
    #[error("invalid {what} `{value}`: {reason}")]
    #[diagnostic(code("tollgate::github::invalid-setting"), help("{help}"))]
    Invalid {
        /// The setting.
        what: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: &'static str,
        /// How to fix it.
        help: &'static str,
    },

    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client")]
    #[diagnostic(code("tollgate::github::client"))]
    Client {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },

    /// The request did not get a response (DNS, TLS, connection, timeout).
    #[error("{method} {url} failed")]
    #[diagnostic(
        code("tollgate::github::request"),
        help(
            "check `GITHUB_API_URL` (GitHub Enterprise Server: `https://HOST/api/v3`) and the network"
        )
    )]
    Request {
        /// HTTP method.
        method: String,
        /// URL (no credentials).
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },

    /// The API answered with an error status.
    #[error("{method} {path} returned HTTP {status}: {message}")]
    #[diagnostic(code("tollgate::github::status"), help("{help}"))]
    Status {
        /// HTTP method.
        method: String,
        /// API path.
        path: String,
        /// The status code.
        status: u16,
        /// GitHub's `message`, or the start of the body.
        message: String,
        /// A hint for the status.
        help: String,
    },

    /// The API answered 2xx with a body we cannot use.
    #[error("{method} {path} returned an unexpected body: {reason}")]
    #[diagnostic(code("tollgate::github::bad-response"))]
    BadResponse {
        /// HTTP method.
        method: String,
        /// API path.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// GitHub processed the SARIF upload and rejected it.
    #[error("GitHub rejected SARIF upload `{id}`: {errors}")]
    #[diagnostic(
        code("tollgate::github::sarif-rejected"),
        help(
            "validate the file against the SARIF 2.1.0 schema; `tollgate` writes valid SARIF with `-o sarif=FILE`"
        )
    )]
    SarifRejected {
        /// The upload id.
        id: String,
        /// GitHub's processing errors.
        errors: String,
    },

    /// Processing did not finish in time.
    #[error("SARIF upload `{id}` was still `pending` after {seconds} s")]
    #[diagnostic(
        code("tollgate::github::sarif-timeout"),
        help("raise `--wait-timeout`, or pass `--no-wait` to return after the upload is accepted")
    )]
    SarifTimeout {
        /// The upload id.
        id: String,
        /// How long we waited.
        seconds: u64,
    },

    /// A local file could not be read.
    #[error("cannot read `{path}`")]
    #[diagnostic(code("tollgate::github::read"))]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// A local file is not the JSON it should be.
    #[error("`{path}` is not valid {what} JSON")]
    #[diagnostic(code("tollgate::github::parse"))]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// What it should be.
        what: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },

    /// Compressing the SARIF file failed.
    #[error("cannot compress the SARIF file")]
    #[diagnostic(code("tollgate::github::compress"))]
    Compress {
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A hint for an HTTP error status.
pub(crate) fn status_help(status: u16) -> String {
    match status {
        401 => "the token is missing or invalid: pass `--token` or set `GITHUB_TOKEN`".into(),
        403 => "the token lacks a permission: the workflow needs `security-events: write` (SARIF), `pull-requests: write` (comments) or `checks: write` (check runs); forks get a read-only token".into(),
        404 => "check `GITHUB_REPOSITORY` and `GITHUB_API_URL`; code scanning must be enabled for SARIF uploads".into(),
        413 => "the SARIF file is over GitHub's 10 MB (gzip) limit; `tollgate` truncates its own SARIF to fit".into(),
        422 => "GitHub refused the request body (commit sha, ref or payload); see the message".into(),
        429 => "rate limited; retry later".into(),
        s if s >= 500 => "GitHub had a server error; retry later".into(),
        _ => "see the message from GitHub".into(),
    }
}
