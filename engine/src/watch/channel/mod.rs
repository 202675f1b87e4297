//! Notification channels: the [`ChannelKind`] table that builds them from config, the
//! [`Channel`] trait that renders and sends a batch of outbox rows, and the HTTP plumbing they
//! share (error classification, `Retry-After`, URL redaction).
//!
//! Adding a channel is one file here plus one row in [`CHANNEL_KINDS`]. Channels never touch
//! the outbox or decide retries; that is `watch::deliver`. Invariants: a channel never puts a
//! secret or a full URL into an error or a preview ([`redact_url`]); a batch handed to
//! [`Channel::send`] belongs to one group of the channel's [`Grouping`] and is at most
//! [`Channel::max_batch`] rows long.

mod github;
mod jira;
mod slack;
mod teams;
mod tracker;
mod webhook;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::watch::config::{EnvLookup, Secret, SecretMode};
use crate::watch::error::WatchError;
use crate::watch::finding::Finding;

pub use webhook::{
    BODY_SCHEMA_VERSION, EVENT_NEW, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookBody, sign,
};

/// A boxed future, so [`Channel`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Every channel kind, by its `type:` id.
pub static CHANNEL_KINDS: &[&dyn ChannelKind] = &[
    &webhook::WebhookKind,
    &slack::SlackKind,
    &teams::TeamsKind,
    &jira::JiraKind,
    &github::GithubKind,
];

/// What a kind's builder gets from the config loader.
pub struct ChannelSpec<'a> {
    /// The channel's unique name.
    pub name: &'a str,
    /// Every key of the channel entry except the common ones (`name`, `type`, filters).
    pub settings: &'a BTreeMap<String, serde_json::Value>,
    /// Where secrets come from.
    pub env: EnvLookup<'a>,
    /// Whether missing secrets are errors.
    pub mode: SecretMode,
    /// The config file, for messages.
    pub config_path: &'a Path,
}

impl ChannelSpec<'_> {
    /// Deserialises the kind-specific settings, rejecting unknown keys (the kind's struct uses
    /// `deny_unknown_fields`).
    pub fn settings<T: DeserializeOwned>(&self, kind: &str) -> Result<T, WatchError> {
        let map: serde_json::Map<String, serde_json::Value> = self
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
            self.invalid(
                format!("{e}"),
                format!("see the `{kind}` channel keys in README section `Watching for new CVEs`"),
            )
        })
    }

    /// A config error for this channel.
    pub fn invalid(&self, reason: String, help: String) -> WatchError {
        WatchError::ConfigChannel {
            path: self.config_path.to_path_buf(),
            channel: self.name.to_string(),
            reason,
            help,
        }
    }

    /// Resolves a secret named by an `*_env` key. `None` only in [`SecretMode::Optional`].
    pub fn secret(&self, var: &str) -> Result<Option<Secret>, WatchError> {
        match (self.env)(var) {
            Some(v) => Ok(Some(Secret::new(v))),
            None if self.mode == SecretMode::Optional => Ok(None),
            None => Err(WatchError::MissingSecret {
                channel: self.name.to_string(),
                var: var.to_string(),
            }),
        }
    }

    /// Resolves a URL given literally (`url`) or through an environment variable (`url_env`),
    /// exactly one of which must be set. The URL must be http or https.
    pub fn url(
        &self,
        literal: Option<&str>,
        env_var: Option<&str>,
        key: &str,
    ) -> Result<Option<Secret>, WatchError> {
        let value = match (literal, env_var) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    format!("both `{key}` and `{key}_env` are set"),
                    format!("keep one of `{key}` and `{key}_env`"),
                ));
            }
            (None, None) => {
                return Err(self.invalid(
                    format!("missing `{key}`"),
                    format!(
                        "set `{key}`, or `{key}_env` naming an environment variable that holds it"
                    ),
                ));
            }
            (Some(u), None) => Some(Secret::new(u.to_string())),
            (None, Some(var)) => self.secret(var)?,
        };
        if let Some(u) = &value {
            check_http_url(u.expose()).map_err(|reason| {
                self.invalid(
                    reason,
                    format!("`{key}` must be an absolute http:// or https:// URL"),
                )
            })?;
        }
        Ok(value)
    }
}

fn check_http_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("unsupported URL scheme `{}`", parsed.scheme()));
    }
    if parsed.host_str().is_none() {
        return Err("URL has no host".into());
    }
    Ok(())
}

/// Builds channels of one `type:`.
pub trait ChannelKind: Sync {
    /// The `type:` value (`webhook`, `slack`, `teams`, `jira`, `github`).
    fn id(&self) -> &'static str;
    /// Validates the settings and builds the sender.
    fn build(&self, spec: &ChannelSpec<'_>) -> Result<Box<dyn Channel>, WatchError>;
}

/// How a channel groups outbox rows into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One message per (image, vulnerability).
    PerFinding,
    /// One message per image.
    PerImage,
    /// One message per vulnerability id.
    PerVulnerability,
}

impl Grouping {
    /// The group a finding belongs to.
    pub fn group_of(self, key: &str, finding: &Finding) -> String {
        match self {
            Grouping::PerFinding => key.to_string(),
            Grouping::PerImage => finding.image.key.clone(),
            Grouping::PerVulnerability => finding.vulnerability.id.clone(),
        }
    }
}

/// One outbox row handed to a channel.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Its idempotency key.
    pub key: &'a str,
    /// The channel name.
    pub channel: &'a str,
    /// The finding.
    pub finding: &'a Finding,
}

/// Everything a channel may use while sending.
#[derive(Debug, Clone)]
pub struct SendCx {
    /// The shared HTTP client (timeouts set, no redirects to other hosts followed blindly).
    pub http: reqwest::Client,
}

