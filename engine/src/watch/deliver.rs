//! Drains the outbox: for every channel, reads pending rows in id order, groups them the way
//! the channel wants, sends each group, and records the outcome — with exponential backoff,
//! `Retry-After` honoured, and a per-run cap after which rows wait for the next run.
//!
//! This module decides retries and persistence only; message formats live in
//! `watch::channel::*`, what is new in `watch::rescan`.
//! Invariants: the attempt is counted in the outbox *before* the request goes out and the row
//! is marked delivered only *after* a 2xx, so a kill at any instant loses nothing and can
//! re-send at most the batch that was in flight; rows are never deleted or dropped here.

use std::time::Duration;

use futures_util::future::join_all;
use sha2::{Digest, Sha256};

use crate::watch::channel::{Channel, Grouping, Outgoing, SendCx, SendError};
use crate::watch::config::{DeliverySettings, NamedChannel, WatchConfig};
use crate::watch::error::WatchError;
use crate::watch::finding::Finding;
use crate::watch::outbox::{Outbox, OutboxRow};

/// Rows read from the outbox at a time, per channel (memory stays flat in the queue size).
const PAGE: usize = 500;

/// What happened to one channel in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChannelOutcome {
    /// Channel name.
    pub channel: String,
    /// Rows delivered in this run.
    pub delivered: usize,
    /// Requests (messages) that succeeded.
    pub messages: usize,
    /// Failed send attempts, retries included.
    pub failed_attempts: usize,
    /// Rows still pending after this run (failed or deferred).
    pub pending: usize,
    /// True when the channel was skipped for the rest of the run (rate limit or repeated failure).
    pub stopped_early: bool,
    /// The last error, without secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The outcome of draining the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// One entry per configured channel.
    pub channels: Vec<ChannelOutcome>,
}

impl DeliveryReport {
    /// Rows delivered in this run, all channels.
    pub fn delivered(&self) -> usize {
        self.channels.iter().map(|c| c.delivered).sum()
    }

    /// Turns remaining failures into [`WatchError::DeliveryFailed`] (rows stay queued).
    pub fn into_result(self) -> Result<DeliveryReport, WatchError> {
        let pending: usize = self.channels.iter().map(|c| c.pending).sum();
        if pending == 0 {
            return Ok(self);
        }
        let first = self
            .channels
            .iter()
            .find(|c| c.pending > 0)
            .cloned()
            .unwrap_or_default();
        Err(WatchError::DeliveryFailed {
            failed: pending,
            channel: first.channel,
            reason: first
                .last_error
                .unwrap_or_else(|| "deferred to a later run".into()),
        })
    }
}

/// Builds the HTTP client used for every channel.
pub fn http_client(settings: &DeliverySettings) -> Result<reqwest::Client, WatchError> {
    reqwest::Client::builder()
        .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        // A webhook that redirects elsewhere must not receive our signature or token there.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|source| WatchError::HttpClient { source })
}

/// The backoff before retry number `attempt` (1-based): `initial × 2^(attempt-1)`, capped,
/// scaled by a deterministic jitter in [0.75, 1.0] so many rows do not retry in lockstep.
pub fn backoff(settings: &DeliverySettings, attempt: u32, salt: &str) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let base = settings
        .initial_backoff
        .saturating_mul(1u32 << exp)
        .min(settings.max_backoff);
    let h = Sha256::digest(format!("{salt}:{attempt}").as_bytes());
    let jitter = 0.75 + 0.25 * (f64::from(h[0]) / 255.0);
    base.mul_f64(jitter)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Sends every due pending row of every channel. Channels run concurrently; rows of one
/// channel go out in order, one group at a time.
pub async fn deliver_all(
    outbox: &Outbox,
    config: &WatchConfig,
    http: &reqwest::Client,
) -> Result<DeliveryReport, WatchError> {
    let cx = SendCx { http: http.clone() };
    let runs = config
        .channels
        .iter()
        .map(|c| deliver_channel(outbox, c, &config.delivery, &cx));
    let mut channels = Vec::new();
    for r in join_all(runs).await {
        channels.push(r?);
    }
    Ok(DeliveryReport { channels })
}

/// One group of rows to send together.
pub(crate) struct Group<'r> {
    /// Their outbox ids.
    pub(crate) ids: Vec<i64>,
    /// The rows with their parsed findings.
    pub(crate) rows: Vec<(&'r OutboxRow, &'r Finding)>,
}

/// Groups rows the channel's way (first-appearance order), then splits each group into
/// batches of at most `max`. Rows whose payload does not parse are left out.
pub(crate) fn group_rows<'r>(
    rows: &'r [OutboxRow],
    grouping: Grouping,
    max: usize,
) -> Vec<Group<'r>> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: std::collections::HashMap<String, Vec<(&'r OutboxRow, &'r Finding)>> =
        std::collections::HashMap::new();
    for r in rows {
        if let Ok(f) = &r.finding {
            let g = grouping.group_of(&r.key, f);
            if !groups.contains_key(&g) {
                order.push(g.clone());
            }
            groups.entry(g).or_default().push((r, f));
        }
    }
    let mut out = Vec::new();
    for g in order {
        let members = groups.remove(&g).unwrap_or_default();
        for chunk in members.chunks(max.max(1)) {
            out.push(Group {
                ids: chunk.iter().map(|(r, _)| r.id).collect(),
                rows: chunk.to_vec(),
            });
        }
    }
    out
}

