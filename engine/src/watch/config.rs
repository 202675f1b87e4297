//! The `notifications:` section of `.tollgate.yaml` → [`WatchConfig`]: channels (each built by
//! its kind from [`crate::watch::channel::CHANNEL_KINDS`]), their filters and delivery settings.
//!
//! The config file is shared with other sections (`ignore:` belongs to the matcher), so every
//! top-level key other than `notifications` is ignored. Inside `notifications:` unknown keys are
//! errors, because a misspelt filter would silently widen who gets told what.
//! Invariants: secrets are never read from the file, only from environment variables the file
//! names (`*_env` keys); a loaded config holds them in [`Secret`], whose `Debug` prints `***`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::types::Severity;
use crate::watch::channel::{CHANNEL_KINDS, Channel, ChannelSpec};
use crate::watch::error::WatchError;
use crate::watch::finding::Finding;

/// The default config file name, looked up in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = ".tollgate.yaml";

/// A secret value read from the environment. `Debug` never shows it and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Looks up an environment variable; tests pass a map instead of the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment as an [`EnvLookup`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Which findings a channel receives.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Findings below this severity are not sent.
    pub min_severity: Severity,
    /// Only findings listed in CISA KEV.
    pub kev_only: bool,
    /// When set, the image must be known under at least one matching repository.
    include: Option<GlobSet>,
    /// An image known under a matching repository is never sent.
    exclude: Option<GlobSet>,
    /// The globs as written, for display.
    pub repositories: Vec<String>,
    /// The exclusion globs as written.
    pub exclude_repositories: Vec<String>,
}

impl Filter {
    /// True when the channel should receive `finding`.
    pub fn accepts(&self, finding: &Finding) -> bool {
        if finding.vulnerability.severity < self.min_severity {
            return false;
        }
        if self.kev_only && !finding.vulnerability.kev {
            return false;
        }
        let repos = finding.image.repositories();
        if let Some(inc) = &self.include
            && !repos.iter().any(|r| inc.is_match(r))
        {
            return false;
        }
        if let Some(exc) = &self.exclude
            && repos.iter().any(|r| exc.is_match(r))
        {
            return false;
        }
        true
    }
}

/// Retry and timeout settings for delivery (`notifications.delivery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySettings {
    /// Attempts per message within one run before it is left for the next run.
    pub max_attempts: u32,
    /// First backoff delay; doubled after every failed attempt.
    pub initial_backoff: Duration,
    /// Upper bound of the exponential backoff.
    pub max_backoff: Duration,
    /// The longest `Retry-After` waited for within a run; a longer one defers the channel to a
    /// later run (the rows keep their place in the outbox).
    pub max_retry_after: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// After this many consecutive failed messages a channel is skipped for the rest of the run.
    pub max_consecutive_failures: u32,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(15),
            max_consecutive_failures: 3,
        }
    }
}

/// One configured channel: its name, filter and the built sender.
pub struct NamedChannel {
    /// The unique `name` (part of every idempotency key: renaming a channel re-sends).
    pub name: String,
    /// Which findings it receives.
    pub filter: Filter,
    /// The sender.
    pub channel: Box<dyn Channel>,
}

impl std::fmt::Debug for NamedChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedChannel")
            .field("name", &self.name)
            .field("kind", &self.channel.kind())
            .field("target", &self.channel.target())
            .field("filter", &self.filter)
            .finish()
    }
}

/// The loaded `notifications:` section.
#[derive(Debug, Default)]
pub struct WatchConfig {
    /// The file it came from (empty when built in code).
    pub path: PathBuf,
    /// The channels, in file order.
    pub channels: Vec<NamedChannel>,
    /// Retry and timeout settings.
    pub delivery: DeliverySettings,
}

/// Whether missing `*_env` secrets are an error (sending) or tolerated (`--dry-run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretMode {
    /// Every named variable must be set.
    Require,
    /// Missing variables are left unset; the channel cannot send but can render previews.
    Optional,
}

