//! A small GitHub REST client for the three things a CI gate does on GitHub: upload SARIF to code
//! scanning (and wait for processing), keep one sticky pull-request comment up to date, and
//! create a check run with annotations.
//!
//! Built on `reqwest` (already in the tree for DB downloads) instead of octocrab: three endpoints
//! do not justify octocrab's compile cost (the most expensive unit measured in crates.md) and its
//! second TLS provider. `api_url` is taken as given, so GitHub Enterprise Server works with
//! `GITHUB_API_URL=https://HOST/api/v3`. Every non-2xx answer becomes a [`GithubError::Status`]
//! with GitHub's message and a hint; the token is sent only in the `Authorization` header and
//! never appears in errors or logs. Does not decide anything: callers pass the markdown, SARIF
//! bytes and annotations made by `crate::report`.

mod error;

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

pub use error::GithubError;

use crate::report::Annotation;

/// The API URL used when `GITHUB_API_URL` is unset.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// GitHub accepts at most this many annotations per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// Longest check-run `summary`/`text` and comment body GitHub accepts, in characters.
pub const MAX_BODY_CHARS: usize = 65_535;

/// A client for one repository.
#[derive(Debug, Clone)]
pub struct GithubClient {
    http: reqwest::Client,
    api_url: String,
    token: String,
    owner: String,
    repo: String,
}

/// The result of a SARIF upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifUpload {
    /// GitHub's upload id.
    pub id: String,
    /// `complete`, or `pending` when not waited for.
    pub processing_status: String,
    /// The analyses URL, when GitHub returned one.
    pub analyses_url: Option<String>,
}

/// What the sticky-comment update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    /// A new comment was posted.
    Created(u64),
    /// The existing comment was edited.
    Updated(u64),
}

/// How to wait for SARIF processing.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Give up after this long.
    pub timeout: Duration,
    /// Time between polls.
    pub interval: Duration,
}

impl GithubClient {
    /// A client for `repository` (`owner/name`) at `api_url` with `token`.
    pub fn new(api_url: &str, token: &str, repository: &str) -> Result<Self, GithubError> {
        if token.trim().is_empty() {
            return Err(GithubError::Missing {
                what: "the GitHub token",
                flag: "--token",
                env: "GITHUB_TOKEN",
            });
        }
        let (owner, repo) = repository
            .split_once('/')
            .filter(|(o, r)| {
                let ok = |s: &str| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                };
                ok(o) && ok(r)
            })
            .ok_or_else(|| GithubError::Invalid {
                what: "repository",
                value: repository.to_string(),
                reason: "expected `owner/name`",
                help: "pass `--repository owner/name` or set `GITHUB_REPOSITORY`",
            })?;
        let api_url = api_url.trim().trim_end_matches('/').to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(GithubError::Invalid {
                what: "API URL",
                value: api_url,
                reason: "expected an http(s) URL",
                help: "set `GITHUB_API_URL` to `https://api.github.com` or `https://HOST/api/v3`",
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|source| GithubError::Client { source })?;
        Ok(GithubClient {
            http,
            api_url,
            token: token.trim().to_string(),
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }

    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.repo)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, GithubError> {
        let url = format!("{}{path}", self.api_url);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.map_err(|source| GithubError::Request {
            method: method.to_string(),
            url: url.clone(),
            source,
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|source| GithubError::Request {
            method: method.to_string(),
            url: url.clone(),
            source,
        })?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| text.chars().take(300).collect());
            return Err(GithubError::Status {
                method: method.to_string(),
                path: path.to_string(),
                status,
                message,
                help: error::status_help(status),
            });
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| GithubError::BadResponse {
            method: method.to_string(),
            path: path.to_string(),
            reason: e.to_string(),
        })
    }

