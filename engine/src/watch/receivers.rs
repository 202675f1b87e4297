//! Local HTTP receivers for the watch tests: a webhook sink with configurable misbehaviour
//! (flaky, slow, rate-limited, connection-closing) and fake Jira and GitHub issue APIs.
//!
//! Test-only (`#[cfg(test)]`): everything binds 127.0.0.1 port 0 and shuts down when the
//! receiver is dropped. Receivers record only requests they *accepted* (answered 2xx), which
//! is what "delivered exactly once" counts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How a webhook sink behaves.
#[derive(Debug, Clone)]
pub(crate) enum Behavior {
    /// Always 200.
    Good,
    /// Every `n`-th request (1-based) fails with 500 before being recorded.
    Flaky { every: usize },
    /// Sleeps before answering 200.
    Slow(Duration),
    /// The first `times` requests get 429 with `Retry-After: secs`.
    RateLimited { secs: u64, times: usize },
}

/// One accepted request.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
}

#[derive(Default)]
struct SinkState {
    accepted: Mutex<Vec<Accepted>>,
    requests: AtomicUsize,
}

/// A running receiver; shut down on drop.
pub(crate) struct Receiver {
    pub(crate) addr: SocketAddr,
    sink: Arc<SinkState>,
    tracker: Arc<TrackerState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// `http://127.0.0.1:PORT/path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests seen (accepted or not).
    pub(crate) fn requests(&self) -> usize {
        self.sink.requests.load(Ordering::SeqCst) + self.tracker.requests.load(Ordering::SeqCst)
    }

    /// Accepted webhook requests.
    pub(crate) fn accepted(&self) -> Vec<Accepted> {
        self.sink
            .accepted
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    /// Accepted idempotency keys, in order.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.accepted()
            .iter()
            .filter_map(|a| a.headers.get("idempotency-key").cloned())
            .collect()
    }

    /// The fake tracker's issues.
    pub(crate) fn issues(&self) -> Vec<FakeIssue> {
        self.tracker
            .issues
            .lock()
            .map(|i| i.clone())
            .unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

async fn serve(router: Router, sink: Arc<SinkState>, tracker: Arc<TrackerState>) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Receiver {
        addr,
        sink,
        tracker,
        shutdown: Some(tx),
        task: Some(task),
    }
}

fn header_map(h: &HeaderMap) -> BTreeMap<String, String> {
    h.iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect()
}

/// A webhook sink at `/hook` (any path works).
pub(crate) async fn sink(behavior: Behavior) -> Receiver {
    let state = Arc::new(SinkState::default());
    let st = state.clone();
    let handler = move |headers: HeaderMap, body: Bytes| {
        let st = st.clone();
        let behavior = behavior.clone();
        async move {
            let n = st.requests.fetch_add(1, Ordering::SeqCst) + 1;
            match behavior {
                Behavior::Good => {}
                Behavior::Flaky { every } => {
                    if n % every == 0 {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "flaky").into_response();
                    }
                }
                Behavior::Slow(d) => tokio::time::sleep(d).await,
                Behavior::RateLimited { secs, times } => {
                    if n <= times {
                        return (
                            StatusCode::TOO_MANY_REQUESTS,
                            [("retry-after", secs.to_string())],
                            "slow down",
                        )
                            .into_response();
                    }
                }
            }
            if let Ok(mut a) = st.accepted.lock() {
                a.push(Accepted {
                    headers: header_map(&headers),
                    body: body.to_vec(),
                });
            }
            (StatusCode::OK, "ok").into_response()
        }
    };
    let router = Router::new().fallback(post(handler));
    serve(router, state, Arc::new(TrackerState::default())).await
}