#[derive(Deserialize)]
struct FileDoc {
    #[serde(default)]
    notifications: Option<RawNotifications>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNotifications {
    #[serde(default)]
    channels: Vec<RawChannel>,
    #[serde(default)]
    delivery: RawDelivery,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    max_attempts: Option<u32>,
    initial_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    max_retry_after_secs: Option<u64>,
    timeout_secs: Option<u64>,
    max_consecutive_failures: Option<u32>,
}

#[derive(Deserialize)]
struct RawChannel {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    min_severity: Option<String>,
    #[serde(default)]
    kev_only: bool,
    #[serde(default)]
    repositories: Vec<String>,
    #[serde(default)]
    exclude_repositories: Vec<String>,
    #[serde(flatten)]
    settings: BTreeMap<String, serde_json::Value>,
}

impl WatchConfig {
    /// Loads `path`; a missing `notifications:` section yields a config with no channels.
    pub fn load(path: &Path, env: EnvLookup<'_>, mode: SecretMode) -> Result<Self, WatchError> {
        let text = std::fs::read_to_string(path).map_err(|source| WatchError::ConfigIo {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, env, mode)
    }

    /// Parses config text (`path` is only used in messages).
    pub fn parse(
        text: &str,
        path: &Path,
        env: EnvLookup<'_>,
        mode: SecretMode,
    ) -> Result<Self, WatchError> {
        let doc: FileDoc = if text.trim().is_empty() {
            FileDoc {
                notifications: None,
            }
        } else {
            yaml_serde::from_str(text).map_err(|e| WatchError::ConfigSyntax {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?
        };
        let raw = doc.notifications.unwrap_or_default();
        let delivery = build_delivery(&raw.delivery, path)?;
        let mut channels: Vec<NamedChannel> = Vec::new();
        for (i, rc) in raw.channels.into_iter().enumerate() {
            let label = rc.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            let bad = |reason: String, help: &str| WatchError::ConfigChannel {
                path: path.to_path_buf(),
                channel: label.clone(),
                reason,
                help: help.to_string(),
            };
            let name = rc.name.clone().ok_or_else(|| {
                bad(
                    "missing `name`".into(),
                    "give every channel a unique `name`",
                )
            })?;
            if name.trim().is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(bad(
                    format!(
                        "`name` must be non-empty ASCII letters, digits, `-`, `_` or `.`, got `{name}`"
                    ),
                    "rename the channel; the name is part of each notification's idempotency key",
                ));
            }
            if channels.iter().any(|c| c.name == name) {
                return Err(bad(
                    "duplicate channel name".into(),
                    "channel names must be unique",
                ));
            }
            let kind_id = rc.kind.clone().ok_or_else(|| {
                bad(
                    "missing `type`".into(),
                    &format!("set `type` to one of: {}", kind_list()),
                )
            })?;
            let kind = CHANNEL_KINDS
                .iter()
                .find(|k| k.id() == kind_id)
                .ok_or_else(|| {
                    bad(
                        format!("unknown type `{kind_id}`"),
                        &format!("set `type` to one of: {}", kind_list()),
                    )
                })?;
            let min_severity = match &rc.min_severity {
                None => Severity::Unknown,
                Some(s) => Severity::parse(s).ok_or_else(|| {
                    bad(
                        format!("unknown `min_severity` `{s}`"),
                        "use one of: negligible, low, medium, high, critical",
                    )
                })?,
            };
            let include = build_globs(&rc.repositories)
                .map_err(|e| bad(e, "fix the glob in `repositories`"))?;
            let exclude = build_globs(&rc.exclude_repositories)
                .map_err(|e| bad(e, "fix the glob in `exclude_repositories`"))?;
            let filter = Filter {
                min_severity,
                kev_only: rc.kev_only,
                include,
                exclude,
                repositories: rc.repositories.clone(),
                exclude_repositories: rc.exclude_repositories.clone(),
            };
            let spec = ChannelSpec {
                name: &name,
                settings: &rc.settings,
                env,
                mode,
                config_path: path,
            };
            let channel = kind.build(&spec)?;
            channels.push(NamedChannel {
                name,
                filter,
                channel,
            });
        }
        Ok(WatchConfig {
            path: path.to_path_buf(),
            channels,
            delivery,
        })
    }
}

fn kind_list() -> String {
    CHANNEL_KINDS
        .iter()
        .map(|k| k.id())
        .collect::<Vec<_>>()
        .join(", ")
}

fn build_delivery(raw: &RawDelivery, path: &Path) -> Result<DeliverySettings, WatchError> {
    let d = DeliverySettings::default();
    let s = DeliverySettings {
        max_attempts: raw.max_attempts.unwrap_or(d.max_attempts),
        initial_backoff: raw
            .initial_backoff_ms
            .map_or(d.initial_backoff, Duration::from_millis),
        max_backoff: raw
            .max_backoff_ms
            .map_or(d.max_backoff, Duration::from_millis),
        max_retry_after: raw
            .max_retry_after_secs
            .map_or(d.max_retry_after, Duration::from_secs),
        timeout: raw.timeout_secs.map_or(d.timeout, Duration::from_secs),
        max_consecutive_failures: raw
            .max_consecutive_failures
            .unwrap_or(d.max_consecutive_failures),
    };
    let bad = |reason: &str| WatchError::ConfigSyntax {
        path: path.to_path_buf(),
        reason: format!("notifications.delivery: {reason}"),
    };
    if s.max_attempts == 0 {
        return Err(bad("`max_attempts` must be at least 1"));
    }
    if s.timeout.is_zero() {
        return Err(bad("`timeout_secs` must be at least 1"));
    }
    if s.max_backoff < s.initial_backoff {
        return Err(bad(
            "`max_backoff_ms` must not be below `initial_backoff_ms`",
        ));
    }
    if s.max_consecutive_failures == 0 {
        return Err(bad("`max_consecutive_failures` must be at least 1"));
    }
    Ok(s)
}

/// Repository globs: `*` stays within one path segment, `**` crosses `/`.
fn build_globs(globs: &[String]) -> Result<Option<GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("invalid repository glob `{g}`: {e}"))?;
        b.add(glob);
    }
    b.build()
        .map(Some)
        .map_err(|e| format!("invalid repository globs: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::finding::{ImageRef, VulnInfo};

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(text: &str) -> Result<WatchConfig, WatchError> {
        WatchConfig::parse(text, Path::new("t.yaml"), &no_env, SecretMode::Optional)
    }

    fn finding(repo: &str, sev: Severity, kev: bool) -> Finding {
        Finding {
            image: ImageRef {
                key: "sha256:1".into(),
                reference: Some(format!("{repo}:1")),
                ..Default::default()
            },
            vulnerability: VulnInfo {
                id: "CVE-1".into(),
                severity: sev,
                kev,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn other_sections_are_ignored_and_missing_section_is_empty() {
        let c = parse("ignore:\n  - vulnerability: CVE-1\nfoo: 3\n").unwrap();
        assert!(c.channels.is_empty());
        assert!(parse("").unwrap().channels.is_empty());
    }

    #[test]
    fn full_config_loads_with_filters() {
        let c = parse(
            r#"
ignore: []
notifications:
  delivery: { max_attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 100, timeout_secs: 2 }
  channels:
    - name: hook
      type: webhook
      url: http://127.0.0.1:9/hook
      min_severity: High
      kev_only: true
      repositories: ["registry.example.com/team-a/*"]
    - name: chat
      type: slack
      url_env: SLACK_URL
"#,
        )
        .unwrap();
        assert_eq!(c.channels.len(), 2);
        assert_eq!(c.delivery.max_attempts, 3);
        let f = &c.channels[0].filter;
        assert!(f.accepts(&finding(
            "registry.example.com/team-a/app",
            Severity::Critical,
            true
        )));
        assert!(!f.accepts(&finding(
            "registry.example.com/team-a/app",
            Severity::Medium,
            true
        )));
        assert!(!f.accepts(&finding(
            "registry.example.com/team-a/app",
            Severity::High,
            false
        )));
        // `*` does not cross `/`.
        assert!(!f.accepts(&finding(
            "registry.example.com/team-a/x/app",
            Severity::High,
            true
        )));
        assert!(!f.accepts(&finding(
            "registry.example.com/team-b/app",
            Severity::High,
            true
        )));
        assert!(
            c.channels[1]
                .filter
                .accepts(&finding("x", Severity::Unknown, false))
        );
    }

    #[test]
    fn exclusion_wins() {
        let c = parse(
            "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'http://x/', exclude_repositories: ['**/sandbox/**']}\n",
        )
        .unwrap();
        let f = &c.channels[0].filter;
        assert!(!f.accepts(&finding("r.io/sandbox/app", Severity::High, false)));
        assert!(f.accepts(&finding("r.io/prod/app", Severity::High, false)));
    }

    #[test]
    fn malformed_configs_are_clear_errors() {
        let cases = [
            ("notifications: [1, 2", "config-syntax"),
            ("notifications:\n  chanels: []\n", "config-syntax"),
            (
                "notifications:\n  channels:\n    - {type: webhook, url: 'http://x'}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: carrier-pigeon}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'http://x', urll: 1}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'http://x', min_severity: severe}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'http://x', repositories: ['a[']}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'http://x'}\n    - {name: a, type: webhook, url: 'http://y'}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: 'a b', type: webhook, url: 'http://x'}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'not a url'}\n",
                "config-channel",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'ftp://x/'}\n",
                "config-channel",
            ),
            (
                "notifications:\n  delivery: {max_attempts: 0}\n",
                "config-syntax",
            ),
            (
                "notifications:\n  channels:\n    - {name: a, type: webhook, url: 'http://x', kev_only: maybe}\n",
                "config-syntax",
            ),
        ];
        for (text, code) in cases {
            let err = match parse(text) {
                Ok(_) => panic!("accepted: {text}"),
                Err(e) => e,
            };
            let got = miette::Diagnostic::code(&err)
                .map(|c| c.to_string())
                .unwrap_or_default();
            assert_eq!(got, format!("tollgate::watch::{code}"), "{text}: {err}");
        }
    }

    #[test]
    fn missing_secret_env_is_an_error_only_when_required() {
        let text = "notifications:\n  channels:\n    - {name: a, type: slack, url_env: NOPE_URL}\n";
        let err =
            WatchConfig::parse(text, Path::new("t"), &no_env, SecretMode::Require).unwrap_err();
        assert!(matches!(err, WatchError::MissingSecret { ref var, .. } if var == "NOPE_URL"));
        assert!(parse(text).is_ok());
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }
}
