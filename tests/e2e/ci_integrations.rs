//! The CI integrations, run for real: `tollgate github …` against a local HTTP server that plays
//! the GitHub REST API (checking each request's method, path, auth and body shape), the
//! composite `action.yml` executed step by step with a simulated `GITHUB_*` environment, the
//! GitLab component validated against GitLab's CI schema with its job scripts run, and the
//! Jenkins step's flags checked against `tollgate scan --help` and the step itself run by
//! `groovy` under `jenkins/test/harness.groovy` (mocked pipeline steps, the real binary).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use base64::Engine;
use serde_json::{Value, json};

use super::reports::{read_json, validate, xmllint};
use crate::support::{stderr, stderr_has, testimages, tollgate_cmd};

const TOKEN: &str = "test-token-123";
const REPO: &str = "acme/web";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    root().join(format!("engine/tests/fixtures/analysis/{name}.json"))
}

/// One request the fake API saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    body: Value,
}

#[derive(Default)]
struct Api {
    seen: Mutex<Vec<Seen>>,
    comments: Mutex<Vec<(u64, String)>>,
    sarif_polls: Mutex<u32>,
    /// Status forced for every request whose path contains the key.
    fail: Mutex<BTreeMap<String, u16>>,
}

async fn handle(
    State(api): State<Arc<Api>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let path = uri
        .path_and_query()
        .map_or(uri.path().to_string(), |p| p.as_str().to_string());
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    api.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
    });
    let reply = |code: u16, v: Value| (StatusCode::from_u16(code).unwrap(), axum::Json(v));
    if headers.get("authorization").and_then(|h| h.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return reply(401, json!({"message": "Bad credentials"}));
    }
    if headers.get("accept").and_then(|h| h.to_str().ok()) != Some("application/vnd.github+json") {
        return reply(415, json!({"message": "wrong Accept"}));
    }
    for (k, code) in api.fail.lock().unwrap().iter() {
        if path.contains(k.as_str()) {
            return reply(*code, json!({"message": format!("forced {code}")}));
        }
    }
    // The fake is mounted under `/api/v3` like GitHub Enterprise Server.
    let Some(p) = path.split('?').next().unwrap_or("").strip_prefix("/api/v3") else {
        return reply(404, json!({"message": "Not Found (outside /api/v3)"}));
    };
    let base = format!("/repos/{REPO}");
    let Some(rest) = p.strip_prefix(&base) else {
        return reply(404, json!({"message": "Not Found"}));
    };
    match (method.as_str(), rest) {
        ("POST", "/code-scanning/sarifs") => {
            let ok = body["commit_sha"] == SHA
                && body["ref"].as_str().is_some_and(|r| r.starts_with("refs/"))
                && body["sarif"].is_string();
            if !ok {
                return reply(422, json!({"message": "bad body"}));
            }
            reply(202, json!({"id": "up-1", "url": "http://x/up-1"}))
        }
        ("GET", "/code-scanning/sarifs/up-1") => {
            let mut n = api.sarif_polls.lock().unwrap();
            *n += 1;
            if *n < 2 {
                reply(200, json!({"processing_status": "pending"}))
            } else {
                reply(
                    200,
                    json!({"processing_status": "complete", "analyses_url": "http://x/a"}),
                )
            }
        }
        ("GET", r) if r.starts_with("/issues/7/comments") => {
            let list: Vec<Value> = api
                .comments
                .lock()
                .unwrap()
                .iter()
                .map(|(id, b)| json!({"id": id, "body": b}))
                .collect();
            reply(200, Value::Array(list))
        }
        ("POST", "/issues/7/comments") => {
            let mut c = api.comments.lock().unwrap();
            let id = 100 + c.len() as u64;
            c.push((id, body["body"].as_str().unwrap_or("").to_string()));
            reply(201, json!({"id": id}))
        }
        ("PATCH", r) if r.starts_with("/issues/comments/") => {
            let id: u64 = r
                .trim_start_matches("/issues/comments/")
                .parse()
                .unwrap_or(0);
            let mut c = api.comments.lock().unwrap();
            match c.iter_mut().find(|(i, _)| *i == id) {
                Some(entry) => {
                    entry.1 = body["body"].as_str().unwrap_or("").to_string();
                    reply(200, json!({"id": id}))
                }
                None => reply(404, json!({"message": "Not Found"})),
            }
        }
        ("POST", "/check-runs") => {
            let ok = body["head_sha"] == SHA
                && body["status"] == "completed"
                && body["output"]["summary"].is_string()
                && body["output"]["annotations"]
                    .as_array()
                    .is_some_and(|a| a.len() <= 50);
            if !ok {
                return reply(422, json!({"message": "bad check run"}));
            }
            reply(201, json!({"id": 55}))
        }
        ("PATCH", "/check-runs/55") => {
            let ok = body["output"]["annotations"]
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.len() <= 50);
            if !ok {
                return reply(422, json!({"message": "bad annotations"}));
            }
            reply(200, json!({"id": 55}))
        }
        _ => reply(404, json!({"message": "Not Found"})),
    }
}

