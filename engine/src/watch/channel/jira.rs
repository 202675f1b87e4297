//! The Jira channel: creates an issue through the REST API (`POST /rest/api/2/issue`) with the
//! configured project, issue type and labels — one issue per image (default), per
//! vulnerability or per finding — and comments on it when later findings join the same group.
//!
//! Duplicates are prevented by `tracker.rs`: each issue carries a group label and the
//! idempotency keys of the findings it holds. Search uses JQL on that label, through
//! `/rest/api/3/search/jql` on Jira Cloud (`*.atlassian.net`, or `deployment: cloud`) and
//! `/rest/api/2/search` on Server/Data Center. Credentials come from env vars only: `user_env` +
//! `token_env` (Cloud: e-mail + API token, sent as Basic) or `token_env` alone (a Server/DC
//! personal access token, sent as Bearer).

use serde::Deserialize;

use super::tracker::{self, Draft, IssueCache, IssueRef, Layout, Markup, Tracker};
use super::{
    BoxFuture, Channel, ChannelKind, ChannelSpec, Grouping, Outgoing, SendCx, SendError, execute,
    not_ready, redact_url,
};
use crate::watch::config::Secret;
use crate::watch::error::WatchError;

/// `type: jira`.
pub(super) struct JiraKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    url: String,
    project: String,
    #[serde(default = "default_issue_type")]
    issue_type: String,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    group_by: Option<String>,
    deployment: Option<String>,
    user_env: Option<String>,
    token_env: String,
}

fn default_issue_type() -> String {
    "Bug".to_string()
}

/// Parses `group_by:` shared by the tracker channels.
pub(super) fn parse_group_by(
    spec: &ChannelSpec<'_>,
    value: Option<&str>,
) -> Result<Grouping, WatchError> {
    match value.unwrap_or("image") {
        "image" => Ok(Grouping::PerImage),
        "vulnerability" | "cve" => Ok(Grouping::PerVulnerability),
        "finding" => Ok(Grouping::PerFinding),
        other => Err(spec.invalid(
            format!("unknown `group_by` `{other}`"),
            "set `group_by` to `image` (one issue per image), `vulnerability` (one per CVE) or `finding`".into(),
        )),
    }
}

/// Checks labels have no whitespace (Jira and GitHub both reject or split them).
pub(super) fn check_labels(spec: &ChannelSpec<'_>, labels: &[String]) -> Result<(), WatchError> {
    for l in labels {
        if l.is_empty() || l.chars().any(char::is_whitespace) || l.chars().count() > 50 {
            return Err(spec.invalid(
                format!("label `{l}` is empty, longer than 50 characters or contains whitespace"),
                "fix the entry in `labels`".into(),
            ));
        }
    }
    Ok(())
}

impl ChannelKind for JiraKind {
    fn id(&self) -> &'static str {
        "jira"
    }

    fn build(&self, spec: &ChannelSpec<'_>) -> Result<Box<dyn Channel>, WatchError> {
        let s: Settings = spec.settings("jira")?;
        let base = spec
            .url(Some(&s.url), None, "url")?
            .map(|u| u.expose().trim_end_matches('/').to_string())
            .unwrap_or_default();
        let grouping = parse_group_by(spec, s.group_by.as_deref())?;
        check_labels(spec, &s.labels)?;
        if s.project.trim().is_empty() {
            return Err(spec.invalid(
                "empty `project`".into(),
                "set `project` to the Jira project key, e.g. `SEC`".into(),
            ));
        }
        let cloud = match s.deployment.as_deref() {
            Some("cloud") => true,
            Some("server") | Some("datacenter") | Some("data-center") => false,
            Some(other) => {
                return Err(spec.invalid(
                    format!("unknown `deployment` `{other}`"),
                    "set `deployment` to `cloud` or `server`".into(),
                ));
            }
            None => reqwest::Url::parse(&base)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.ends_with(".atlassian.net")))
                .unwrap_or(false),
        };
        let token = spec.secret(&s.token_env)?;
        let user = match &s.user_env {
            Some(var) => spec.secret(var)?,
            None => None,
        };
        let auth = match (token, user, s.user_env.is_some()) {
            (Some(t), Some(u), true) => Some(Auth::Basic(u, t)),
            (Some(t), None, false) => Some(Auth::Bearer(t)),
            _ => None,
        };
        Ok(Box::new(Jira {
            name: spec.name.to_string(),
            api: JiraApi {
                base,
                cloud,
                auth,
                project: s.project,
                issue_type: s.issue_type,
            },
            labels: s.labels,
            grouping,
            cache: IssueCache::default(),
        }))
    }
}

enum Auth {
    Basic(Secret, Secret),
    Bearer(Secret),
}

struct JiraApi {
    base: String,
    cloud: bool,
    auth: Option<Auth>,
    project: String,
    issue_type: String,
}

