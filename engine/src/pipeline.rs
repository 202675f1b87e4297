//! The scan pipeline: the only place that calls the stages in order and builds the final
//! [`Analysis`].
//!
//! image (or SBOM) → catalog (+ secrets found while streaming) → vulndb + matcher (+ ignore
//! rules and VEX) → policy → [`Analysis`], recorded in the local store. Rendering reports and
//! deciding the exit code are the caller's (`report`, the cli).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::analysis::{Analysis, DbInfo, SCHEMA_VERSION, ToolInfo};
use crate::catalog::secrets::SecretScanner;
use crate::catalog::{self, CatalogOptions, Inventory};
use crate::image::{self, LoadOptions, Reference, Source};
use crate::matcher::{self, Match, MatchOptions};
use crate::policy::{self, Bundle, EvalInput};
use crate::store::Store;
use crate::vulndb::{self, VulnDb};
use crate::{Error, Result};

/// Which vulnerability DB a scan uses.
#[derive(Debug, Clone, Default)]
pub enum DbChoice {
    /// `--db FILE` / `TOLLGATE_DB`, or else the default path, or else the example DB built
    /// from the advisories embedded in the binary.
    #[default]
    Default,
    /// This file.
    File(PathBuf),
    /// Do not match vulnerabilities (SBOM-only runs).
    Skip,
}

/// Which policy bundle a scan evaluates.
#[derive(Debug, Clone, Default)]
pub enum PolicyChoice {
    /// The store's active bundle, or else the embedded default.
    #[default]
    ActiveOrDefault,
    /// This bundle (`--policy FILE`), which always wins.
    Bundle(Box<Bundle>),
    /// No policy evaluation.
    Skip,
}

/// Everything a scan needs besides the image reference.
#[derive(Debug, Default)]
pub struct ScanOptions {
    /// How to read the image.
    pub load: LoadOptions,
    /// Which catalogers to run.
    pub catalog: CatalogOptions,
    /// The DB.
    pub db: DbChoice,
    /// Fail when the DB is older than this (`None`: no limit).
    pub max_db_age: Option<Duration>,
    /// Matching options.
    pub matching: MatchOptions,
    /// Ignore rules (`.tollgate.yaml`).
    pub ignore: matcher::suppress::IgnoreConfig,
    /// OpenVEX documents.
    pub vex: Vec<matcher::suppress::VexDocument>,
    /// The policy.
    pub policy: PolicyChoice,
    /// The actual Dockerfile text.
    pub dockerfile: Option<String>,
    /// The tag used for mapping resolution when the source carries none.
    pub tag: Option<String>,
    /// The local store directory (`None`: the default under the XDG data dir).
    pub store_dir: Option<PathBuf>,
    /// Record the analysis in the store.
    pub record: bool,
}

/// What a scan returns besides the analysis.
#[derive(Debug)]
pub struct ScanOutput {
    /// The final document.
    pub analysis: Analysis,
    /// Ignore rules and VEX statements that matched nothing.
    pub unused_suppressions: Vec<String>,
    /// Non-fatal warnings to show the user (stale store, unrecorded analysis, …).
    pub warnings: Vec<String>,
}

/// Runs the whole pipeline on one image reference (for a multi-platform image: the platform
/// in `opts.load`, default linux/amd64).
pub async fn scan(reference: &Reference, opts: &ScanOptions) -> Result<ScanOutput> {
    let mut outputs = scan_impl(reference, opts, false).await?;
    outputs
        .pop()
        .ok_or_else(|| Error::Image(image::ImageError::Internal("no image resolved".into())))
}

/// Runs the whole pipeline on every platform of a multi-platform image (one output per
/// platform, in index order; a single-platform image gives one).
pub async fn scan_all_platforms(
    reference: &Reference,
    opts: &ScanOptions,
) -> Result<Vec<ScanOutput>> {
    scan_impl(reference, opts, true).await
}