/// The fake API on 127.0.0.1:0, stopped on drop.
struct FakeGithub {
    api: Arc<Api>,
    url: String,
    rt: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeGithub {
    fn start() -> FakeGithub {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let api = Arc::new(Api::default());
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/api/v3", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(handle).with_state(api.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        rt.spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeGithub {
            api,
            url,
            rt: Some(rt),
            stop: Some(tx),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.api.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}

fn gh(server: &FakeGithub, args: &[&str]) -> std::process::Output {
    let mut c = tollgate_cmd(args);
    c.env("GITHUB_API_URL", &server.url)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_REF", "refs/pull/7/merge")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_OUTPUT");
    c.output().unwrap()
}

fn sarif_of(fixture_name: &str, dir: &Path) -> PathBuf {
    let a: tollgate::analysis::Analysis =
        serde_json::from_str(&std::fs::read_to_string(fixture(fixture_name)).unwrap()).unwrap();
    let spec = tollgate::report::OutputSpec::parse("sarif").unwrap();
    let bytes = spec
        .render(&a, &tollgate::report::ReportOptions::default(), false)
        .unwrap();
    let p = dir.join("x.sarif");
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn github_api_calls_have_the_right_shape() {
    let server = FakeGithub::start();
    let dir = tempfile::tempdir().unwrap();
    let sarif = sarif_of("debian-app", dir.path());

    // SARIF upload: gzip + base64, category rewritten, polled until complete.
    let r = gh(
        &server,
        &[
            "github",
            "upload-sarif",
            "--sarif",
            sarif.to_str().unwrap(),
            "--category",
            "container/web",
            "--poll-interval",
            "0",
        ],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let seen = server.seen();
    let post = seen
        .iter()
        .find(|s| s.method == "POST" && s.path == "/api/v3/repos/acme/web/code-scanning/sarifs")
        .expect("upload request");
    assert_eq!(post.body["ref"], "refs/pull/7/merge");
    let gz = base64::engine::general_purpose::STANDARD
        .decode(post.body["sarif"].as_str().unwrap())
        .unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    let uploaded: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(uploaded["version"], "2.1.0");
    assert_eq!(
        uploaded["runs"][0]["automationDetails"]["id"],
        "container/web/"
    );
    let polls = seen
        .iter()
        .filter(|s| s.method == "GET" && s.path.ends_with("/code-scanning/sarifs/up-1"))
        .count();
    assert_eq!(polls, 2, "polled until complete");

    // Sticky comment: created once, then updated in place.
    let md = dir.path().join("c.md");
    std::fs::write(&md, "first body").unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"pull_request":{"number":7}}"#).unwrap();
    for body in ["first body", "second body"] {
        std::fs::write(&md, body).unwrap();
        let mut c = tollgate_cmd(&["github", "comment", "--body", md.to_str().unwrap()]);
        c.env("GITHUB_API_URL", &server.url)
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_REF", "refs/heads/feature")
            .env("GITHUB_EVENT_PATH", &event);
        let r = c.output().unwrap();
        assert!(r.status.success(), "{}", stderr(&r));
    }
    let comments = server.api.comments.lock().unwrap().clone();
    assert_eq!(comments.len(), 1, "one sticky comment: {comments:?}");
    assert!(comments[0].1.contains("second body"));
    assert!(comments[0].1.contains("<!-- tollgate-comment:tollgate -->"));

    // Check run: more than 50 annotations go out in a POST plus PATCHes of at most 50.
    let mut a = read_json(&fixture("debian-app"));
    let template = a["matches"][0].clone();
    let many: Vec<Value> = (0..120)
        .map(|i| {
            let mut m = template.clone();
            m["vulnerability"]["id"] = json!(format!("CVE-2099-{i:04}"));
            m
        })
        .collect();
    a["matches"] = Value::Array(many);
    let analysis = dir.path().join("a.json");
    std::fs::write(&analysis, a.to_string()).unwrap();
    let r = gh(
        &server,
        &[
            "github",
            "check-run",
            "--analysis",
            analysis.to_str().unwrap(),
            "--fail-on",
            "high",
        ],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let seen = server.seen();
    let create = seen
        .iter()
        .find(|s| s.method == "POST" && s.path.ends_with("/check-runs"))
        .unwrap();
    assert_eq!(create.body["conclusion"], "failure");
    assert_eq!(create.body["name"], "Tollgate");
    let total: usize = seen
        .iter()
        .filter(|s| s.path.contains("/check-runs"))
        .map(|s| s.body["output"]["annotations"].as_array().unwrap().len())
        .sum();
    // 120 critical matches + 1 STOP + 1 WARN policy hit.
    assert_eq!(total, 122);
    let patches = seen
        .iter()
        .filter(|s| s.method == "PATCH" && s.path.ends_with("/check-runs/55"))
        .count();
    assert_eq!(patches, 2);
}

#[test]
fn github_api_errors_exit_2_with_a_clear_message() {
    let server = FakeGithub::start();
    let dir = tempfile::tempdir().unwrap();
    let sarif = sarif_of("clean", dir.path());
    server
        .api
        .fail
        .lock()
        .unwrap()
        .insert("code-scanning".into(), 503);
    let r = gh(
        &server,
        &["github", "upload-sarif", "--sarif", sarif.to_str().unwrap()],
    );
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(
        stderr_has(&r, "returned HTTP 503: forced 503"),
        "{}",
        stderr(&r)
    );
    assert!(!stderr(&r).contains(TOKEN), "the token never appears");

    server
        .api
        .fail
        .lock()
        .unwrap()
        .insert("check-runs".into(), 403);
    let r = gh(
        &server,
        &[
            "github",
            "check-run",
            "--analysis",
            fixture("clean").to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr_has(&r, "checks: write"), "{}", stderr(&r));

    // A bad token is a 401 from the server, reported as such.
    let mut c = tollgate_cmd(&["github", "upload-sarif", "--sarif", sarif.to_str().unwrap()]);
    c.env("GITHUB_API_URL", &server.url)
        .env("GITHUB_TOKEN", "wrong")
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_REF", "refs/heads/main");
    server.api.fail.lock().unwrap().clear();
    let r = c.output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr_has(&r, "HTTP 401"), "{}", stderr(&r));
    // Missing settings are named.
    let r = tollgate_cmd(&["github", "upload-sarif", "--sarif", sarif.to_str().unwrap()])
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_REF")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr_has(&r, "GITHUB_SHA"), "{}", stderr(&r));
}

/// Loads a YAML file as JSON.
fn yaml(path: &Path) -> Value {
    yaml_serde::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Evaluates the `${{ … }}` expressions the action uses; anything else fails the test.
fn expand(s: &str, ctx: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 3..];
        let j = after.find("}}").expect("unclosed expression");
        let expr = after[..j].trim();
        let v = ctx.get(expr).unwrap_or_else(|| {
            panic!("action.yml uses an expression the test does not know: {expr}")
        });
        out.push_str(v);
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

fn parse_outputs(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// Runs the composite action's steps in order, like the runner does; returns the action outputs
/// and the exit status of the first failing step (or 0).
fn run_action(
    inputs: &BTreeMap<&str, String>,
    env: &BTreeMap<&str, String>,
    work: &Path,
) -> (BTreeMap<String, String>, i32, String) {
    let action = yaml(&root().join("action.yml"));
    let mut ctx: BTreeMap<String, String> = BTreeMap::new();
    for (name, spec) in action["inputs"].as_object().unwrap() {
        let v = inputs
            .get(name.as_str())
            .cloned()
            .unwrap_or_else(|| spec["default"].as_str().unwrap_or("").to_string());
        ctx.insert(format!("inputs.{name}"), v);
    }
    ctx.insert("github.action_path".into(), root().display().to_string());
    ctx.insert("github.token".into(), TOKEN.into());
    // Inputs' defaults may themselves be expressions (`${{ github.token }}`).
    let snapshot = ctx.clone();
    for v in ctx.values_mut() {
        *v = expand(v, &snapshot);
    }
    let mut log = String::new();
    for step in action["runs"]["steps"].as_array().unwrap() {
        let id = step["id"].as_str().unwrap();
        assert_eq!(step["shell"], "bash");
        let script = step["run"].as_str().unwrap();
        assert!(
            !script.contains("${{"),
            "step {id}: expressions only in env:"
        );
        let out_file = work.join(format!("out-{id}"));
        let mut c = std::process::Command::new("bash");
        c.arg("-e").arg("-c").arg(script).current_dir(work);
        c.env("GITHUB_OUTPUT", &out_file).env("RUNNER_TEMP", work);
        for (k, v) in env {
            c.env(k, v);
        }
        if let Some(e) = step["env"].as_object() {
            for (k, v) in e {
                c.env(k, expand(v.as_str().unwrap(), &ctx));
            }
        }
        let o = c.output().unwrap();
        log.push_str(&String::from_utf8_lossy(&o.stdout));
        log.push_str(&String::from_utf8_lossy(&o.stderr));
        for (k, v) in parse_outputs(&out_file) {
            ctx.insert(format!("steps.{id}.outputs.{k}"), v);
        }
        if !o.status.success() {
            let outputs = action_outputs(&action, &ctx);
            return (outputs, o.status.code().unwrap_or(-1), log);
        }
    }
    (action_outputs(&action, &ctx), 0, log)
}

fn action_outputs(action: &Value, ctx: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    action["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let expr = v["value"].as_str().unwrap();
            let inner = expr
                .trim()
                .trim_start_matches("${{")
                .trim_end_matches("}}")
                .trim();
            (k.clone(), ctx.get(inner).cloned().unwrap_or_default())
        })
        .collect()
}

fn sha256_of(path: &Path) -> String {
    let o = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn action_yml_is_valid_and_its_steps_run() {
    let action = yaml(&root().join("action.yml"));
    validate("schemastore/github-action.json", &action);
    for input in [
        "image",
        "policy",
        "fail-build",
        "severity-cutoff",
        "output-formats",
        "sarif-file",
        "dockerfile",
        "registry-username",
        "registry-password",
        "db-url",
        "vex",
        "only-fixed",
        "summary",
        "comment-pr",
    ] {
        assert!(action["inputs"].get(input).is_some(), "input {input}");
    }
    for output in ["decision", "sarif", "json", "critical", "high", "total"] {
        assert!(action["outputs"].get(output).is_some(), "output {output}");
    }

    let Some(img) = testimages("debian-py-node") else {
        return;
    };
    let server = FakeGithub::start();
    let work = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_tollgate"));
    let event = work.path().join("event.json");
    std::fs::write(&event, r#"{"pull_request":{"number":7}}"#).unwrap();
    let summary = work.path().join("summary.md");
    let env: BTreeMap<&str, String> = [
        ("GITHUB_API_URL", server.url.clone()),
        ("GITHUB_REPOSITORY", REPO.to_string()),
        ("GITHUB_SHA", SHA.to_string()),
        ("GITHUB_REF", "refs/pull/7/merge".to_string()),
        ("GITHUB_EVENT_NAME", "pull_request".to_string()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("NO_COLOR", "1".to_string()),
    ]
    .into_iter()
    .collect();
    let mut inputs: BTreeMap<&str, String> = [
        ("image", format!("oci-dir:{}", img.join("oci").display())),
        ("binary-url", format!("file://{}", bin.display())),
        ("binary-sha256", sha256_of(&bin)),
        ("severity-cutoff", "critical".to_string()),
        (
            "sarif-file",
            work.path().join("r.sarif").display().to_string(),
        ),
        (
            "output-formats",
            format!("junit={}", work.path().join("j.xml").display()),
        ),
        ("comment-pr", "true".to_string()),
        ("upload-sarif", "true".to_string()),
        ("check-run", "true".to_string()),
    ]
    .into_iter()
    .collect();
    let (outputs, code, log) = run_action(&inputs, &env, work.path());
    // The shared image fails the default policy: the gate step fails the build.
    assert_eq!(outputs["decision"], "fail", "{log}");
    assert_eq!(code, 1, "{log}");
    assert_eq!(outputs["exit-code"], "1");
    assert_eq!(outputs["binary-sha256"], sha256_of(&bin));
    assert!(outputs["total"].parse::<usize>().unwrap() > 0);
    validate(
        "sarif/sarif-schema-2.1.0.json",
        &read_json(Path::new(&outputs["sarif"])),
    );
    xmllint(&work.path().join("j.xml"));
    let json = read_json(Path::new(&outputs["json"]));
    assert!(json["inventory"]["packages"].as_array().unwrap().len() > 10);
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("## Tollgate")
    );
    let seen = server.seen();
    for (m, p) in [
        ("POST", "/code-scanning/sarifs"),
        ("POST", "/issues/7/comments"),
        ("POST", "/check-runs"),
    ] {
        assert!(
            seen.iter().any(|s| s.method == m && s.path.ends_with(p)),
            "{m} {p} not called: {seen:?}\n{log}"
        );
    }

    // fail-build: false keeps the step green but the decision output says fail.
    inputs.insert("fail-build", "false".into());
    inputs.insert("comment-pr", "false".into());
    inputs.insert("upload-sarif", "false".into());
    inputs.insert("check-run", "false".into());
    let (outputs, code, log) = run_action(&inputs, &env, work.path());
    assert_eq!((code, outputs["decision"].as_str()), (0, "fail"), "{log}");

    // A wrong checksum stops at the install step.
    inputs.insert("binary-sha256", "0".repeat(64));
    let (_, code, log) = run_action(&inputs, &env, work.path());
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("checksum mismatch"), "{log}");
}

/// Splits a component file into its `spec:` header and its jobs.
fn component_docs(path: &Path) -> (Value, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let (head, jobs) = text.split_once("\n---\n").expect("spec header and `---`");
    let spec: Value = yaml_serde::from_str(head).unwrap();
    (spec, jobs.to_string())
}

#[test]
fn gitlab_component_validates_and_its_jobs_run() {
    let path = root().join("templates/tollgate.yml");
    let (spec, jobs_text) = component_docs(&path);
    validate("gitlab-ci/gitlab-ci.json", &spec);
    let example = yaml(&root().join("gitlab/example.gitlab-ci.yml"));
    validate("gitlab-ci/gitlab-ci.json", &example);
    let inputs = spec["spec"]["inputs"].as_object().unwrap();
    for i in ["image", "policy", "fail_on", "stage", "formats"] {
        assert!(inputs.contains_key(i), "input {i}");
    }

    let Some(img) = testimages("debian-py-node") else {
        return;
    };
    // Interpolate `$[[ inputs.x ]]` like GitLab does, then validate the jobs.
    let mut values: BTreeMap<String, String> = inputs
        .iter()
        .map(|(k, v)| {
            let d = match &v["default"] {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), d)
        })
        .collect();
    values.insert(
        "image".into(),
        format!("oci-dir:{}", img.join("oci").display()),
    );
    values.insert("fail_on".into(), "critical".into());
    values.insert("dockerfile".into(), "Dockerfile".into());
    let mut jobs_yaml = jobs_text.clone();
    for (k, v) in &values {
        jobs_yaml = jobs_yaml.replace(&format!("$[[ inputs.{k} ]]"), v);
    }
    assert!(!jobs_yaml.contains("$[["), "every input interpolated");
    let jobs: Value = yaml_serde::from_str(&jobs_yaml).unwrap();
    validate("gitlab-ci/gitlab-ci.json", &jobs);
    let scan = &jobs["tollgate-scan"];
    let gate = &jobs["tollgate-gate"];
    assert_eq!(
        scan["artifacts"]["reports"]["container_scanning"],
        "gl-container-scanning-report.json"
    );
    assert_eq!(scan["artifacts"]["when"], "always");

    // Run the jobs' scripts with `tollgate` on PATH and the job variables set.
    let work = tempfile::tempdir().unwrap();
    // The checked-out repository's Dockerfile (every image layer maps to its FROM line).
    std::fs::write(
        work.path().join("Dockerfile"),
        "FROM debian:12\nCOPY app /app\n",
    )
    .unwrap();
    let bindir = work.path().join("bin");
    std::fs::create_dir_all(&bindir).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tollgate"), bindir.join("tollgate")).unwrap();
    let path_env = format!(
        "{}:{}",
        bindir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run_job = |job: &Value| -> std::process::Output {
        let script: Vec<&str> = job["script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let mut c = std::process::Command::new("sh");
        c.arg("-c")
            .arg(script.join("\n"))
            .current_dir(work.path())
            .env("PATH", &path_env)
            .env("NO_COLOR", "1");
        if let Some(vars) = job["variables"].as_object() {
            for (k, v) in vars {
                c.env(k, v.as_str().unwrap());
            }
        }
        c.output().unwrap()
    };
    let o = run_job(scan);
    assert!(o.status.success(), "scan job must succeed: {}", stderr(&o));
    for p in scan["artifacts"]["paths"].as_array().unwrap() {
        assert!(work.path().join(p.as_str().unwrap()).exists(), "{p}");
    }
    let gl = read_json(&work.path().join("gl-container-scanning-report.json"));
    validate("gitlab/container-scanning-report-format-15.2.1.json", &gl);
    // GitLab ingests CycloneDX 1.4/1.5: the component asks for 1.5.
    let cdx = read_json(&work.path().join("gl-sbom-tollgate.cdx.json"));
    assert_eq!(cdx["specVersion"], "1.5");
    super::reports::validate_cyclonedx("1.5", &cdx);
    // With the Dockerfile, fixable OS-package findings get a patch that `git apply` accepts.
    let fixable_os = gl["vulnerabilities"].as_array().unwrap().iter().any(|v| {
        v["solution"].as_str().unwrap_or("").starts_with("Upgrade ")
            && matches!(
                v["details"]["package_type"]["value"].as_str(),
                Some("deb" | "apk" | "rpm")
            )
    });
    let rems = gl["remediations"].as_array().unwrap();
    assert_eq!(!rems.is_empty(), fixable_os, "{rems:?}");
    if let Some(r) = rems.first() {
        let diff = base64::engine::general_purpose::STANDARD
            .decode(r["diff"].as_str().unwrap())
            .unwrap();
        std::fs::write(work.path().join("fix.patch"), diff).unwrap();
        let applied = std::process::Command::new("git")
            .args(["apply", "--check", "fix.patch"])
            .current_dir(work.path())
            .status();
        if let Ok(status) = applied {
            assert!(status.success(), "the remediation patch applies");
        }
    }
    xmllint(&work.path().join("tollgate-junit.xml"));
    let o = run_job(gate);
    assert_eq!(o.status.code(), Some(1), "gate job fails the pipeline");
    assert!(String::from_utf8_lossy(&o.stdout).contains("failed the gate"));
}

#[test]
fn jenkins_step_uses_only_existing_scan_flags() {
    let groovy = std::fs::read_to_string(root().join("jenkins/vars/tollgateScan.groovy")).unwrap();
    let help = tollgate_cmd(&["scan", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut flags = 0;
    for part in groovy.split('\'').skip(1).step_by(2) {
        if part.starts_with("--") {
            flags += 1;
            assert!(
                help.contains(part),
                "jenkins uses `{part}`, unknown to `tollgate scan`"
            );
        }
    }
    assert!(flags >= 5, "found {flags} flags");
    for fmt in ["json=", "junit=", "sarif=", "markdown="] {
        assert!(groovy.contains(fmt));
    }
    assert!(groovy.contains("archiveArtifacts"));
    assert!(groovy.contains("junit("));
    assert!(groovy.contains("unstable("));
    assert!(groovy.contains("error("));
}

/// A `JAVA_HOME` that works for Debian's `groovy` launcher: `$JAVA_HOME` when it holds
/// `bin/java`, else the directory the `java` on `PATH` resolves into.
fn java_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("JAVA_HOME").map(PathBuf::from)
        && h.join("bin/java").is_file()
    {
        return Some(h);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("java"))
        .find(|j| j.is_file())
        .and_then(|j| std::fs::canonicalize(j).ok())
        .and_then(|j| j.parent()?.parent().map(Path::to_path_buf))
}

/// Runs the Jenkins step under the Groovy harness; `None` (with the reason printed) when
/// `groovy` or a JRE is not installed.
fn run_jenkins_step(workdir: &Path, args: &Value) -> Option<Value> {
    // CI installs groovy (scripts/test): there the step must run, not skip.
    let in_ci = std::env::var("CI").as_deref() == Ok("true");
    let Some(home) = java_home() else {
        assert!(
            !in_ci,
            "no Java runtime under CI=true (scripts/test installs groovy)"
        );
        eprintln!("skipping the Jenkins step run: no Java runtime (apt-get install groovy)");
        return None;
    };
    let out = match std::process::Command::new("groovy")
        .env("JAVA_HOME", &home)
        .arg(root().join("jenkins/test/harness.groovy"))
        .arg(root().join("jenkins/vars/tollgateScan.groovy"))
        .arg(workdir)
        .arg(args.to_string())
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert!(!in_ci, "groovy not runnable under CI=true: {e}");
            eprintln!(
                "skipping the Jenkins step run: groovy not available ({e}; apt-get install groovy)"
            );
            return None;
        }
    };
    assert!(
        out.status.success(),
        "harness failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap();
    Some(serde_json::from_str(line).unwrap())
}

#[test]
fn jenkins_step_maps_policy_actions_to_build_results() {
    let Some(img) = testimages("distroless-like") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let bundle = |action: &str| {
        json!({
            "id": format!("always-{action}"),
            "version": "1_0",
            "policies": [{"id": "p", "version": "1_0", "rules": [
                {"id": "r1", "gate": "always", "trigger": "always", "action": action, "params": []}
            ]}],
            "whitelists": [],
            "mappings": [{"name": "all", "registry": "*", "repository": "*",
                "image": {"type": "tag", "value": "*"}, "policy_ids": ["p"], "whitelist_ids": []}]
        })
    };
    let image = format!("oci-dir:{}", img.join("oci").display());
    let cases = [
        ("STOP", json!({}), "FAILURE"),
        ("STOP", json!({"stopResult": "UNSTABLE"}), "UNSTABLE"),
        ("WARN", json!({}), "UNSTABLE"),
        ("GO", json!({}), "SUCCESS"),
    ];
    for (i, (action, extra, expected)) in cases.iter().enumerate() {
        let policy = format!("policy-{i}.json");
        std::fs::write(work.path().join(&policy), bundle(action).to_string()).unwrap();
        let mut args = json!({
            "image": image,
            "tollgate": env!("CARGO_BIN_EXE_tollgate"),
            "policy": policy,
            "reportDir": format!("reports-{i}"),
        });
        for (k, v) in extra.as_object().unwrap() {
            args[k] = v.clone();
        }
        let Some(r) = run_jenkins_step(work.path(), &args) else {
            return;
        };
        assert_eq!(r["result"], *expected, "{action} {extra}: {r:#}");
        // Reports are archived and JUnit published whatever the decision.
        let archived: Vec<&str> = r["archivedFiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for f in ["analysis.json", "junit.xml", "tollgate.sarif", "summary.md"] {
            let p = format!("reports-{i}/{f}");
            assert!(
                archived.contains(&p.as_str()),
                "{p} not archived: {archived:?}"
            );
        }
        assert_eq!(r["junit"].as_array().unwrap().len(), 1, "{r:#}");
        assert_eq!(
            r["junit"][0]["testResults"],
            format!("reports-{i}/junit.xml")
        );
        xmllint(&work.path().join(format!("reports-{i}/junit.xml")));
        match (*action, *expected) {
            ("STOP", "FAILURE") => {
                assert!(
                    r["error"].as_str().unwrap().contains("failed the gate"),
                    "{r:#}"
                );
                assert!(r["returned"].is_null());
            }
            ("STOP", _) => assert_eq!(r["returned"]["exitCode"], 1),
            ("WARN", _) => {
                assert!(r["error"].is_null());
                assert_eq!(r["returned"]["warn"], true);
                assert_eq!(r["returned"]["decision"], "pass");
            }
            _ => {
                assert!(r["error"].is_null());
                assert!(r["unstable"].as_array().unwrap().is_empty());
                assert_eq!(r["returned"]["decision"], "pass");
            }
        }
    }
}
