//! Getting the bytes of OSV archives and enrichment files, from a local directory (a mirror of
//! the bucket layout) or an HTTP(S) base URL. Timeouts, bounded retries on 5xx/transport errors,
//! and a size cap on every body.
//!
//! Does not parse anything. Invariants: a 404 on an ecosystem archive means "this ecosystem is
//! not published there" (`Ok(None)`); every other failure is an error naming the URL.

use std::path::PathBuf;
use std::time::Duration;

use super::super::checksum::sha256_hex;
use super::super::error::DbError;

/// Largest body accepted for one archive or file (1 GiB).
const MAX_BODY: u64 = 1 << 30;

/// Where data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A local directory (bucket layout) or, for single files, a file path.
    Dir(PathBuf),
    /// An `http://` or `https://` URL (base URL for the bucket layout).
    Url(String),
}

impl SourceSpec {
    /// `http(s)://…` becomes a URL, anything else a path.
    pub fn parse(s: &str) -> SourceSpec {
        if s.starts_with("https://") || s.starts_with("http://") {
            SourceSpec::Url(s.trim_end_matches('/').to_string())
        } else {
            SourceSpec::Dir(PathBuf::from(s))
        }
    }
}

impl std::fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceSpec::Dir(p) => write!(f, "{}", p.display()),
            SourceSpec::Url(u) => f.write_str(u),
        }
    }
}

/// HTTP behaviour.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response (a stalled mirror fails after this).
    pub read_timeout: Duration,
    /// Retries after a 5xx, 429 or transport error (0 = one attempt).
    pub retries: u32,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            retries: 2,
        }
    }
}

/// Bytes fetched from somewhere.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// URL or path it came from.
    pub location: String,
    /// The body.
    pub bytes: Vec<u8>,
    /// SHA-256 of the body, hex.
    pub sha256: String,
}

/// Builds the HTTP client used by `db build` and `db update`.
pub fn client(opts: &HttpOptions) -> Result<reqwest::Client, DbError> {
    reqwest::Client::builder()
        .connect_timeout(opts.connect_timeout)
        .read_timeout(opts.read_timeout)
        .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| DbError::Fetch {
            url: String::new(),
            reason: "cannot set up the HTTP client".into(),
            source: Some(e),
        })
}

fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fetches `<from>/<ecosystem>/all.zip`; `Ok(None)` when it is not there (404 / no file).
pub async fn ecosystem_zip(
    client: &reqwest::Client,
    from: &SourceSpec,
    ecosystem: &str,
    opts: &HttpOptions,
) -> Result<Option<Fetched>, DbError> {
    match from {
        SourceSpec::Dir(dir) => {
            let path = dir.join(ecosystem).join("all.zip");
            if !path.is_file() {
                if !dir.is_dir() {
                    return Err(DbError::Io {
                        path: dir.clone(),
                        action: "read the mirror directory",
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "not a directory",
                        ),
                    });
                }
                return Ok(None);
            }
            read_file(path).map(Some)
        }
        SourceSpec::Url(base) => {
            let url = format!("{base}/{}/all.zip", encode_segment(ecosystem));
            get(client, &url, opts, true).await
        }
    }
}

/// Fetches a single file that must exist.
pub async fn fetch_required(
    client: &reqwest::Client,
    spec: &SourceSpec,
    opts: &HttpOptions,
) -> Result<Fetched, DbError> {
    match spec {
        SourceSpec::Dir(p) => read_file(p.clone()),
        SourceSpec::Url(url) => match get(client, url, opts, false).await? {
            Some(f) => Ok(f),
            None => Err(DbError::Fetch {
                url: url.clone(),
                reason: "404 Not Found".into(),
                source: None,
            }),
        },
    }
}

fn read_file(path: PathBuf) -> Result<Fetched, DbError> {
    let bytes = std::fs::read(&path).map_err(|source| DbError::Io {
        path: path.clone(),
        action: "read",
        source,
    })?;
    Ok(Fetched {
        location: path.display().to_string(),
        sha256: sha256_hex(&bytes),
        bytes,
    })
}

/// GET with retries. `missing_ok`: a 404 yields `Ok(None)` instead of an error.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    opts: &HttpOptions,
    missing_ok: bool,
) -> Result<Option<Fetched>, DbError> {
    let mut attempt = 0;
    loop {
        match get_once(client, url).await {
            Ok(Some(f)) => return Ok(Some(f)),
            Ok(None) if missing_ok => return Ok(None),
            Ok(None) => {
                return Err(DbError::Fetch {
                    url: url.to_string(),
                    reason: "404 Not Found".into(),
                    source: None,
                });
            }
            Err((retryable, err)) => {
                if !retryable || attempt >= opts.retries {
                    return Err(err);
                }
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
            }
        }
    }
}

async fn get_once(client: &reqwest::Client, url: &str) -> Result<Option<Fetched>, (bool, DbError)> {
    let fail = |reason: String, source: Option<reqwest::Error>| DbError::Fetch {
        url: url.to_string(),
        reason,
        source,
    };
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| (true, fail(describe(&e), Some(e))))?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        let retryable = status.is_server_error() || status.as_u16() == 429;
        return Err((retryable, fail(format!("HTTP {status}"), None)));
    }
    if resp.content_length().is_some_and(|n| n > MAX_BODY) {
        return Err((
            false,
            fail(format!("body larger than {MAX_BODY} bytes"), None),
        ));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| (true, fail(describe(&e), Some(e))))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_BODY {
            return Err((
                false,
                fail(format!("body larger than {MAX_BODY} bytes"), None),
            ));
        }
    }
    Ok(Some(Fetched {
        location: url.to_string(),
        sha256: sha256_hex(&bytes),
        bytes,
    }))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out waiting for the server".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off".into()
    } else {
        "request failed".into()
    }
}
