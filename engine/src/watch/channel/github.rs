//! The GitHub channel: opens an issue in `repository: owner/name` through the REST API — one
//! per image (default), per vulnerability or per finding — and comments on it when later
//! findings join the same group.
//!
//! Duplicates are prevented by `tracker.rs`: the issue is found again with
//! `GET /repos/{repo}/issues?labels=<group label>&state=all` (served from the database, not the
//! eventually consistent search index) and carries every delivered key in an HTML comment.
//! Plain reqwest calls rather than octocrab: four endpoints do not justify its compile cost
//! (see `crates.md`). The token comes from `token_env` (default `GITHUB_TOKEN`).

use serde::Deserialize;

use super::jira::{check_labels, parse_group_by};
use super::tracker::{self, Draft, IssueCache, IssueRef, Layout, Markup, Tracker};
use super::{
    BoxFuture, Channel, ChannelKind, ChannelSpec, Grouping, Outgoing, SendCx, SendError, execute,
    not_ready, redact_url,
};
use crate::watch::config::Secret;
use crate::watch::error::WatchError;

/// `type: github`.
pub(super) struct GithubKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    repository: String,
    #[serde(default = "default_api")]
    api_url: String,
    #[serde(default = "default_token_env")]
    token_env: String,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    group_by: Option<String>,
}

fn default_api() -> String {
    "https://api.github.com".to_string()
}

fn default_token_env() -> String {
    "GITHUB_TOKEN".to_string()
}

impl ChannelKind for GithubKind {
    fn id(&self) -> &'static str {
        "github"
    }

    fn build(&self, spec: &ChannelSpec<'_>) -> Result<Box<dyn Channel>, WatchError> {
        let s: Settings = spec.settings("github")?;
        let parts: Vec<&str> = s.repository.split('/').collect();
        let valid = parts.len() == 2
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            });
        if !valid {
            return Err(spec.invalid(
                format!("`repository` must be `owner/name`, got `{}`", s.repository),
                "set `repository: owner/name`".into(),
            ));
        }
        let api = spec
            .url(Some(&s.api_url), None, "api_url")?
            .map(|u| u.expose().trim_end_matches('/').to_string())
            .unwrap_or_default();
        let grouping = parse_group_by(spec, s.group_by.as_deref())?;
        check_labels(spec, &s.labels)?;
        let token = spec.secret(&s.token_env)?;
        Ok(Box::new(Github {
            name: spec.name.to_string(),
            api: GithubApi {
                base: api,
                repo: s.repository,
                token,
            },
            labels: s.labels,
            grouping,
            cache: IssueCache::default(),
        }))
    }
}

struct GithubApi {
    base: String,
    repo: String,
    token: Option<Secret>,
}

impl GithubApi {
    fn request(&self, cx: &SendCx, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = cx
            .http
            .request(method, format!("{}/repos/{}{path}", self.base, self.repo))
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(t) = &self.token {
            r = r.bearer_auth(t.expose());
        }
        r
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T, SendError> {
    serde_json::from_str(body)
        .map_err(|e| SendError::permanent(format!("github: unexpected {what} response: {e}")))
}

#[derive(Deserialize)]
struct Issue {
    number: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Comment {
    #[serde(default)]
    body: Option<String>,
}

impl Tracker for GithubApi {
    fn find<'a>(
        &'a self,
        cx: &'a SendCx,
        label: &'a str,
    ) -> BoxFuture<'a, Result<Option<IssueRef>, SendError>> {
        Box::pin(async move {
            let req = self.request(cx, reqwest::Method::GET, "/issues").query(&[
                ("labels", label),
                ("state", "all"),
                ("per_page", "10"),
            ]);
            let (_, body) = execute(req, "github list issues").await?;
            let issues: Vec<Issue> = parse(&body, "issue list")?;
            Ok(issues
                .into_iter()
                .find(|i| i.pull_request.is_none())
                .map(|i| IssueRef(i.number.to_string())))
        })
    }

    fn existing_text<'a>(
        &'a self,
        cx: &'a SendCx,
        issue: &'a IssueRef,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let req = self.request(cx, reqwest::Method::GET, &format!("/issues/{}", issue.0));
            let (_, body) = execute(req, "github get issue").await?;
            let i: Issue = parse(&body, "issue")?;
            let mut text = i.body.unwrap_or_default();
            for page in 1..=100u32 {
                let req = self
                    .request(
                        cx,
                        reqwest::Method::GET,
                        &format!("/issues/{}/comments", issue.0),
                    )
                    .query(&[("per_page", "100".to_string()), ("page", page.to_string())]);
                let (_, body) = execute(req, "github comments").await?;
                let comments: Vec<Comment> = parse(&body, "comments")?;
                let n = comments.len();
                for c in comments {
                    text.push('\n');
                    text.push_str(&c.body.unwrap_or_default());
                }
                if n < 100 {
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
                "title": draft.title,
                "body": draft.body,
                "labels": draft.labels,
            });
            let req = self
                .request(cx, reqwest::Method::POST, "/issues")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
            let (_, resp) = execute(req, "github create issue").await?;
            let i: Issue = parse(&resp, "create")?;
            Ok(IssueRef(i.number.to_string()))
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
                    &format!("/issues/{}/comments", issue.0),
                )
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::json!({ "body": body }).to_string());
            execute(req, "github comment").await.map(|_| ())
        })
    }
}

struct Github {
    name: String,
    api: GithubApi,
    labels: Vec<String>,
    grouping: Grouping,
    cache: IssueCache,
}

impl Github {
    fn layout(&self) -> Layout<'_> {
        Layout {
            channel: &self.name,
            grouping: self.grouping,
            markup: Markup::Markdown,
            labels: &self.labels,
        }
    }
}

impl Channel for Github {
    fn kind(&self) -> &'static str {
        "github"
    }

    fn target(&self) -> String {
        format!("{} {}", redact_url(&self.api.base), self.api.repo)
    }

    fn grouping(&self) -> Grouping {
        self.grouping
    }

    fn max_batch(&self) -> usize {
        25
    }

    fn ready(&self) -> bool {
        self.api.token.is_some()
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
            if self.api.token.is_none() {
                return Err(not_ready(&self.name));
            }
            tracker::deliver(&self.api, &self.cache, cx, self.layout(), batch).await
        })
    }
}
