//! Delivery against local receivers: well-behaved, flaky, slow, rate-limited (429 +
//! Retry-After), connection-closing, and fake Jira/GitHub APIs that lose responses. After
//! several runs every finding must have been accepted exactly once per channel, and no tracker
//! may hold two issues for one group.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use crate::types::Severity;
use crate::watch::channel::sign;
use crate::watch::config::{SecretMode, WatchConfig};
use crate::watch::deliver::{deliver_all, http_client};
use crate::watch::finding::{AffectedPackage, Finding, ImageRef, VulnInfo};
use crate::watch::outbox::Outbox;
use crate::watch::receivers::{self, Behavior};
use crate::watch::rescan::{Baseline, RunContext, decide};

fn env_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(yaml: &str, env: &HashMap<String, String>) -> WatchConfig {
    WatchConfig::parse(
        yaml,
        Path::new("test.yaml"),
        &|k| env.get(k).cloned(),
        SecretMode::Require,
    )
    .unwrap()
}

fn matches_for(run: usize, image: usize) -> Vec<crate::matcher::Match> {
    // Run r reveals vulnerabilities CVE-<r>-<i> for i in 0..3 on every image, severities
    // cycling so filters see a mix.
    (0..3)
        .map(|i| crate::matcher::Match {
            vulnerability: crate::matcher::Vulnerability {
                id: format!("CVE-2099-{run}{i:03}"),
                severity: Severity::ALL[2 + (i + image) % 4],
                summary: format!("bug {run}/{i}"),
                ..Default::default()
            },
            package_name: format!("pkg{i}"),
            package_version: "1.0".into(),
            package_type: "npm".into(),
            ..Default::default()
        })
        .collect()
}

fn image(i: usize) -> ImageRef {
    ImageRef {
        key: format!("sha256:{i:064}"),
        reference: Some(format!("registry.test/team/app{i}:1.0")),
        ..Default::default()
    }
}

