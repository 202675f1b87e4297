//! The Slack channel: one incoming-webhook message per image (up to 20 findings), laid out in
//! Block Kit (header, context, one section per vulnerability) with a plain-text fallback.
//!
//! The webhook URL is a credential, so it is usually given as `url_env`. Slack has no
//! idempotency header: a retry after a lost response can post a message twice, which is the
//! at-least-once contract. This file does no retries (`watch::deliver` does).

use serde::Deserialize;

use super::{
    BoxFuture, Channel, ChannelKind, ChannelSpec, Grouping, Outgoing, SendCx, SendError, not_ready,
    package_lines, post_json, severity_label, url_target, vuln_link,
};
use crate::watch::config::Secret;
use crate::watch::error::WatchError;

/// `type: slack`.
pub(super) struct SlackKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    url: Option<String>,
    url_env: Option<String>,
}

impl ChannelKind for SlackKind {
    fn id(&self) -> &'static str {
        "slack"
    }

    fn build(&self, spec: &ChannelSpec<'_>) -> Result<Box<dyn Channel>, WatchError> {
        let s: Settings = spec.settings("slack")?;
        let url = spec.url(s.url.as_deref(), s.url_env.as_deref(), "url")?;
        Ok(Box::new(Slack {
            name: spec.name.to_string(),
            url,
        }))
    }
}

struct Slack {
    name: String,
    url: Option<Secret>,
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn message(batch: &[Outgoing<'_>]) -> serde_json::Value {
    let Some(first) = batch.first() else {
        return serde_json::json!({});
    };
    let image = &first.finding.image;
    let title = format!(
        "{} new vulnerabilit{} in {}",
        batch.len(),
        if batch.len() == 1 { "y" } else { "ies" },
        image.display_name()
    );
    let mut context = vec![format!("image `{}`", esc(&image.key))];
    if let Some(p) = &image.platform {
        context.push(esc(p));
    }
    if let Some(t) = &image.scanned_at {
        context.push(format!("scanned {}", esc(t)));
    }
    let mut blocks = vec![
        serde_json::json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&title, 150)}}),
        serde_json::json!({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(&context.join(" · "), 3000)}]}),
        serde_json::json!({"type": "divider"}),
    ];
    for o in batch {
        let f = o.finding;
        let mut text = format!(
            "*<{}|{}>* · {}\n{}",
            esc(&vuln_link(f)),
            esc(&f.vulnerability.id),
            esc(&severity_label(f)),
            esc(&package_lines(f).join("\n"))
        );
        if !f.vulnerability.summary.is_empty() {
            text.push_str(&format!("\n_{}_", esc(&f.vulnerability.summary)));
        }
        blocks.push(serde_json::json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate(&text, 3000)},
        }));
    }
    let fallback: Vec<String> = batch.iter().map(|o| o.finding.title()).collect();
    serde_json::json!({
        "text": truncate(&format!("{title}: {}", fallback.join("; ")), 3000),
        "blocks": blocks,
    })
}

impl Channel for Slack {
    fn kind(&self) -> &'static str {
        "slack"
    }

    fn target(&self) -> String {
        url_target(self.url.as_ref())
    }

    fn grouping(&self) -> Grouping {
        Grouping::PerImage
    }

    fn max_batch(&self) -> usize {
        20
    }

    fn ready(&self) -> bool {
        self.url.is_some()
    }

    fn preview(&self, batch: &[Outgoing<'_>]) -> serde_json::Value {
        message(batch)
    }

    fn send<'a>(
        &'a self,
        cx: &'a SendCx,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let Some(url) = &self.url else {
                return Err(not_ready(&self.name));
            };
            post_json(cx, url, &message(batch), "slack").await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::finding::{AffectedPackage, Finding, ImageRef, VulnInfo};

    #[test]
    fn blocks_escape_and_stay_within_limits() {
        let f = Finding {
            image: ImageRef {
                key: "sha256:abc".into(),
                reference: Some("r/app:<1>".into()),
                ..Default::default()
            },
            vulnerability: VulnInfo {
                id: "CVE-1".into(),
                summary: "a & b <script>".repeat(400),
                kev: true,
                ..Default::default()
            },
            packages: vec![AffectedPackage {
                name: "p".into(),
                version: "1".into(),
                kind: "deb".into(),
                fix_state: "fixed".into(),
                fixed_in: vec!["2".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let o = Outgoing {
            key: "k",
            channel: "c",
            finding: &f,
        };
        let m = message(&[o]);
        let blocks = m["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 4);
        let text = blocks[3]["text"]["text"].as_str().unwrap();
        assert!(text.chars().count() <= 3000);
        assert!(!text.contains("<script>"));
        assert!(text.contains("KEV"));
        assert!(text.contains("fixed in 2"));
        assert!(m["text"].as_str().unwrap().contains("CVE-1"));
    }
}
