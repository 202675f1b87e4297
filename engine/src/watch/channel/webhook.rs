//! The generic webhook channel: one JSON `POST` per (image, vulnerability), body per
//! `docs/webhook.schema.json`, signed with HMAC-SHA256 when a shared secret is configured.
//!
//! Headers: `Idempotency-Key` (and `X-Tollgate-Delivery`) carry the row's idempotency key,
//! `X-Tollgate-Event` the event name, `X-Tollgate-Timestamp` the Unix time of the attempt, and
//! `X-Tollgate-Signature-256: sha256=<hex>` the HMAC-SHA256 of `"{timestamp}.{body}"` keyed with
//! the secret. Receivers should reject stale timestamps and deduplicate on the key: delivery is
//! at-least-once. This file does no retries (`watch::deliver` does).

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{
    BoxFuture, Channel, ChannelKind, ChannelSpec, Grouping, Outgoing, SendCx, SendError, execute,
    not_ready, url_target,
};
use crate::watch::config::Secret;
use crate::watch::error::WatchError;
use crate::watch::finding::Finding;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Tollgate-Signature-256";
/// The header carrying the signed timestamp.
pub const TIMESTAMP_HEADER: &str = "X-Tollgate-Timestamp";
/// The event name of a new finding.
pub const EVENT_NEW: &str = "vulnerability.new";
/// The version of the webhook body schema.
pub const BODY_SCHEMA_VERSION: &str = "1.0";

/// `type: webhook`.
pub(super) struct WebhookKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    url: Option<String>,
    url_env: Option<String>,
    secret_env: Option<String>,
}

impl ChannelKind for WebhookKind {
    fn id(&self) -> &'static str {
        "webhook"
    }

    fn build(&self, spec: &ChannelSpec<'_>) -> Result<Box<dyn Channel>, WatchError> {
        let s: Settings = spec.settings("webhook")?;
        let url = spec.url(s.url.as_deref(), s.url_env.as_deref(), "url")?;
        let (secret, secret_missing) = match &s.secret_env {
            Some(var) => {
                let v = spec.secret(var)?;
                let missing = v.is_none();
                (v, missing)
            }
            None => (None, false),
        };
        Ok(Box::new(Webhook {
            name: spec.name.to_string(),
            url,
            secret,
            secret_missing,
        }))
    }
}

struct Webhook {
    name: String,
    url: Option<Secret>,
    secret: Option<Secret>,
    /// A `secret_env` was named but not set (dry-run only): never send unsigned by accident.
    secret_missing: bool,
}

/// The webhook body.
#[derive(Debug, Serialize)]
pub struct WebhookBody<'a> {
    /// [`BODY_SCHEMA_VERSION`].
    pub schema_version: &'a str,
    /// [`EVENT_NEW`].
    pub event: &'a str,
    /// The idempotency key of (image, vulnerability, channel).
    pub idempotency_key: &'a str,
    /// The channel name.
    pub channel: &'a str,
    /// The finding.
    pub finding: &'a Finding,
}

fn body(o: &Outgoing<'_>) -> Result<Vec<u8>, SendError> {
    serde_json::to_vec(&WebhookBody {
        schema_version: BODY_SCHEMA_VERSION,
        event: EVENT_NEW,
        idempotency_key: o.key,
        channel: o.channel,
        finding: o.finding,
    })
    .map_err(|e| SendError::permanent(format!("cannot encode the webhook body: {e}")))
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `"{timestamp}.{body}"`).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an unkeyed marker
    // rather than panic if the crate ever changes that.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return "sha256=invalid-key".to_string();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Channel for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn target(&self) -> String {
        url_target(self.url.as_ref())
    }

    fn grouping(&self) -> Grouping {
        Grouping::PerFinding
    }

    fn max_batch(&self) -> usize {
        1
    }

    fn ready(&self) -> bool {
        self.url.is_some() && !self.secret_missing
    }

    fn preview(&self, batch: &[Outgoing<'_>]) -> serde_json::Value {
        let bodies: Vec<serde_json::Value> = batch
            .iter()
            .map(|o| {
                serde_json::json!({
                    "schema_version": BODY_SCHEMA_VERSION,
                    "event": EVENT_NEW,
                    "idempotency_key": o.key,
                    "channel": o.channel,
                    "finding": o.finding,
                })
            })
            .collect();
        serde_json::Value::Array(bodies)
    }

    fn send<'a>(
        &'a self,
        cx: &'a SendCx,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let Some(url) = self.url.as_ref().filter(|_| !self.secret_missing) else {
                return Err(not_ready(&self.name));
            };
            for o in batch {
                let body = body(o)?;
                let ts = chrono::Utc::now().timestamp();
                let mut req = cx
                    .http
                    .post(url.expose())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header("Idempotency-Key", o.key)
                    .header("X-Tollgate-Delivery", o.key)
                    .header("X-Tollgate-Event", EVENT_NEW)
                    .header(TIMESTAMP_HEADER, ts.to_string());
                if let Some(secret) = &self.secret {
                    req = req.header(
                        SIGNATURE_HEADER,
                        sign(secret.expose().as_bytes(), ts, &body),
                    );
                }
                execute(req.body(body), "webhook").await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // python3: hmac.new(b"key", b"1.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"key", 1, b"{}"),
            "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
        assert_ne!(sign(b"key", 1, b"{}"), sign(b"key", 2, b"{}"));
        assert_ne!(sign(b"key", 1, b"{}"), sign(b"other", 1, b"{}"));
    }
}
