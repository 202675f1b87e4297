//! `watch::attach` against a scripted OCI 1.1 registry on 127.0.0.1 that implements the
//! referrers API (Debian's distribution 2.8 does not, so the e2e test covers the tag schema):
//! push answers `OCI-Subject`, import reads `/referrers/`, the tag schema is never touched;
//! plus 401 and 5xx answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::analysis::Analysis;
use crate::catalog::{Distro, Inventory, Package, PackageType};
use crate::image::{LoadOptions, Reference, SourceInfo};
use crate::watch::attach::{AttachError, AttachedVia, attach_sbom, import_sbom};

#[derive(Default)]
struct State {
    blobs: HashMap<String, Vec<u8>>,
    uploads: HashMap<String, Vec<u8>>,
    manifests: HashMap<String, (String, Vec<u8>)>,
    requests: Vec<String>,
    /// Status to answer every manifest PUT with instead of storing it.
    fail_manifest_put: Option<StatusCode>,
    /// Status to answer blob upload starts with.
    fail_upload: Option<StatusCode>,
}

type Shared = Arc<Mutex<State>>;

fn digest(data: &[u8]) -> String {
    crate::image::fixture::sha256_digest(data)
}

async fn handle(
    axum::extract::State(st): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    let mut s = st.lock().unwrap();
    s.requests.push(format!("{method} {path}"));
    if path == "/v2/" {
        return StatusCode::OK.into_response();
    }
    let Some(rest) = path.strip_prefix("/v2/team/app/") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let rest = rest.to_string();
    if rest == "blobs/uploads/" && method == Method::POST {
        if let Some(code) = s.fail_upload {
            return (code, "denied").into_response();
        }
        let id = format!("u{}", s.uploads.len());
        s.uploads.insert(id.clone(), Vec::new());
        return (
            StatusCode::ACCEPTED,
            [
                ("Location", format!("/v2/team/app/blobs/uploads/{id}")),
                ("Range", "0-0".to_string()),
            ],
        )
            .into_response();
    }
    if let Some(id) = rest.strip_prefix("blobs/uploads/") {
        let id = id.to_string();
        let Some(buf) = s.uploads.get_mut(&id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        buf.extend_from_slice(&body);
        let len = buf.len();
        if method == Method::PATCH {
            return (
                StatusCode::ACCEPTED,
                [
                    ("Location", format!("/v2/team/app/blobs/uploads/{id}")),
                    ("Range", format!("0-{}", len.saturating_sub(1))),
                ],
            )
                .into_response();
        }
        let want = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("digest="))
            .unwrap_or_default()
            .replace("%3A", ":");
        let data = s.uploads.remove(&id).unwrap_or_default();
        if digest(&data) != want {
            return (StatusCode::BAD_REQUEST, "digest mismatch").into_response();
        }
        s.blobs.insert(want.clone(), data);
        return (
            StatusCode::CREATED,
            [("Location", format!("/v2/team/app/blobs/{want}"))],
        )
            .into_response();
    }
    if let Some(d) = rest.strip_prefix("blobs/") {
        return match s.blobs.get(d) {
            Some(b) if method == Method::HEAD => {
                (StatusCode::OK, [("Content-Length", b.len().to_string())]).into_response()
            }
            Some(b) => (StatusCode::OK, b.clone()).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if let Some(r) = rest.strip_prefix("manifests/") {
        let r = r.to_string();
        if method == Method::PUT {
            if let Some(code) = s.fail_manifest_put {
                return (code, "broken").into_response();
            }
            let mt = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let d = digest(&body);
            let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            s.manifests.insert(r.clone(), (mt.clone(), body.to_vec()));
            s.manifests.insert(d.clone(), (mt, body.to_vec()));
            let mut resp = (
                StatusCode::CREATED,
                [("Location", format!("/v2/team/app/manifests/{d}"))],
            )
                .into_response();
            if let Some(subject) = doc["subject"]["digest"].as_str()
                && let Ok(v) = subject.parse()
            {
                resp.headers_mut().insert("OCI-Subject", v);
            }
            return resp;
        }
        return match s.manifests.get(&r) {
            Some((mt, b)) => {
                (StatusCode::OK, [("Content-Type", mt.clone())], b.clone()).into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if let Some(subject) = rest.strip_prefix("referrers/") {
        let mut list = Vec::new();
        for (key, (mt, b)) in &s.manifests {
            let doc: Value = serde_json::from_slice(b).unwrap_or(Value::Null);
            if key.starts_with("sha256:") && doc["subject"]["digest"].as_str() == Some(subject) {
                list.push(json!({
                    "mediaType": mt,
                    "digest": key,
                    "size": b.len(),
                    "artifactType": doc["artifactType"],
                    "annotations": doc["annotations"],
                }));
            }
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": list,
        });
        return (
            StatusCode::OK,
            [("Content-Type", "application/vnd.oci.image.index.v1+json")],
            serde_json::to_vec(&index).unwrap_or_default(),
        )
            .into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

async fn start() -> (String, Shared, tokio::task::JoinHandle<()>) {
    let st: Shared = Arc::default();
    // The image the SBOM describes.
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:00", "size": 0},
        "layers": [],
    }))
    .unwrap();
    let d = digest(&manifest);
    {
        let mut s = st.lock().unwrap();
        let mt = "application/vnd.oci.image.manifest.v1+json".to_string();
        s.manifests
            .insert(d.clone(), (mt.clone(), manifest.clone()));
        s.manifests.insert("1.0".into(), (mt, manifest));
    }
    let app = axum::Router::new().fallback(handle).with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, st, task)
}

fn subject_of(st: &Shared) -> String {
    let s = st.lock().unwrap();
    digest(&s.manifests["1.0"].1)
}

fn analysis(addr: &str, subject: &str) -> Analysis {
    Analysis {
        created: "2026-11-25T10:00:00Z".into(),
        inventory: Inventory {
            source: SourceInfo {
                scheme: "registry".into(),
                input: format!("{addr}/team/app:1.0"),
                manifest_digest: Some(subject.to_string()),
                ..Default::default()
            },
            distro: Some(Distro {
                id: "debian".into(),
                version_id: "12".into(),
                ..Default::default()
            }),
            packages: vec![Package {
                id: "p1".into(),
                name: "libssl3".into(),
                version: "3.0.9-1".into(),
                kind: PackageType::Deb,
                purl: "pkg:deb/debian/libssl3@3.0.9-1?arch=amd64&distro=debian-12".into(),
                source_name: Some("openssl".into()),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn load(addr: &str) -> LoadOptions {
    LoadOptions {
        insecure_registries: vec![addr.to_string()],
        max_retries: 1,
        ..Default::default()
    }
}

#[tokio::test]
async fn referrers_api_is_used_for_push_and_import() {
    let (addr, st, task) = start().await;
    let subject = subject_of(&st);
    let done = attach_sbom(&analysis(&addr, &subject), &load(&addr))
        .await
        .unwrap();
    assert_eq!(done.via, AttachedVia::ReferrersApi);
    assert_eq!(done.subject, subject);
    {
        let s = st.lock().unwrap();
        let (_, body) = &s.manifests[&done.artifact];
        let m: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(m["artifactType"], "application/vnd.cyclonedx+json");
        assert_eq!(m["subject"]["digest"], subject.as_str());
        assert_eq!(
            m["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        let layer = m["layers"][0]["digest"].as_str().unwrap();
        let sbom: Value = serde_json::from_slice(&s.blobs[layer]).unwrap();
        assert_eq!(sbom["bomFormat"], "CycloneDX");
        assert!(
            !s.requests.iter().any(|r| r.contains("manifests/sha256-")),
            "no tag-schema traffic when the registry has the API: {:?}",
            s.requests
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::Store::open(Some(dir.path())).unwrap();
    let r = match Reference::parse(&format!("{addr}/team/app:1.0"))
        .unwrap()
        .source
    {
        crate::image::Source::Registry(r) => r,
        other => panic!("{other:?}"),
    };
    let imported = import_sbom(&r, &load(&addr), &mut store).await.unwrap();
    assert_eq!(imported.subject, subject);
    assert_eq!(imported.artifact, done.artifact);
    assert_eq!(imported.packages, 1);
    let a = store.show(&subject).unwrap().unwrap();
    assert_eq!(a.inventory.packages[0].name, "libssl3");
    assert_eq!(a.created, "2026-11-25T10:00:00Z");
    {
        let s = st.lock().unwrap();
        assert!(s.requests.iter().any(|r| r.contains("/referrers/")));
        assert!(!s.requests.iter().any(|r| r.contains("manifests/sha256-")));
    }
    task.abort();
}

#[tokio::test]
async fn registry_errors_are_clear() {
    let (addr, st, task) = start().await;
    let subject = subject_of(&st);
    st.lock().unwrap().fail_upload = Some(StatusCode::UNAUTHORIZED);
    let e = attach_sbom(&analysis(&addr, &subject), &load(&addr))
        .await
        .unwrap_err();
    assert!(matches!(e, AttachError::Unauthorized { .. }), "{e:?}");

    {
        let mut s = st.lock().unwrap();
        s.fail_upload = None;
        s.fail_manifest_put = Some(StatusCode::SERVICE_UNAVAILABLE);
    }
    let e = attach_sbom(&analysis(&addr, &subject), &load(&addr))
        .await
        .unwrap_err();
    match &e {
        AttachError::Registry { message, .. } => assert!(message.contains("503"), "{message}"),
        other => panic!("{other:?}"),
    }
    let puts = st
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.starts_with("PUT /v2/team/app/manifests/"))
        .count();
    assert_eq!(puts, 3, "5xx is retried, then reported");

    // An unknown subject: a clear 404 error, nothing pushed.
    let e = attach_sbom(
        &analysis(&addr, &format!("sha256:{}", "0".repeat(64))),
        &load(&addr),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, AttachError::NotFound { .. }), "{e:?}");
    // A local source cannot be attached.
    let mut local = analysis(&addr, &subject);
    local.inventory.source.scheme = "oci-dir".into();
    let e = attach_sbom(&local, &load(&addr)).await.unwrap_err();
    assert!(matches!(e, AttachError::NotRegistry { .. }), "{e:?}");
    task.abort();
}