/// A configured sender.
pub trait Channel: Send + Sync {
    /// The kind id.
    fn kind(&self) -> &'static str;
    /// Where it sends, with secrets and URL paths redacted (`https://hooks.slack.com/…`).
    fn target(&self) -> String;
    /// How rows are grouped into messages.
    fn grouping(&self) -> Grouping;
    /// The most rows one message may carry.
    fn max_batch(&self) -> usize;
    /// True when every secret it needs was resolved (false only in dry-run mode).
    fn ready(&self) -> bool;
    /// The request body (or bodies) that [`Channel::send`] would send, for `--dry-run`.
    fn preview(&self, batch: &[Outgoing<'_>]) -> serde_json::Value;
    /// Sends one batch. `Ok` means the receiver accepted all of it.
    fn send<'a>(
        &'a self,
        cx: &'a SendCx,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), SendError>>;
}

/// Why a send failed, and whether retrying can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Transport errors, timeouts, 408, 425, 429 and 5xx are retryable; other 4xx are not.
    pub retryable: bool,
    /// The HTTP status, when a response came back.
    pub status: Option<u16>,
    /// The receiver's `Retry-After`, when given.
    pub retry_after: Option<Duration>,
    /// A short description without secrets.
    pub message: String,
}

impl SendError {
    /// A permanent error that is not an HTTP status (bad response shape, missing secret).
    pub fn permanent(message: impl Into<String>) -> SendError {
        SendError {
            retryable: false,
            status: None,
            retry_after: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Shows only scheme and host(:port) of a URL: `https://hooks.slack.com/…`. Paths and queries
/// of webhook URLs are credentials.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("?");
            match u.port() {
                Some(p) => format!("{}://{host}:{p}/…", u.scheme()),
                None => format!("{}://{host}/…", u.scheme()),
            }
        }
        Err(_) => "<invalid url>".to_string(),
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (RFC 7231 §7.1.3).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// `Channel::target` of a channel whose whole address is a secret URL (webhook, Slack, Teams):
/// scheme and host only.
pub(crate) fn url_target(url: Option<&Secret>) -> String {
    url.map_or_else(
        || "<url from env, unset>".into(),
        |u| redact_url(u.expose()),
    )
}

/// POSTs `payload` as JSON to `url` and classifies the outcome (the incoming-webhook channels:
/// Slack, Teams). `what` names the channel kind in errors; the URL never appears in them.
pub(crate) async fn post_json(
    cx: &SendCx,
    url: &Secret,
    payload: &serde_json::Value,
    what: &'static str,
) -> Result<(), SendError> {
    let body = serde_json::to_vec(payload)
        .map_err(|e| SendError::permanent(format!("cannot encode the {what} body: {e}")))?;
    let req = cx
        .http
        .post(url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    execute(req, what).await.map(|_| ())
}

/// Sends a prepared request and classifies the outcome. The response body is returned on 2xx.
pub(crate) async fn execute(
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<(u16, String), SendError> {
    let response = request.send().await.map_err(|e| transport_error(e, what))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    let body = response
        .text()
        .await
        .map_err(|e| transport_error(e, what))?;
    if (200..300).contains(&status) {
        return Ok((status, body));
    }
    let retryable = matches!(status, 408 | 425 | 429) || status >= 500;
    let snippet: String = body.chars().take(200).collect();
    Err(SendError {
        retryable,
        status: Some(status),
        retry_after,
        message: format!("{what}: HTTP {status}: {}", snippet.trim()),
    })
}

/// A transport failure (connect, timeout, connection closed, body read) — always retryable.
/// The URL is stripped from the message: webhook URLs are secrets.
fn transport_error(e: reqwest::Error, what: &str) -> SendError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut message = format!("{what}: {kind}: {e}");
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        message.push_str(&format!(": {s}"));
        src = s.source();
    }
    SendError {
        retryable: true,
        status: None,
        retry_after: None,
        message,
    }
}

/// The error a channel returns when a secret was not resolved (dry-run configs only).
pub(crate) fn not_ready(name: &str) -> SendError {
    SendError::permanent(format!(
        "channel `{name}` has unresolved secrets (loaded for --dry-run)"
    ))
}

/// Markdown-ish severity label with the KEV flag.
pub(crate) fn severity_label(f: &Finding) -> String {
    let mut s = f.vulnerability.severity.as_str().to_string();
    if f.vulnerability.kev {
        s.push_str(", KEV");
    }
    s
}

/// `name version (fixed in X)` for every affected package.
pub(crate) fn package_lines(f: &Finding) -> Vec<String> {
    f.packages
        .iter()
        .map(|p| {
            if p.fixed_in.is_empty() {
                format!("{} {} ({}, no fix yet)", p.name, p.version, p.kind)
            } else {
                format!(
                    "{} {} ({}, fixed in {})",
                    p.name,
                    p.version,
                    p.kind,
                    p.fixed_in.join(", ")
                )
            }
        })
        .collect()
}

/// The link shown for a vulnerability: its first reference URL, else an OSV link.
pub(crate) fn vuln_link(f: &Finding) -> String {
    f.vulnerability
        .urls
        .first()
        .cloned()
        .unwrap_or_else(|| format!("https://osv.dev/vulnerability/{}", f.vulnerability.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_scheme_and_host() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8080/x?token=1"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(redact_url("nope"), "<invalid url>");
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn kind_ids_are_unique_kebab() {
        let mut seen = std::collections::BTreeSet::new();
        for k in CHANNEL_KINDS {
            assert!(seen.insert(k.id()), "duplicate {}", k.id());
            assert!(k.id().chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        }
    }
}