impl JiraApi {
    fn request(&self, cx: &SendCx, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = cx
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.auth {
            Some(Auth::Basic(u, t)) => r = r.basic_auth(u.expose(), Some(t.expose())),
            Some(Auth::Bearer(t)) => r = r.bearer_auth(t.expose()),
            None => {}
        }
        r
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T, SendError> {
    serde_json::from_str(body)
        .map_err(|e| SendError::permanent(format!("jira: unexpected {what} response: {e}")))
}

#[derive(Deserialize)]
struct SearchResult {
    #[serde(default)]
    issues: Vec<FoundIssue>,
}

#[derive(Deserialize)]
struct FoundIssue {
    key: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
struct IssueFields {
    #[serde(default)]
    fields: DescriptionField,
}

#[derive(Deserialize, Default)]
struct DescriptionField {
    #[serde(default)]
    description: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CommentPage {
    #[serde(default)]
    comments: Vec<serde_json::Value>,
    #[serde(default)]
    total: usize,
}

impl Tracker for JiraApi {
    fn find<'a>(
        &'a self,
        cx: &'a SendCx,
        label: &'a str,
    ) -> BoxFuture<'a, Result<Option<IssueRef>, SendError>> {
        Box::pin(async move {
            let jql = format!("project = \"{}\" AND labels = \"{label}\"", self.project);
            let path = if self.cloud {
                "/rest/api/3/search/jql"
            } else {
                "/rest/api/2/search"
            };
            let req = self.request(cx, reqwest::Method::GET, path).query(&[
                ("jql", jql.as_str()),
                ("maxResults", "1"),
                ("fields", "summary"),
            ]);
            let (_, body) = execute(req, "jira search").await?;
            let r: SearchResult = parse(&body, "search")?;
            Ok(r.issues
                .into_iter()
                .next()
                .and_then(|i| i.key.or(i.id))
                .map(IssueRef))
        })
    }

    fn existing_text<'a>(
        &'a self,
        cx: &'a SendCx,
        issue: &'a IssueRef,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let req = self
                .request(
                    cx,
                    reqwest::Method::GET,
                    &format!("/rest/api/2/issue/{}", issue.0),
                )
                .query(&[("fields", "description")]);
            let (_, body) = execute(req, "jira get issue").await?;
            let i: IssueFields = parse(&body, "issue")?;
            let mut text = i
                .fields
                .description
                .map(|d| d.to_string())
                .unwrap_or_default();
            let mut start = 0usize;
            loop {
                let req = self
                    .request(
                        cx,
                        reqwest::Method::GET,
                        &format!("/rest/api/2/issue/{}/comment", issue.0),
                    )
                    .query(&[("startAt", start.to_string()), ("maxResults", "100".into())]);
                let (_, body) = execute(req, "jira comments").await?;
                let page: CommentPage = parse(&body, "comments")?;
                let n = page.comments.len();
                for c in page.comments {
                    text.push('\n');
                    text.push_str(&c.get("body").map(|b| b.to_string()).unwrap_or_default());
                }
                start += n;
                if n == 0 || start >= page.total || start > 10_000 {
                    break;
                }
            }
            Ok(text)
        })
    }

    fn create<'a>(
        &'a self,
        cx: &'a SendCx,
        draft: &'a Draft,
    ) -> BoxFuture<'a, Result<IssueRef, SendError>> {
        Box::pin(async move {
            let body = serde_json::json!({
                "fields": {
                    "project": {"key": self.project},
                    "issuetype": {"name": self.issue_type},
                    "summary": draft.title,
                    "description": draft.body,
                    "labels": draft.labels,
                }
            });
            let req = self
                .request(cx, reqwest::Method::POST, "/rest/api/2/issue")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
            let (_, resp) = execute(req, "jira create issue").await?;
            let created: FoundIssue = parse(&resp, "create")?;
            created
                .key
                .or(created.id)
                .map(IssueRef)
                .ok_or_else(|| SendError::permanent("jira: create issue response has no key"))
        })
    }

    fn comment<'a>(
        &'a self,
        cx: &'a SendCx,
        issue: &'a IssueRef,
        body: &'a str,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let req = self
                .request(
                    cx,
                    reqwest::Method::POST,
                    &format!("/rest/api/2/issue/{}/comment", issue.0),
                )
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::json!({ "body": body }).to_string());
            execute(req, "jira comment").await.map(|_| ())
        })
    }
}

struct Jira {
    name: String,
    api: JiraApi,
    labels: Vec<String>,
    grouping: Grouping,
    cache: IssueCache,
}

impl Jira {
    fn layout(&self) -> Layout<'_> {
        Layout {
            channel: &self.name,
            grouping: self.grouping,
            markup: Markup::JiraWiki,
            labels: &self.labels,
        }
    }
}

impl Channel for Jira {
    fn kind(&self) -> &'static str {
        "jira"
    }

    fn target(&self) -> String {
        format!(
            "{} project {}",
            redact_url(&self.api.base),
            self.api.project
        )
    }

    fn grouping(&self) -> Grouping {
        self.grouping
    }

    fn max_batch(&self) -> usize {
        25
    }

    fn ready(&self) -> bool {
        self.api.auth.is_some()
    }

    fn preview(&self, batch: &[Outgoing<'_>]) -> serde_json::Value {
        tracker::preview(self.layout(), batch)
    }

    fn send<'a>(
        &'a self,
        cx: &'a SendCx,
        batch: &'a [Outgoing<'a>],
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            if self.api.auth.is_none() {
                return Err(not_ready(&self.name));
            }
            tracker::deliver(&self.api, &self.cache, cx, self.layout(), batch).await
        })
    }
}