/// One watch run over `images` images: current matches = everything revealed so far.
fn enqueue_run(outbox: &Outbox, cfg: &WatchConfig, run: usize, images: usize) -> usize {
    let mut queued = 0;
    for i in 0..images {
        let current: Vec<_> = (0..=run).flat_map(|r| matches_for(r, i)).collect();
        let state = outbox.image_state(&image(i).key).unwrap();
        let baseline = Baseline {
            scanned: Baseline::ids_of(&matches_for(0, i)),
            exists: true,
            ..Default::default()
        };
        let mut out = Vec::new();
        let ctx = RunContext {
            channels: &cfg.channels,
            detected_at: "2099-01-01T00:00:00Z",
            db: None,
        };
        let (changes, _) = decide(&ctx, &image(i), &state, &baseline, &current, &mut out);
        queued += outbox.apply(&changes).unwrap();
    }
    queued
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_finding_is_delivered_exactly_once_per_channel_over_runs() {
    let good = receivers::sink(Behavior::Good).await;
    let flaky = receivers::sink(Behavior::Flaky { every: 3 }).await;
    let slow = receivers::sink(Behavior::Slow(Duration::from_millis(150))).await;
    let closing = receivers::closing_sink(2).await;
    let slack = receivers::sink(Behavior::Good).await;
    let teams = receivers::sink(Behavior::Flaky { every: 2 }).await;
    let github = receivers::fake_github(1, 1).await;
    let jira = receivers::fake_jira(1).await;
    let env = env_map(&[
        ("HOOK_SECRET", "s3cret"),
        ("SLACK_URL", &slack.url("/services/T/B/xyz")),
        ("GH_TOKEN", "gh-token"),
        ("JIRA_USER", "bot@example.com"),
        ("JIRA_TOKEN", "jira-token"),
    ]);
    let yaml = format!(
        r#"
ignore: [{{vulnerability: CVE-1}}]
notifications:
  delivery: {{max_attempts: 2, initial_backoff_ms: 5, max_backoff_ms: 20, timeout_secs: 5}}
  channels:
    - {{name: good, type: webhook, url: "{}", secret_env: HOOK_SECRET}}
    - {{name: flaky, type: webhook, url: "{}"}}
    - {{name: slow, type: webhook, url: "{}", min_severity: high}}
    - {{name: closing, type: webhook, url: "{}"}}
    - {{name: chat, type: slack, url_env: SLACK_URL}}
    - {{name: teams, type: teams, url: "{}"}}
    - {{name: gh, type: github, repository: acme/app, api_url: "{}", token_env: GH_TOKEN, labels: [security]}}
    - {{name: jira, type: jira, url: "{}", project: SEC, issue_type: Task, user_env: JIRA_USER, token_env: JIRA_TOKEN, group_by: vulnerability}}
"#,
        good.url("/hook"),
        flaky.url("/hook"),
        slow.url("/hook"),
        closing.url("/hook"),
        teams.url("/teams"),
        github.url(""),
        jira.url(""),
    );
    let cfg = load(&yaml, &env);
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    let http = http_client(&cfg.delivery).unwrap();
    let images = 4;
    let runs = 4;
    for run in 1..=runs {
        enqueue_run(&outbox, &cfg, run, images);
        // Failures are allowed in a run; what matters is the end state.
        let _ = deliver_all(&outbox, &cfg, &http).await.unwrap();
    }
    // A final drain run with nothing new.
    let report = deliver_all(&outbox, &cfg, &http).await.unwrap();
    let report = report.into_result().unwrap();
    assert!(report.channels.iter().all(|c| c.pending == 0), "{report:?}");

    // Expected keys per channel: runs 1..=runs, 3 vulns each, every image (run 0 is baseline).
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in &cfg.channels {
        let mut keys = Vec::new();
        for i in 0..images {
            for r in 1..=runs {
                for m in matches_for(r, i) {
                    let f = Finding {
                        image: image(i),
                        vulnerability: VulnInfo {
                            id: m.vulnerability.id.clone(),
                            severity: m.vulnerability.severity,
                            ..Default::default()
                        },
                        packages: vec![AffectedPackage::default()],
                        ..Default::default()
                    };
                    if c.filter.accepts(&f) {
                        keys.push(crate::watch::idempotency_key(
                            &image(i).key,
                            &m.vulnerability.id,
                            &c.name,
                        ));
                    }
                }
            }
        }
        keys.sort();
        expected.insert(c.name.as_str(), keys);
    }
    for (name, recv) in [
        ("good", &good),
        ("flaky", &flaky),
        ("slow", &slow),
        ("closing", &closing),
    ] {
        let mut got = recv.keys();
        got.sort();
        assert_eq!(
            got, expected[name],
            "channel {name}: every key exactly once"
        );
    }
    assert!(
        expected["slow"].len() < expected["good"].len(),
        "the severity filter dropped some"
    );
    // The flaky and closing receivers really failed some requests.
    assert!(flaky.requests() > flaky.keys().len());
    assert!(closing.requests() > closing.keys().len());

    // Signatures verify with the shared secret; unsigned channels send no signature; every
    // body validates against the documented schema.
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/webhook.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for a in good.accepted() {
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let ts: i64 = a.headers["x-tollgate-timestamp"].parse().unwrap();
        assert_eq!(
            a.headers["x-tollgate-signature-256"],
            sign(b"s3cret", ts, &a.body)
        );
        let body: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(
            body["idempotency_key"],
            a.headers["idempotency-key"].as_str()
        );
        assert_eq!(body["event"], "vulnerability.new");
    }
    assert!(
        flaky
            .accepted()
            .iter()
            .all(|a| !a.headers.contains_key("x-tollgate-signature-256"))
    );

    // Slack: one message per image per run (3 findings each), every vuln id mentioned once.
    let slack_msgs = slack.accepted();
    assert_eq!(slack_msgs.len(), images * runs);
    let all_text: String = slack_msgs
        .iter()
        .map(|a| String::from_utf8_lossy(&a.body).to_string())
        .collect();
    for r in 1..=runs {
        for i in 0..3 {
            let id = format!("CVE-2099-{r}{i:03}");
            assert_eq!(all_text.matches(&format!("|{id}>")).count(), images, "{id}");
        }
    }
    // Teams (flaky every 2nd request): everything arrived, and each card at most once.
    let teams_text: Vec<String> = teams
        .accepted()
        .iter()
        .map(|a| String::from_utf8_lossy(&a.body).to_string())
        .collect();
    assert_eq!(teams_text.len(), images * runs);

    // GitHub: one issue per image, never two, although the first create response was lost;
    // later runs comment; every key appears exactly once across body + comments.
    let gh_issues = github.issues();
    assert_eq!(gh_issues.len(), images, "{gh_issues:#?}");
    for issue in &gh_issues {
        assert!(issue.labels.contains(&"security".to_string()));
        assert!(
            issue
                .title
                .starts_with("Tollgate: new vulnerabilities in registry.test/team/app")
        );
    }
    let gh_text: String = gh_issues
        .iter()
        .map(|i| format!("{}\n{}", i.body, i.comments.join("\n")))
        .collect();
    for k in &expected["gh"] {
        assert_eq!(
            gh_text.matches(k.as_str()).count(),
            1,
            "key {k} in github issues"
        );
    }
    // Jira, one issue per vulnerability: every vuln id has exactly one issue.
    let jira_issues = jira.issues();
    let vulns: usize = runs * 3;
    assert_eq!(
        jira_issues.len(),
        vulns,
        "{:#?}",
        jira_issues.iter().map(|i| &i.title).collect::<Vec<_>>()
    );
    let jira_text: String = jira_issues
        .iter()
        .map(|i| format!("{}\n{}", i.body, i.comments.join("\n")))
        .collect();
    for k in &expected["jira"] {
        assert_eq!(
            jira_text.matches(k.as_str()).count(),
            1,
            "key {k} in jira issues"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_waited_for_within_a_run() {
    let rl = receivers::sink(Behavior::RateLimited { secs: 1, times: 1 }).await;
    let cfg = load(
        &format!(
            "notifications:\n  delivery: {{max_attempts: 3, initial_backoff_ms: 1, max_backoff_ms: 2}}\n  channels:\n    - {{name: rl, type: webhook, url: '{}'}}\n",
            rl.url("/")
        ),
        &HashMap::new(),
    );
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    enqueue_run(&outbox, &cfg, 1, 1);
    let started = std::time::Instant::now();
    let report = deliver_all(&outbox, &cfg, &http_client(&cfg.delivery).unwrap())
        .await
        .unwrap()
        .into_result()
        .unwrap();
    // The 1 s Retry-After was honoured rather than the 1 ms backoff.
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(report.delivered(), 3);
    assert_eq!(rl.keys().len(), 3);
    assert_eq!(rl.requests(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_retry_after_defers_the_channel_to_a_later_run() {
    let rl = receivers::sink(Behavior::RateLimited {
        secs: 3600,
        times: 100,
    })
    .await;
    let cfg = load(
        &format!(
            "notifications:\n  delivery: {{max_retry_after_secs: 5}}\n  channels:\n    - {{name: rl, type: webhook, url: '{}'}}\n",
            rl.url("/")
        ),
        &HashMap::new(),
    );
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    enqueue_run(&outbox, &cfg, 1, 2);
    let http = http_client(&cfg.delivery).unwrap();
    let err = deliver_all(&outbox, &cfg, &http)
        .await
        .unwrap()
        .into_result()
        .unwrap_err();
    assert!(
        matches!(
            err,
            crate::watch::WatchError::DeliveryFailed { failed: 6, .. }
        ),
        "{err:?}"
    );
    // One request, then the channel stopped for this run; the rows are not due for an hour.
    assert_eq!(rl.requests(), 1);
    let again = deliver_all(&outbox, &cfg, &http).await.unwrap();
    assert_eq!(rl.requests(), 1);
    assert_eq!(again.channels[0].pending, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_retried_and_errors_never_show_the_url() {
    // A receiver slower than the timeout: every attempt times out.
    let slow = receivers::sink(Behavior::Slow(Duration::from_secs(3))).await;
    let url = slow.url("/services/T000/B000/SECRETPATH");
    let env = env_map(&[("URL", &url)]);
    let cfg = load(
        "notifications:\n  delivery: {max_attempts: 2, initial_backoff_ms: 1, max_backoff_ms: 2, timeout_secs: 1, max_consecutive_failures: 1}\n  channels:\n    - {name: s, type: slack, url_env: URL}\n",
        &env,
    );
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    enqueue_run(&outbox, &cfg, 1, 2);
    let err = deliver_all(&outbox, &cfg, &http_client(&cfg.delivery).unwrap())
        .await
        .unwrap()
        .into_result()
        .unwrap_err();
    let plain = format!("{err} {err:?}");
    let shown = format!("{plain} {:?}", miette::Report::new(err));
    assert!(shown.contains("timed out"), "{shown}");
    assert!(!shown.contains("SECRETPATH"), "{shown}");
    assert_eq!(slow.requests(), 2, "two attempts, then the channel stopped");
    // Nothing lost: all rows still pending.
    assert_eq!(outbox.pending_count("s").unwrap(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_do_not_retry_in_run_but_stay_queued() {
    let gh = receivers::fake_github(0, 0).await;
    let env = env_map(&[("T", "wrong-token")]);
    let cfg = load(
        &format!(
            "notifications:\n  delivery: {{max_attempts: 5, max_consecutive_failures: 2}}\n  channels:\n    - {{name: gh, type: github, repository: a/b, api_url: '{}', token_env: T}}\n",
            gh.url("")
        ),
        &env,
    );
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    enqueue_run(&outbox, &cfg, 1, 3);
    let report = deliver_all(&outbox, &cfg, &http_client(&cfg.delivery).unwrap())
        .await
        .unwrap();
    let c = &report.channels[0];
    assert_eq!(
        c.failed_attempts, 2,
        "401 is not retried; two groups failed, then stop"
    );
    assert!(c.stopped_early);
    assert!(c.last_error.as_deref().unwrap_or("").contains("HTTP 401"));
    assert!(
        !c.last_error
            .as_deref()
            .unwrap_or("")
            .contains("wrong-token")
    );
    assert_eq!(c.pending, 9);
    assert!(gh.issues().is_empty());
}