async fn scan_impl(
    reference: &Reference,
    opts: &ScanOptions,
    all_platforms: bool,
) -> Result<Vec<ScanOutput>> {
    let mut warnings = Vec::new();
    let mut store = match Store::open(opts.store_dir.as_deref()) {
        Ok(s) => Some(s),
        Err(e) if opts.store_dir.is_none() => {
            warnings.push(format!(
                "the local store is unavailable, nothing is recorded: {e}"
            ));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let bundle = match &opts.policy {
        PolicyChoice::Bundle(b) => Some((**b).clone()),
        PolicyChoice::Skip => None,
        PolicyChoice::ActiveOrDefault => Some(
            match store
                .as_ref()
                .map(Store::active_bundle)
                .transpose()?
                .flatten()
            {
                Some(b) => b,
                None => Bundle::default_bundle(),
            },
        ),
    };
    // Open (and age-check) the DB before any download, so a stale DB fails fast.
    let db = open_db(opts)?;

    // What the bundle's rules need read from the image (retrieved files, per-file digests).
    let needs = bundle
        .as_ref()
        .map(policy::ContentNeeds::of)
        .unwrap_or_default();
    let inventories: Vec<(Inventory, policy::FileFacts)> = match &reference.source {
        Source::Sbom { path } => vec![(
            catalog::sbom_input::read(path)?,
            policy::FileFacts::default(),
        )],
        _ => {
            let mut request = catalog::content_request();
            let rules = bundle
                .as_ref()
                .map(Bundle::content_rules)
                .unwrap_or_default();
            request.scanners.push(Arc::new(SecretScanner::new(&rules)));
            needs.extend(&mut request);
            let images = if all_platforms {
                image::load_all_platforms(reference, &opts.load, &request).await?
            } else {
                vec![image::load(reference, &opts.load, &request).await?]
            };
            images
                .iter()
                .map(|image| {
                    let mut inventory = catalog::run(image, &opts.catalog);
                    inventory.secrets = catalog::secrets::from_hits(&image.content_hits);
                    let facts = needs.collect(image, &mut inventory);
                    (inventory, facts)
                })
                .collect()
        }
    };

    let mut outputs = Vec::with_capacity(inventories.len());
    for (mut inventory, facts) in inventories {
        inventory
            .packages
            .sort_by(|a, b| (a.kind, &a.name, &a.version).cmp(&(b.kind, &b.name, &b.version)));
        let matched = match &db {
            Some(db) => match_vulnerabilities(&inventory, db, opts)?,
            None => Matched::default(),
        };
        let previous = match (&store, tag_for(&inventory, opts)) {
            (Some(s), Some(tag)) => s.previous_for_tag(&tag, inventory.config.digest.as_str())?,
            _ => None,
        };
        let evaluation = bundle.as_ref().map(|b| {
            let mut input = EvalInput::new(&inventory, &matched.matches, chrono::Utc::now());
            input.dockerfile = opts.dockerfile.as_deref();
            input.tag = opts.tag.as_deref();
            input.db_built = matched.db_built;
            input.previous = previous.as_ref().map(|a| &a.inventory);
            input.files = (!matches!(reference.source, Source::Sbom { .. })).then_some(&facts);
            policy::evaluate(b, &input)
        });
        catalog::secrets::redact_retrieved(&mut inventory);
        let analysis = Analysis {
            schema_version: SCHEMA_VERSION.into(),
            tool: ToolInfo::current(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            inventory,
            matches: matched.matches,
            db: matched.info,
            evaluation,
        };
        let mut warnings = warnings.clone();
        if let Some(s) = store.as_mut().filter(|_| opts.record)
            && let Err(e) = s.record_analysis(&analysis)
        {
            warnings.push(format!(
                "the analysis was not recorded in the local store: {e}"
            ));
        }
        outputs.push(ScanOutput {
            analysis,
            unused_suppressions: matched.unused,
            warnings,
        });
    }
    Ok(outputs)
}

/// The matcher stage's contribution to one analysis.
#[derive(Debug, Default)]
struct Matched {
    matches: Vec<Match>,
    info: Option<DbInfo>,
    db_built: Option<chrono::DateTime<chrono::Utc>>,
    unused: Vec<String>,
}

// The stage errors carry located diagnostics; they are returned once per scan, so their size
// does not matter.
#[allow(clippy::result_large_err)]
fn open_db(opts: &ScanOptions) -> Result<Option<VulnDb>> {
    let db = match &opts.db {
        DbChoice::Skip => return Ok(None),
        DbChoice::File(path) => VulnDb::open(path)?,
        DbChoice::Default => {
            if vulndb::default_path().exists() {
                VulnDb::open(vulndb::default_path())?
            } else {
                vulndb::open_or_build_example()?
            }
        }
    };
    db.check_age(opts.max_db_age)?;
    Ok(Some(db))
}

#[allow(clippy::result_large_err)]
fn match_vulnerabilities(
    inventory: &Inventory,
    db: &VulnDb,
    opts: &ScanOptions,
) -> Result<Matched> {
    let mut matches = matcher::run(inventory, db, &opts.matching)?;
    let report = matcher::suppress::apply(&mut matches, &opts.ignore, &opts.vex);
    let meta = db.meta();
    let info = DbInfo {
        path: db.path().display().to_string(),
        built: meta.built.clone(),
        schema_version: meta.schema_version,
        checksum: meta.checksum.clone(),
    };
    let db_built = chrono::DateTime::parse_from_rfc3339(&meta.built)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc));
    let unused = report
        .unused
        .iter()
        .map(|u| {
            format!(
                "{} {}[{}] ({}): {}",
                u.kind, u.file, u.index, u.selector, u.reason
            )
        })
        .collect();
    Ok(Matched {
        matches,
        info: Some(info),
        db_built,
        unused,
    })
}

fn tag_for(inventory: &Inventory, opts: &ScanOptions) -> Option<String> {
    opts.tag
        .clone()
        .or_else(|| inventory.source.tags.first().cloned())
}
