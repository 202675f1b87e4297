//! The Microsoft Teams channel: one Adaptive Card (version 1.4) per image with up to 10
//! findings, posted to a Teams incoming webhook or a Power Automate "post to a channel when a
//! webhook request is received" workflow URL (both accept the `message` + attachment envelope).
//!
//! Teams caps a message at about 28 KB, hence the small batch. The URL is a credential; give it
//! as `url_env`. No retries here (`watch::deliver` does them).

use serde::Deserialize;

use super::{
    BoxFuture, Channel, ChannelKind, ChannelSpec, Grouping, Outgoing, SendCx, SendError, not_ready,
    package_lines, post_json, severity_label, url_target, vuln_link,
};
use crate::watch::config::Secret;
use crate::watch::error::WatchError;

/// `type: teams`.
pub(super) struct TeamsKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    url: Option<String>,
    url_env: Option<String>,
}

impl ChannelKind for TeamsKind {
    fn id(&self) -> &'static str {
        "teams"
    }

    fn build(&self, spec: &ChannelSpec<'_>) -> Result<Box<dyn Channel>, WatchError> {
        let s: Settings = spec.settings("teams")?;
        let url = spec.url(s.url.as_deref(), s.url_env.as_deref(), "url")?;
        Ok(Box::new(Teams {
            name: spec.name.to_string(),
            url,
        }))
    }
}

struct Teams {
    name: String,
    url: Option<Secret>,
}

fn card(batch: &[Outgoing<'_>]) -> serde_json::Value {
    let Some(first) = batch.first() else {
        return serde_json::json!({});
    };
    let image = &first.finding.image;
    let mut facts = vec![serde_json::json!({"title": "Image", "value": image.key})];
    if let Some(p) = &image.platform {
        facts.push(serde_json::json!({"title": "Platform", "value": p}));
    }
    if let Some(t) = &image.scanned_at {
        facts.push(serde_json::json!({"title": "Scanned", "value": t}));
    }
    let mut body = vec![
        serde_json::json!({
            "type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
            "text": format!("{} new vulnerabilit{} in {}", batch.len(),
                if batch.len() == 1 { "y" } else { "ies" }, image.display_name()),
        }),
        serde_json::json!({"type": "FactSet", "facts": facts}),
    ];
    for o in batch {
        let f = o.finding;
        body.push(serde_json::json!({
            "type": "TextBlock", "wrap": true, "weight": "Bolder", "separator": true,
            "text": format!("[{}]({}) · {}", f.vulnerability.id, vuln_link(f), severity_label(f)),
        }));
        let mut detail = package_lines(f).join("\n\n");
        if !f.vulnerability.summary.is_empty() {
            detail.push_str("\n\n");
            detail.push_str(
                &f.vulnerability
                    .summary
                    .chars()
                    .take(500)
                    .collect::<String>(),
            );
        }
        body.push(serde_json::json!({"type": "TextBlock", "wrap": true, "isSubtle": true, "text": detail}));
    }
    serde_json::json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
            },
        }],
    })
}

impl Channel for Teams {
    fn kind(&self) -> &'static str {
        "teams"
    }

    fn target(&self) -> String {
        url_target(self.url.as_ref())
    }

    fn grouping(&self) -> Grouping {
        Grouping::PerImage
    }

    fn max_batch(&self) -> usize {
        10
    }

    fn ready(&self) -> bool {
        self.url.is_some()
    }

    fn preview(&self, batch: &[Outgoing<'_>]) -> serde_json::Value {
        card(batch)
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
            post_json(cx, url, &card(batch), "teams").await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::finding::{Finding, ImageRef, VulnInfo};

    #[test]
    fn card_has_one_title_and_two_blocks_per_finding() {
        let f = Finding {
            image: ImageRef {
                key: "sha256:abc".into(),
                platform: Some("linux/amd64".into()),
                ..Default::default()
            },
            vulnerability: VulnInfo {
                id: "CVE-9".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let o = Outgoing {
            key: "k",
            channel: "c",
            finding: &f,
        };
        let c = card(&[o, o]);
        let body = c["attachments"][0]["content"]["body"].as_array().unwrap();
        assert_eq!(body.len(), 2 + 4);
        assert!(
            body[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("2 new vulnerabilities")
        );
        assert!(
            body[2]["text"]
                .as_str()
                .unwrap()
                .contains("osv.dev/vulnerability/CVE-9")
        );
    }
}
