//! What Jira and GitHub issues have in common: one issue per group (image, vulnerability or
//! finding), found again by a label derived from the group, and idempotency keys written into
//! the issue text so a retry comments only what the issue does not already hold.
//!
//! The flow for a batch: find the issue by its group label (or in this run's cache) → none:
//! create it with every finding → found: read its description and comments and add one comment
//! with the findings whose key is not in that text. A crash between "created" and "marked
//! delivered" therefore never creates a second ticket. The HTTP calls live in `jira.rs` and
//! `github.rs`; this file holds no endpoint.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{
    BoxFuture, Grouping, Outgoing, SendCx, SendError, package_lines, severity_label, vuln_link,
};

/// An issue in the tracker: a Jira key (`SEC-12`) or a GitHub issue number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IssueRef(pub(super) String);

/// A new issue.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub(super) title: String,
    pub(super) body: String,
    pub(super) labels: Vec<String>,
}

/// Text markup of the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Markup {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// Jira wiki markup (REST API v2).
    JiraWiki,
}

/// How a tracker channel lays out its issues.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout<'a> {
    /// The channel name (part of the group label).
    pub(super) channel: &'a str,
    /// Issue per image, vulnerability or finding.
    pub(super) grouping: Grouping,
    /// Markdown or Jira wiki.
    pub(super) markup: Markup,
    /// Labels added to every created issue.
    pub(super) labels: &'a [String],
}

/// The four calls a tracker must offer.
pub(super) trait Tracker: Send + Sync {
    /// The issue carrying `label`, if any (open or closed).
    fn find<'a>(
        &'a self,
        cx: &'a SendCx,
        label: &'a str,
    ) -> BoxFuture<'a, Result<Option<IssueRef>, SendError>>;
    /// The description and every comment of `issue`, concatenated.
    fn existing_text<'a>(
        &'a self,
        cx: &'a SendCx,
        issue: &'a IssueRef,
    ) -> BoxFuture<'a, Result<String, SendError>>;
    /// Creates an issue.
    fn create<'a>(
        &'a self,
        cx: &'a SendCx,
        draft: &'a Draft,
    ) -> BoxFuture<'a, Result<IssueRef, SendError>>;
    /// Adds a comment.
    fn comment<'a>(
        &'a self,
        cx: &'a SendCx,
        issue: &'a IssueRef,
        body: &'a str,
    ) -> BoxFuture<'a, Result<(), SendError>>;
}

/// The label that finds a group's issue again: `tollgate-` + 16 hex of (channel, grouping,
/// group). Short enough for GitHub's 50-character label limit, no spaces for Jira.
pub(super) fn group_label(channel: &str, grouping: Grouping, group: &str) -> String {
    let mut h = Sha256::new();
    for part in [channel, &format!("{grouping:?}"), group] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    format!("tollgate-{}", hex::encode(&h.finalize()[..8]))
}

/// The marker line that records a delivered key inside an issue's text.
fn marker(key: &str, markup: Markup) -> String {
    match markup {
        Markup::Markdown => format!("<!-- tollgate-key: {key} -->"),
        Markup::JiraWiki => format!("{{color:#999999}}tollgate-key: {key}{{color}}"),
    }
}

fn finding_block(o: &Outgoing<'_>, grouping: Grouping, markup: Markup) -> String {
    let f = o.finding;
    let subject = match grouping {
        // The issue is about one vulnerability: each entry names the image.
        Grouping::PerVulnerability => f.image.display_name().to_string(),
        _ => f.vulnerability.id.clone(),
    };
    let link = vuln_link(f);
    let mut out = String::new();
    match markup {
        Markup::Markdown => {
            out.push_str(&format!(
                "### {subject}\n\n**[{}]({link})** · {}",
                f.vulnerability.id,
                severity_label(f)
            ));
            if !f.vulnerability.summary.is_empty() {
                out.push_str(&format!(" — {}", f.vulnerability.summary));
            }
            out.push_str(&format!(
                "\n\nImage: `{}` (`{}`)\n\n",
                f.image.display_name(),
                f.image.key
            ));
            for p in package_lines(f) {
                out.push_str(&format!("- {p}\n"));
            }
        }
        Markup::JiraWiki => {
            out.push_str(&format!(
                "h3. {subject}\n[{}|{link}] · {}",
                f.vulnerability.id,
                severity_label(f)
            ));
            if !f.vulnerability.summary.is_empty() {
                out.push_str(&format!(" — {}", f.vulnerability.summary));
            }
            out.push_str(&format!(
                "\nImage: {{{{{}}}}} ({{{{{}}}}})\n",
                f.image.display_name(),
                f.image.key
            ));
            for p in package_lines(f) {
                out.push_str(&format!("* {p}\n"));
            }
        }
    }
    out.push_str(&marker(o.key, markup));
    out.push('\n');
    out
}