/// A raw TCP receiver that closes the first `drops` connections after reading the request
/// head (no response at all), then answers 200 and records like [`sink`].
pub(crate) async fn closing_sink(drops: usize) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(SinkState::default());
    let st = state.clone();
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let (mut sock, _) = tokio::select! {
                r = listener.accept() => match r { Ok(s) => s, Err(_) => return },
                _ = &mut rx => return,
            };
            let st = st.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Keep-alive: serve requests on this connection until it closes.
                loop {
                    let head_end = loop {
                        if let Some(p) = find(&buf, b"\r\n\r\n") {
                            break p + 4;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let n = st.requests.fetch_add(1, Ordering::SeqCst) + 1;
                    if n <= drops {
                        return; // drop the socket without answering
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut headers = BTreeMap::new();
                    for line in head.lines().skip(1) {
                        if let Some((k, v)) = line.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                        }
                    }
                    let len: usize = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buf[head_end..head_end + len].to_vec();
                    buf.drain(..head_end + len);
                    if let Ok(mut a) = st.accepted.lock() {
                        a.push(Accepted { headers, body });
                    }
                    if sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Receiver {
        addr,
        sink: state,
        tracker: Arc::new(TrackerState::default()),
        shutdown: Some(tx),
        task: Some(task),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An issue in a fake tracker.
#[derive(Debug, Clone, Default)]
pub(crate) struct FakeIssue {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) labels: Vec<String>,
    pub(crate) comments: Vec<String>,
}

#[derive(Default)]
struct TrackerState {
    issues: Mutex<Vec<FakeIssue>>,
    requests: AtomicUsize,
    /// Create the issue but answer 502 for this many create calls (a lost response).
    lose_creates: AtomicUsize,
    /// Add the comment but answer 502 for this many comment calls.
    lose_comments: AtomicUsize,
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://x{uri}")).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}

fn json(v: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn lost(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A fake GitHub REST API (issues, labels filter, comments) under `/repos/{o}/{r}`.
pub(crate) async fn fake_github(lose_creates: usize, lose_comments: usize) -> Receiver {
    let st = Arc::new(TrackerState::default());
    st.lose_creates.store(lose_creates, Ordering::SeqCst);
    st.lose_comments.store(lose_comments, Ordering::SeqCst);
    async fn list(State(st): State<Arc<TrackerState>>, uri: Uri) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let label = query_param(&uri, "labels").unwrap_or_default();
        let issues = st.issues.lock().map(|i| i.clone()).unwrap_or_default();
        let found: Vec<serde_json::Value> = issues
            .iter()
            .filter(|i| i.labels.contains(&label))
            .map(
                |i| serde_json::json!({"number": i.id.parse::<u64>().unwrap_or(0), "body": i.body}),
            )
            .collect();
        json(serde_json::Value::Array(found))
    }
    async fn create(
        State(st): State<Arc<TrackerState>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer gh-token") {
            return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
        }
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let number = {
            let mut issues = st.issues.lock().unwrap();
            let number = issues.len() + 1;
            issues.push(FakeIssue {
                id: number.to_string(),
                title: v["title"].as_str().unwrap_or("").into(),
                body: v["body"].as_str().unwrap_or("").into(),
                labels: v["labels"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|l| l.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                comments: vec![],
            });
            number
        };
        if lost(&st.lose_creates) {
            return (StatusCode::BAD_GATEWAY, "lost").into_response();
        }
        json(serde_json::json!({"number": number}))
    }
    async fn get_issue(
        State(st): State<Arc<TrackerState>>,
        Path((_o, _r, n)): Path<(String, String, String)>,
    ) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let issues = st.issues.lock().map(|i| i.clone()).unwrap_or_default();
        match issues.iter().find(|i| i.id == n) {
            Some(i) => json(
                serde_json::json!({"number": i.id.parse::<u64>().unwrap_or(0), "body": i.body}),
            ),
            None => (StatusCode::NOT_FOUND, "no").into_response(),
        }
    }
    async fn comments(
        State(st): State<Arc<TrackerState>>,
        Path((_o, _r, n)): Path<(String, String, String)>,
        uri: Uri,
    ) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let page: usize = query_param(&uri, "page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let issues = st.issues.lock().map(|i| i.clone()).unwrap_or_default();
        let Some(i) = issues.iter().find(|i| i.id == n) else {
            return (StatusCode::NOT_FOUND, "no").into_response();
        };
        let items: Vec<serde_json::Value> = i
            .comments
            .iter()
            .skip((page - 1) * 100)
            .take(100)
            .map(|c| serde_json::json!({"body": c}))
            .collect();
        json(serde_json::Value::Array(items))
    }
    async fn add_comment(
        State(st): State<Arc<TrackerState>>,
        Path((_o, _r, n)): Path<(String, String, String)>,
        body: Bytes,
    ) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        {
            let mut issues = st.issues.lock().unwrap();
            let Some(i) = issues.iter_mut().find(|i| i.id == n) else {
                return (StatusCode::NOT_FOUND, "no").into_response();
            };
            i.comments.push(v["body"].as_str().unwrap_or("").into());
        }
        if lost(&st.lose_comments) {
            return (StatusCode::BAD_GATEWAY, "lost").into_response();
        }
        (
            StatusCode::CREATED,
            [("content-type", "application/json")],
            "{}",
        )
            .into_response()
    }
    let router = Router::new()
        .route("/repos/{o}/{r}/issues", get(list).post(create))
        .route("/repos/{o}/{r}/issues/{n}", get(get_issue))
        .route(
            "/repos/{o}/{r}/issues/{n}/comments",
            get(comments).post(add_comment),
        )
        .with_state(st.clone());
    serve(router, Arc::new(SinkState::default()), st).await
}

/// A fake Jira REST API (v2 search, create, comments) with project `SEC`.
pub(crate) async fn fake_jira(lose_creates: usize) -> Receiver {
    let st = Arc::new(TrackerState::default());
    st.lose_creates.store(lose_creates, Ordering::SeqCst);
    async fn search(State(st): State<Arc<TrackerState>>, uri: Uri) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let jql = query_param(&uri, "jql").unwrap_or_default();
        // `project = "SEC" AND labels = "tollgate-…"`
        let label = jql
            .rsplit("labels = \"")
            .next()
            .unwrap_or("")
            .trim_end_matches('"')
            .to_string();
        let issues = st.issues.lock().map(|i| i.clone()).unwrap_or_default();
        let found: Vec<serde_json::Value> = issues
            .iter()
            .filter(|i| i.labels.contains(&label))
            .map(|i| serde_json::json!({"key": i.id, "id": "1"}))
            .collect();
        json(serde_json::json!({"issues": found, "total": found.len()}))
    }
    async fn create(
        State(st): State<Arc<TrackerState>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        // Basic base64("bot@example.com:jira-token")
        let want = "Basic Ym90QGV4YW1wbGUuY29tOmppcmEtdG9rZW4=";
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want) {
            return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
        }
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let f = &v["fields"];
        if f["project"]["key"] != "SEC" || f["issuetype"]["name"] != "Task" {
            return (StatusCode::BAD_REQUEST, "bad project or type").into_response();
        }
        let key = {
            let mut issues = st.issues.lock().unwrap();
            let key = format!("SEC-{}", issues.len() + 1);
            issues.push(FakeIssue {
                id: key.clone(),
                title: f["summary"].as_str().unwrap_or("").into(),
                body: f["description"].as_str().unwrap_or("").into(),
                labels: f["labels"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|l| l.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                comments: vec![],
            });
            key
        };
        if lost(&st.lose_creates) {
            return (StatusCode::GATEWAY_TIMEOUT, "lost").into_response();
        }
        (
            StatusCode::CREATED,
            [("content-type", "application/json")],
            serde_json::json!({"key": key, "id": "1"}).to_string(),
        )
            .into_response()
    }
    async fn get_issue(State(st): State<Arc<TrackerState>>, Path(key): Path<String>) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let issues = st.issues.lock().map(|i| i.clone()).unwrap_or_default();
        match issues.iter().find(|i| i.id == key) {
            Some(i) => json(serde_json::json!({"key": i.id, "fields": {"description": i.body}})),
            None => (StatusCode::NOT_FOUND, "no").into_response(),
        }
    }
    async fn comments(State(st): State<Arc<TrackerState>>, Path(key): Path<String>) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let issues = st.issues.lock().map(|i| i.clone()).unwrap_or_default();
        let Some(i) = issues.iter().find(|i| i.id == key) else {
            return (StatusCode::NOT_FOUND, "no").into_response();
        };
        let items: Vec<serde_json::Value> = i
            .comments
            .iter()
            .map(|c| serde_json::json!({"body": c}))
            .collect();
        json(serde_json::json!({"comments": items, "total": items.len(), "startAt": 0}))
    }
    async fn add_comment(
        State(st): State<Arc<TrackerState>>,
        Path(key): Path<String>,
        body: Bytes,
    ) -> Response {
        st.requests.fetch_add(1, Ordering::SeqCst);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let mut issues = st.issues.lock().unwrap();
        let Some(i) = issues.iter_mut().find(|i| i.id == key) else {
            return (StatusCode::NOT_FOUND, "no").into_response();
        };
        i.comments.push(v["body"].as_str().unwrap_or("").into());
        (
            StatusCode::CREATED,
            [("content-type", "application/json")],
            "{}",
        )
            .into_response()
    }
    let router = Router::new()
        .route("/rest/api/2/search", get(search))
        .route("/rest/api/2/issue", post(create))
        .route("/rest/api/2/issue/{key}", get(get_issue))
        .route(
            "/rest/api/2/issue/{key}/comment",
            get(comments).post(add_comment),
        )
        .with_state(st.clone());
    serve(router, Arc::new(SinkState::default()), st).await
}
