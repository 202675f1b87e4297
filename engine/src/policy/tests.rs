//! Policy-stage tests against the real Anchore bundles in `../shared/anchors/anchore-policy`
//! (read in place; fail under `CI=true` when missing, skip otherwise) and the Tollgate fixtures
//! under `engine/tests/fixtures/policy/`.

use std::path::{Path, PathBuf};

use super::*;

pub(crate) fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/anchors/anchore-policy"));
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "shared bundles missing at {}", dir.display());
    eprintln!("skipping: {} not found", dir.display());
    None
}

const VALID: &[&str] = &[
    "anchore-engine/anchore_default_bundle.json",
    "anchore-engine/bundle-large_whitelist.json",
    "anchore-engine/test_data_env/anchore_default_bundle.json",
    "anchore-engine/test_data_env/multi_default.json",
    "anchore-engine/test_data_env/multi_policy.json",
    "hub/anchore_cis_1.13.0_base.json",
    "hub/anchore_default_bundle.json",
    "hub/anchore_security_only.json",
    "modular-policy/custom_bundle.json",
    "modular-policy/ironbank.json",
    "modular-policy/nist800-190.json",
];

#[test]
fn every_valid_shared_bundle_loads() {
    let Some(dir) = shared_dir() else { return };
    for f in VALID {
        let b = Bundle::load(&dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        assert!(!b.mappings.is_empty() || f.contains("none"), "{f}");
        assert!(b.digest.starts_with("sha256:"));
    }
}

#[test]
fn all_rules_bundle_is_rejected_for_its_invalid_regex_only() {
    let Some(dir) = shared_dir() else { return };
    let err = Bundle::load(&dir.join("anchore-engine/bundle-with-all-rules-2020-08-20.json")).unwrap_err();
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].kind, ProblemKind::BadRegex);
    assert!(problems[0].message.contains("regex"), "{}", problems[0].message);
}

fn kinds(path: &Path) -> Vec<ProblemKind> {
    match Bundle::load(path) {
        Ok(_) => panic!("{} loaded but is invalid", path.display()),
        Err(e) => e.problems().iter().map(|p| p.kind).collect(),
    }
}

#[test]
fn expected_invalid_bundles_fail_for_their_documented_reason() {
    let Some(dir) = shared_dir() else { return };
    let d = dir.join("expected-invalid/anchore-engine");
    let bad = kinds(&d.join("bad_bundle.json"));
    assert!(bad.contains(&ProblemKind::BadAction), "{bad:?}");
    assert_eq!(bad.iter().filter(|k| **k == ProblemKind::MissingParam).count(), 4, "{bad:?}");
    assert_eq!(kinds(&d.join("bad_policy_id_bundle.json")), vec![ProblemKind::MissingReference]);
    assert!(kinds(&d.join("empty.json")).contains(&ProblemKind::MissingReference));
    assert!(kinds(&d.join("trivial_bundle.json")).contains(&ProblemKind::MissingReference));
}