    /// Uploads a SARIF log (gzip + base64) for `commit_sha` on `git_ref`; with `category`, every
    /// run's `automationDetails.id` is set to `<category>/` first. With `wait`, polls the upload
    /// until GitHub has processed it and fails when processing failed.
    pub async fn upload_sarif(
        &self,
        sarif: &[u8],
        commit_sha: &str,
        git_ref: &str,
        category: Option<&str>,
        wait: Option<Wait>,
    ) -> Result<SarifUpload, GithubError> {
        if commit_sha.len() != 40 || !commit_sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(GithubError::Invalid {
                what: "commit sha",
                value: commit_sha.to_string(),
                reason: "expected 40 hex digits",
                help: "pass `--commit SHA` or set `GITHUB_SHA`",
            });
        }
        if !git_ref.starts_with("refs/") {
            return Err(GithubError::Invalid {
                what: "ref",
                value: git_ref.to_string(),
                reason: "expected `refs/heads/<branch>`, `refs/tags/<tag>` or `refs/pull/<n>/merge`",
                help: "pass `--ref` or set `GITHUB_REF`",
            });
        }
        let body_bytes = match category.filter(|c| !c.trim().is_empty()) {
            Some(cat) => {
                let mut log: Value =
                    serde_json::from_slice(sarif).map_err(|source| GithubError::Parse {
                        path: "<sarif>".into(),
                        what: "SARIF",
                        source,
                    })?;
                if let Some(runs) = log.get_mut("runs").and_then(Value::as_array_mut) {
                    for run in runs {
                        run["automationDetails"] =
                            json!({ "id": format!("{}/", cat.trim().trim_end_matches('/')) });
                    }
                }
                log.to_string().into_bytes()
            }
            None => sarif.to_vec(),
        };
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&body_bytes)
            .map_err(|source| GithubError::Compress { source })?;
        let gz = enc
            .finish()
            .map_err(|source| GithubError::Compress { source })?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(gz);
        let path = self.repo_path("/code-scanning/sarifs");
        let resp = self
            .call(
                reqwest::Method::POST,
                &path,
                Some(&json!({
                    "commit_sha": commit_sha,
                    "ref": git_ref,
                    "sarif": encoded,
                    "tool_name": "Tollgate",
                })),
            )
            .await?;
        let id = resp
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| GithubError::BadResponse {
                method: "POST".into(),
                path: path.clone(),
                reason: "no `id` in the upload receipt".into(),
            })?
            .to_string();
        let Some(wait) = wait else {
            return Ok(SarifUpload {
                id,
                processing_status: "pending".into(),
                analyses_url: None,
            });
        };
        let status_path = self.repo_path(&format!("/code-scanning/sarifs/{id}"));
        let started = std::time::Instant::now();
        loop {
            let st = self.call(reqwest::Method::GET, &status_path, None).await?;
            let status = st
                .get("processing_status")
                .and_then(Value::as_str)
                .unwrap_or("pending")
                .to_string();
            match status.as_str() {
                "complete" => {
                    return Ok(SarifUpload {
                        id,
                        processing_status: status,
                        analyses_url: st
                            .get("analyses_url")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    });
                }
                "failed" => {
                    let errors = st
                        .get("errors")
                        .and_then(Value::as_array)
                        .map(|e| {
                            e.iter()
                                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "no details given".into());
                    return Err(GithubError::SarifRejected { id, errors });
                }
                _ => {}
            }
            if started.elapsed() >= wait.timeout {
                return Err(GithubError::SarifTimeout {
                    id,
                    seconds: wait.timeout.as_secs(),
                });
            }
            tokio::time::sleep(wait.interval).await;
        }
    }

    /// Creates or updates the one comment on pull request `pr` that carries `<!-- key -->`.
    pub async fn upsert_comment(
        &self,
        pr: u64,
        key: &str,
        markdown: &str,
    ) -> Result<CommentAction, GithubError> {
        let marker = format!("<!-- tollgate-comment:{key} -->");
        let mut body = format!("{marker}\n{markdown}");
        if body.chars().count() > MAX_BODY_CHARS {
            body = body.chars().take(MAX_BODY_CHARS - 40).collect();
            body.push_str("\n\n… (cut at GitHub's size limit)");
        }
        let mut existing = None;
        for page in 1..=50u32 {
            let path = self.repo_path(&format!("/issues/{pr}/comments?per_page=100&page={page}"));
            let list = self.call(reqwest::Method::GET, &path, None).await?;
            let items = list.as_array().ok_or_else(|| GithubError::BadResponse {
                method: "GET".into(),
                path: path.clone(),
                reason: "expected a list of comments".into(),
            })?;
            if let Some(c) = items.iter().find(|c| {
                c.get("body")
                    .and_then(Value::as_str)
                    .is_some_and(|b| b.contains(&marker))
            }) {
                existing = c.get("id").and_then(Value::as_u64);
                break;
            }
            if items.len() < 100 {
                break;
            }
        }
        let payload = json!({ "body": body });
        match existing {
            Some(id) => {
                self.call(
                    reqwest::Method::PATCH,
                    &self.repo_path(&format!("/issues/comments/{id}")),
                    Some(&payload),
                )
                .await?;
                Ok(CommentAction::Updated(id))
            }
            None => {
                let path = self.repo_path(&format!("/issues/{pr}/comments"));
                let resp = self
                    .call(reqwest::Method::POST, &path, Some(&payload))
                    .await?;
                let id = resp.get("id").and_then(Value::as_u64).ok_or_else(|| {
                    GithubError::BadResponse {
                        method: "POST".into(),
                        path,
                        reason: "no `id` in the created comment".into(),
                    }
                })?;
                Ok(CommentAction::Created(id))
            }
        }
    }

    /// Creates a completed check run on `head_sha` with `conclusion` (`success`, `failure`,
    /// `neutral`) and the annotations, sending them [`ANNOTATIONS_PER_REQUEST`] at a time.
    /// Returns the check run id.
    pub async fn create_check_run(
        &self,
        name: &str,
        head_sha: &str,
        conclusion: &str,
        title: &str,
        summary: &str,
        annotations: &[Annotation],
    ) -> Result<u64, GithubError> {
        let summary: String = summary.chars().take(MAX_BODY_CHARS).collect();
        let mut chunks = annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = chunks.next().unwrap_or(&[]);
        let path = self.repo_path("/check-runs");
        let resp = self
            .call(
                reqwest::Method::POST,
                &path,
                Some(&json!({
                    "name": name,
                    "head_sha": head_sha,
                    "status": "completed",
                    "conclusion": conclusion,
                    "output": { "title": title, "summary": summary, "annotations": first },
                })),
            )
            .await?;
        let id =
            resp.get("id")
                .and_then(Value::as_u64)
                .ok_or_else(|| GithubError::BadResponse {
                    method: "POST".into(),
                    path,
                    reason: "no `id` in the created check run".into(),
                })?;
        for chunk in chunks {
            self.call(
                reqwest::Method::PATCH,
                &self.repo_path(&format!("/check-runs/{id}")),
                Some(&json!({
                    "output": { "title": title, "summary": summary, "annotations": chunk },
                })),
            )
            .await?;
        }
        Ok(id)
    }
}