fn body(batch: &[Outgoing<'_>], grouping: Grouping, markup: Markup, intro: &str) -> String {
    let mut out = format!("{intro}\n\n");
    for o in batch {
        out.push_str(&finding_block(o, grouping, markup));
        out.push('\n');
    }
    out.push_str(match markup {
        Markup::Markdown => "_Sent by `tollgate watch`._\n",
        Markup::JiraWiki => "_Sent by {{tollgate watch}}._\n",
    });
    out
}

fn title(batch: &[Outgoing<'_>], grouping: Grouping) -> String {
    let Some(first) = batch.first() else {
        return String::from("Tollgate: new vulnerabilities");
    };
    let f = first.finding;
    let t = match grouping {
        Grouping::PerFinding => format!("Tollgate: {}", f.title()),
        Grouping::PerImage => format!(
            "Tollgate: new vulnerabilities in {}",
            f.image.display_name()
        ),
        Grouping::PerVulnerability => format!(
            "Tollgate: {} ({}) affects stored images",
            f.vulnerability.id,
            severity_label(f)
        ),
    };
    // Jira's summary limit is 255 characters.
    t.chars().take(250).collect()
}

/// The request bodies a tracker would send for a batch (for `--dry-run`).
pub(super) fn preview(layout: Layout<'_>, batch: &[Outgoing<'_>]) -> serde_json::Value {
    let Layout {
        channel,
        grouping,
        markup,
        labels,
    } = layout;
    let Some(first) = batch.first() else {
        return serde_json::Value::Null;
    };
    let label = group_label(
        channel,
        grouping,
        &grouping.group_of(first.key, first.finding),
    );
    let d = draft(batch, grouping, markup, labels, &label);
    serde_json::json!({
        "find_label": label,
        "create": {"title": d.title, "labels": d.labels, "body": d.body},
        "or_comment": body(batch, grouping, markup, "More findings from `tollgate watch`:"),
    })
}

fn draft(
    batch: &[Outgoing<'_>],
    grouping: Grouping,
    markup: Markup,
    labels: &[String],
    group_label: &str,
) -> Draft {
    let mut all = labels.to_vec();
    all.push(group_label.to_string());
    Draft {
        title: title(batch, grouping),
        body: body(
            batch,
            grouping,
            markup,
            "New vulnerabilities found by re-matching a stored SBOM against an updated vulnerability DB.",
        ),
        labels: all,
    }
}

/// Per-run cache of group label → issue, so a group split over several batches never depends
/// on the tracker's search index having caught up with an issue created a moment ago.
#[derive(Debug, Default)]
pub(super) struct IssueCache(Mutex<HashMap<String, IssueRef>>);

impl IssueCache {
    fn get(&self, label: &str) -> Option<IssueRef> {
        self.0.lock().ok().and_then(|m| m.get(label).cloned())
    }

    fn put(&self, label: String, issue: IssueRef) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(label, issue);
        }
    }
}

/// Delivers one batch (one group) idempotently; see the module doc.
pub(super) async fn deliver(
    tracker: &dyn Tracker,
    cache: &IssueCache,
    cx: &SendCx,
    layout: Layout<'_>,
    batch: &[Outgoing<'_>],
) -> Result<(), SendError> {
    let Layout {
        channel,
        grouping,
        markup,
        labels,
    } = layout;
    let Some(first) = batch.first() else {
        return Ok(());
    };
    let label = group_label(
        channel,
        grouping,
        &grouping.group_of(first.key, first.finding),
    );
    let found = match cache.get(&label) {
        Some(i) => Some(i),
        None => tracker.find(cx, &label).await?,
    };
    match found {
        None => {
            let d = draft(batch, grouping, markup, labels, &label);
            let issue = tracker.create(cx, &d).await?;
            cache.put(label, issue);
        }
        Some(issue) => {
            cache.put(label, issue.clone());
            let text = tracker.existing_text(cx, &issue).await?;
            let rest: Vec<Outgoing<'_>> = batch
                .iter()
                .filter(|o| !text.contains(o.key))
                .copied()
                .collect();
            if !rest.is_empty() {
                let c = body(
                    &rest,
                    grouping,
                    markup,
                    "More findings from `tollgate watch`:",
                );
                tracker.comment(cx, &issue, &c).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_and_distinct() {
        let a = group_label("jira", Grouping::PerImage, "sha256:1");
        assert!(a.len() <= 50 && !a.contains(' '));
        assert_ne!(
            a,
            group_label("jira", Grouping::PerVulnerability, "sha256:1")
        );
        assert_ne!(a, group_label("jira2", Grouping::PerImage, "sha256:1"));
    }
}