async fn deliver_channel(
    outbox: &Outbox,
    named: &NamedChannel,
    settings: &DeliverySettings,
    cx: &SendCx,
) -> Result<ChannelOutcome, WatchError> {
    let mut out = ChannelOutcome {
        channel: named.name.clone(),
        ..Default::default()
    };
    let channel: &dyn Channel = named.channel.as_ref();
    let mut after = 0i64;
    let mut consecutive_failures = 0u32;
    'pages: loop {
        let rows = outbox.pending(&named.name, after, PAGE, now_ms())?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        // Rows whose payload cannot be read stay pending with the reason recorded.
        for r in &rows {
            if let Err(e) = &r.finding {
                outbox.mark_failed(&[r.id], &format!("unreadable payload: {e}"), 0)?;
                out.last_error = Some(format!("row {}: unreadable payload: {e}", r.id));
            }
        }
        for group in group_rows(&rows, channel.grouping(), channel.max_batch()) {
            if out.stopped_early {
                break 'pages;
            }
            let batch: Vec<Outgoing<'_>> = group
                .rows
                .iter()
                .map(|(r, f)| Outgoing {
                    key: &r.key,
                    channel: &named.name,
                    finding: f,
                })
                .collect();
            let salt = group.rows.first().map_or("", |(r, _)| r.key.as_str());
            let mut tries = 0u32;
            loop {
                tries += 1;
                outbox.mark_attempt(&group.ids)?;
                match channel.send(cx, &batch).await {
                    Ok(()) => {
                        outbox.mark_delivered(&group.ids)?;
                        out.delivered += group.ids.len();
                        out.messages += 1;
                        consecutive_failures = 0;
                        break;
                    }
                    Err(e) => {
                        out.failed_attempts += 1;
                        out.last_error = Some(e.message.clone());
                        tracing::warn!(channel = %named.name, attempt = tries, "delivery failed: {}", e.message);
                        match next_step(settings, &e, tries, salt) {
                            Step::RetryAfter(delay) => {
                                outbox.mark_failed(&group.ids, &e.message, 0)?;
                                tokio::time::sleep(delay).await;
                            }
                            Step::GiveUp {
                                not_before,
                                stop_channel,
                            } => {
                                let due = not_before.map_or(0, |d| {
                                    now_ms().saturating_add(
                                        i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
                                    )
                                });
                                outbox.mark_failed(&group.ids, &e.message, due)?;
                                if stop_channel && due > 0 {
                                    outbox.defer_channel(&named.name, due)?;
                                }
                                consecutive_failures += 1;
                                if stop_channel
                                    || consecutive_failures >= settings.max_consecutive_failures
                                {
                                    out.stopped_early = true;
                                }
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
    out.pending = outbox.pending_count(&named.name)?;
    Ok(out)
}

enum Step {
    RetryAfter(Duration),
    GiveUp {
        /// Not due before this delay has passed (a long `Retry-After`).
        not_before: Option<Duration>,
        /// The receiver asked us to back off: skip the rest of the channel this run.
        stop_channel: bool,
    },
}

fn next_step(settings: &DeliverySettings, e: &SendError, tries: u32, salt: &str) -> Step {
    if !e.retryable {
        return Step::GiveUp {
            not_before: None,
            stop_channel: false,
        };
    }
    if let Some(ra) = e.retry_after
        && ra > settings.max_retry_after
    {
        return Step::GiveUp {
            not_before: Some(ra),
            stop_channel: true,
        };
    }
    if tries >= settings.max_attempts {
        return Step::GiveUp {
            not_before: e.retry_after,
            stop_channel: false,
        };
    }
    Step::RetryAfter(
        e.retry_after
            .unwrap_or_else(|| backoff(settings, tries, salt)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_down_only() {
        let s = DeliverySettings {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..Default::default()
        };
        for (attempt, nominal) in [
            (1u32, 100u64),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let d = backoff(&s, attempt, "k").as_millis() as u64;
            assert!(
                d <= nominal && d >= nominal * 3 / 4,
                "attempt {attempt}: {d}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_and_long_ones_defer() {
        let s = DeliverySettings {
            max_retry_after: Duration::from_secs(10),
            max_attempts: 3,
            ..Default::default()
        };
        let e = |ra: Option<u64>, retryable: bool| SendError {
            retryable,
            status: Some(429),
            retry_after: ra.map(Duration::from_secs),
            message: String::new(),
        };
        assert!(
            matches!(next_step(&s, &e(Some(2), true), 1, "k"), Step::RetryAfter(d) if d == Duration::from_secs(2))
        );
        assert!(matches!(
            next_step(&s, &e(Some(3600), true), 1, "k"),
            Step::GiveUp { not_before: Some(d), stop_channel: true } if d == Duration::from_secs(3600)
        ));
        assert!(matches!(
            next_step(&s, &e(None, true), 3, "k"),
            Step::GiveUp {
                stop_channel: false,
                ..
            }
        ));
        assert!(matches!(
            next_step(&s, &e(None, false), 1, "k"),
            Step::GiveUp {
                not_before: None,
                ..
            }
        ));
    }
}