/// The pull-request number of the current GitHub Actions run: `pull_request.number` (or
/// `number`) in the event file, else `refs/pull/<n>/…` in the ref.
pub fn pull_request_number(
    event_path: Option<&std::path::Path>,
    git_ref: Option<&str>,
) -> Option<u64> {
    if let Some(p) = event_path
        && let Ok(text) = std::fs::read_to_string(p)
        && let Ok(v) = serde_json::from_str::<Value>(&text)
        && let Some(n) = v
            .pointer("/pull_request/number")
            .or_else(|| v.get("number"))
            .and_then(Value::as_u64)
    {
        return Some(n);
    }
    git_ref
        .and_then(|r| r.strip_prefix("refs/pull/"))
        .and_then(|r| r.split('/').next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_settings() {
        assert!(GithubClient::new("https://api.github.com", "", "o/r").is_err());
        assert!(GithubClient::new("https://api.github.com", "t", "o").is_err());
        assert!(GithubClient::new("https://api.github.com", "t", "o/r/x").is_err());
        assert!(GithubClient::new("ftp://x", "t", "o/r").is_err());
        assert!(GithubClient::new("https://ghes.example/api/v3/", "t", "o/r").is_ok());
    }

    #[test]
    fn pr_number_from_ref() {
        assert_eq!(
            pull_request_number(None, Some("refs/pull/42/merge")),
            Some(42)
        );
        assert_eq!(pull_request_number(None, Some("refs/heads/main")), None);
    }
}
