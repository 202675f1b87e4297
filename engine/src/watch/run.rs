//! One `tollgate watch` run: re-match every stored image against the new DB (and the
//! `--since-db` DB), decide what is new, queue it in the outbox, deliver — or, with
//! `--dry-run`, only say what would be sent.
//!
//! This is watch's own small pipeline: it wires `store` (read through `watch::stored`),
//! `vulndb`, `matcher` and the watch modules, and nothing else. CPU-bound matching runs on
//! worker threads, each with its own read-only DB handle, sharing one bounded cache of matches
//! per distinct package (`watch::rematch`); one bounded queue feeds them unparsed documents
//! (workers parse) and one thread owns the outbox, committing images in batches of [`BATCH`],
//! so memory is flat in the number of stored SBOMs and outbox writes are never concurrent.
//! Nothing here prints.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::matcher::suppress::IgnoreConfig;
use crate::matcher::{Match, MatchOptions};
use crate::store::Store;
use crate::vulndb::VulnDb;
use crate::watch::channel::Outgoing;
use crate::watch::config::WatchConfig;
use crate::watch::deliver::{self, DeliveryReport};
use crate::watch::error::WatchError;
use crate::watch::finding::{DbRef, Finding};
use crate::watch::outbox::{ImageChanges, ImageState, Outbox, OutboxRow};
use crate::watch::rematch::MatchCache;
use crate::watch::rescan::{Baseline, Decision, RunContext, decide};
use crate::watch::stored::{RawDocument, StoredAnalyses, StoredImage, StoredProblem};

/// What to watch and how.
#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    /// Store directory (`--store`); `None` = the default under the XDG data dir.
    pub store_dir: Option<PathBuf>,
    /// The new vulnerability DB.
    pub db: PathBuf,
    /// The DB notifications were last computed with (`--since-db`): its matches are not news.
    pub since_db: Option<PathBuf>,
    /// Only report what would be sent; write nothing, send nothing.
    pub dry_run: bool,
    /// Matching options.
    pub match_options: MatchOptions,
    /// Ignore rules applied to re-matched findings (the config's `ignore:` section).
    pub ignore: IgnoreConfig,
    /// Matching threads; 0 = one per CPU (at most 8).
    pub jobs: usize,
}

/// One message `--dry-run` would send.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Preview {
    /// Channel name.
    pub channel: String,
    /// Channel kind.
    pub kind: String,
    /// Redacted target.
    pub target: String,
    /// Idempotency keys of the rows in this message.
    pub keys: Vec<String>,
    /// True when the rows are already queued from an earlier run.
    pub queued_earlier: bool,
    /// The request body (or bodies) as the channel would send it.
    pub body: serde_json::Value,
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WatchSummary {
    /// Images re-matched.
    pub images: usize,
    /// Vulnerabilities new to some image.
    pub new: usize,
    /// Known vulnerabilities that became more severe or entered KEV.
    pub escalated: usize,
    /// Vulnerabilities recorded silently for images watched for the first time without a
    /// baseline.
    pub primed: usize,
    /// Outbox rows queued in this run (dry-run: that would be queued).
    pub queued: usize,
    /// Stored analyses that could not be read or re-matched (they were skipped).
    pub problems: Vec<StoredProblem>,
    /// Delivery per channel (absent in dry-run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryReport>,
    /// Dry-run: the new findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Dry-run: the messages that would be sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub previews: Vec<Preview>,
}

/// The store directory for `dir` (`--store`), resolved like the store does.
pub fn store_dir(dir: Option<&Path>) -> Result<PathBuf, WatchError> {
    match dir {
        Some(d) => Ok(d.to_path_buf()),
        None => Ok(crate::store::default_dir()?),
    }
}

struct Rematched {
    stored: StoredImage,
    current: Vec<Match>,
    previous: Option<Vec<Match>>,
}

/// What one worker thread matches with.
struct Matching<'a> {
    db: VulnDb,
    cache: &'a MatchCache,
    prev: Option<(VulnDb, &'a MatchCache)>,
}

fn rematch(
    raw: RawDocument,
    with: &Matching<'_>,
    opts: &WatchOptions,
) -> Result<Rematched, StoredProblem> {
    let stored = raw.parse()?;
    let problem = |e: crate::matcher::MatchError| StoredProblem {
        row: stored.row,
        image: stored.image.key.clone(),
        reason: format!("re-matching failed: {e}"),
    };
    let mut current = crate::watch::rematch::rematch(
        &stored.inventory,
        &with.db,
        &opts.match_options,
        with.cache,
    )
    .map_err(problem)?;
    crate::matcher::suppress::apply(&mut current, &opts.ignore, &[]);
    let previous = match &with.prev {
        Some((p, cache)) => {
            let mut m =
                crate::watch::rematch::rematch(&stored.inventory, p, &opts.match_options, cache)
                    .map_err(problem)?;
            crate::matcher::suppress::apply(&mut m, &opts.ignore, &[]);
            Some(m)
        }
        None => None,
    };
    Ok(Rematched {
        stored,
        current,
        previous,
    })
}

/// Images whose outbox changes are committed together (see [`Outbox::apply_many`]).
const BATCH: usize = 256;

/// Distinct packages whose matches are cached per DB (see [`MatchCache`]); far more than the
/// distinct packages of a fleet's images, small enough to stay well under 1 GB.
const CACHE_PACKAGES: usize = 50_000;

/// Re-matches every stored image and records decisions in `outbox` (or, when `outbox` is
/// read-only / `None` in dry-run, only collects them). Returns the summary and, for dry-run,
/// the rows that would be queued.
fn rescan_all(
    opts: &WatchOptions,
    config: &WatchConfig,
    store_file: &Path,
    outbox: Option<&Outbox>,
    write: bool,
) -> Result<(WatchSummary, Vec<OutboxRow>), WatchError> {
    let db = VulnDb::open(&opts.db)?;
    let db_ref = DbRef {
        built: db.meta().built.clone(),
        checksum: db.meta().checksum.clone(),
    };
    if let Some(p) = &opts.since_db {
        VulnDb::open(p)?;
    }
    drop(db);
    let stored = StoredAnalyses::open(store_file)?;
    let detected_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let ctx = RunContext {
        channels: &config.channels,
        detected_at: &detected_at,
        db: Some(&db_ref),
    };
    let jobs = if opts.jobs == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8)
    } else {
        opts.jobs
    };
    let mut summary = WatchSummary::default();
    let mut would_queue: Vec<OutboxRow> = Vec::new();
    let mut fatal: Option<WatchError> = None;
    let mut batch: Vec<ImageChanges> = Vec::new();
    let cache = MatchCache::new(CACHE_PACKAGES);
    let prev_cache = MatchCache::new(CACHE_PACKAGES);
    let (cache, prev_cache) = (&cache, &prev_cache);

    std::thread::scope(|scope| -> Result<(), WatchError> {
        let (work_tx, work_rx) = mpsc::sync_channel::<RawDocument>(jobs * 4);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::sync_channel::<Result<Rematched, StoredProblem>>(jobs * 4);
        let mut workers = Vec::new();
        for _ in 0..jobs {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            workers.push(scope.spawn(move || -> Result<(), WatchError> {
                let with = Matching {
                    db: VulnDb::open(&opts.db)?,
                    cache,
                    prev: match &opts.since_db {
                        Some(p) => Some((VulnDb::open(p)?, prev_cache)),
                        None => None,
                    },
                };
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return Ok(()),
                    };
                    let Ok(item) = next else { return Ok(()) };
                    if done_tx.send(rematch(item, &with, opts)).is_err() {
                        return Ok(());
                    }
                }
            }));
        }
        drop(done_tx);
        // Only the workers hold the queue's receiver now: if they all stop, the reader's
        // next send fails instead of blocking forever.
        drop(work_rx);
        // The reader: stream documents (unparsed: workers parse them) into the work queue;
        // problems skip the queue.
        let (problem_tx, problem_rx) = mpsc::channel::<StoredProblem>();
        let reader = scope.spawn(move || -> Result<(), WatchError> {
            stored.for_each_latest_raw(|item| match item {
                Ok(s) => work_tx.send(s).is_ok(),
                Err(p) => problem_tx.send(p).is_ok(),
            })
        });
        // This thread owns the outbox.
        for done in done_rx.iter() {
            let mut r = match done {
                Ok(r) => r,
                Err(p) => {
                    summary.problems.push(p);
                    continue;
                }
            };
            summary.images += 1;
            if fatal.is_some() {
                continue;
            }
            let state = match outbox {
                Some(o) => match o.image_state(&r.stored.image.key) {
                    Ok(s) => s,
                    Err(e) => {
                        fatal = Some(e);
                        continue;
                    }
                },
                None => ImageState::default(),
            };
            let baseline = Baseline {
                scanned: if r.stored.matched_at_scan {
                    std::mem::take(&mut r.stored.scanned_ids)
                } else {
                    Default::default()
                },
                previous_db: r
                    .previous
                    .as_deref()
                    .map(Baseline::ids_of)
                    .unwrap_or_default(),
                exists: r.stored.matched_at_scan || r.previous.is_some(),
            };
            let mut findings = Vec::new();
            let (changes, d) = decide(
                &ctx,
                &r.stored.image,
                &state,
                &baseline,
                &r.current,
                &mut findings,
            );
            add(&mut summary, &d);
            if write {
                if let Some(o) = outbox {
                    batch.push(changes);
                    if batch.len() >= BATCH
                        && let Err(e) = o.apply_many(&std::mem::take(&mut batch))
                    {
                        fatal = Some(e);
                    }
                }
            } else {
                for row in changes.enqueue {
                    let already = match outbox {
                        Some(o) => o.has_key(&row.key).unwrap_or(false),
                        None => false,
                    };
                    if !already {
                        would_queue.push(OutboxRow {
                            id: 0,
                            key: row.key,
                            channel: row.channel,
                            attempts: 0,
                            finding: Ok(row.finding),
                        });
                    }
                }
                summary.findings.extend(findings);
            }
        }
        if let Some(o) = outbox
            && fatal.is_none()
            && !batch.is_empty()
            && let Err(e) = o.apply_many(&std::mem::take(&mut batch))
        {
            fatal = Some(e);
        }
        for w in workers {
            match w.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => fatal = fatal.take().or(Some(e)),
                Err(_) => {
                    fatal = fatal.take().or(Some(WatchError::WorkerPanic));
                }
            }
        }
        match reader.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => fatal = fatal.take().or(Some(e)),
            Err(_) => fatal = fatal.take().or(Some(WatchError::WorkerPanic)),
        }
        summary.problems.extend(problem_rx.try_iter());
        Ok(())
    })?;
    if let Some(e) = fatal {
        return Err(e);
    }
    if !write {
        summary.queued = would_queue.len();
    }
    summary.problems.sort_by_key(|p| p.row);
    Ok((summary, would_queue))
}

fn add(summary: &mut WatchSummary, d: &Decision) {
    summary.new += d.new;
    summary.escalated += d.escalated;
    summary.primed += d.primed;
    summary.queued += d.queued;
}

/// Runs `tollgate watch`. Delivery failures do not make this an `Err`: they are in
/// `summary.delivery` (see [`DeliveryReport::into_result`]).
pub async fn watch(opts: &WatchOptions, config: &WatchConfig) -> Result<WatchSummary, WatchError> {
    let dir = store_dir(opts.store_dir.as_deref())?;
    if !opts.dry_run && config.channels.is_empty() {
        return Err(WatchError::NoChannels {
            path: config.path.clone(),
        });
    }
    let store = Store::open(Some(&dir))?;
    let store_file = store.path().to_path_buf();
    drop(store);
    if opts.dry_run {
        let outbox = Outbox::open_read_only(&dir)?;
        let (mut summary, would) = rescan_all(opts, config, &store_file, outbox.as_ref(), false)?;
        summary.previews = previews(config, outbox.as_ref(), &would)?;
        return Ok(summary);
    }
    let outbox = Outbox::open(&dir)?;
    let (mut summary, _) = rescan_all(opts, config, &store_file, Some(&outbox), true)?;
    let http = deliver::http_client(&config.delivery)?;
    summary.delivery = Some(deliver::deliver_all(&outbox, config, &http).await?);
    Ok(summary)
}

/// Only drains the outbox (no rescan): what `tollgate watch --deliver-only` runs.
pub async fn deliver_pending(
    store_dir_opt: Option<&Path>,
    config: &WatchConfig,
) -> Result<DeliveryReport, WatchError> {
    let dir = store_dir(store_dir_opt)?;
    let outbox = Outbox::open(&dir)?;
    let http = deliver::http_client(&config.delivery)?;
    deliver::deliver_all(&outbox, config, &http).await
}

/// After `store prune`: forgets watch state (known vulnerabilities, delivered rows) of images
/// that no longer have any stored analysis. Pending rows are kept. Returns how many images
/// were forgotten.
pub fn forget_pruned(store: &Store) -> Result<usize, WatchError> {
    let Some(dir) = store.path().parent() else {
        return Ok(0);
    };
    if !dir.join(crate::watch::outbox::OUTBOX_FILE).exists() {
        return Ok(0);
    }
    let keys = StoredAnalyses::open(store.path())?.image_keys()?;
    Outbox::open(dir)?.forget_images_except(&keys)
}

fn previews(
    config: &WatchConfig,
    outbox: Option<&Outbox>,
    would: &[OutboxRow],
) -> Result<Vec<Preview>, WatchError> {
    let mut out = Vec::new();
    for named in &config.channels {
        let earlier = match outbox {
            Some(o) => o.all_pending(&named.name)?,
            None => Vec::new(),
        };
        let fresh: Vec<OutboxRow> = would
            .iter()
            .filter(|r| r.channel == named.name)
            .cloned()
            .collect();
        for (rows, queued_earlier) in [(earlier, true), (fresh, false)] {
            for group in
                deliver::group_rows(&rows, named.channel.grouping(), named.channel.max_batch())
            {
                let batch: Vec<Outgoing<'_>> = group
                    .rows
                    .iter()
                    .map(|(r, f)| Outgoing {
                        key: &r.key,
                        channel: &named.name,
                        finding: f,
                    })
                    .collect();
                out.push(Preview {
                    channel: named.name.clone(),
                    kind: named.channel.kind().to_string(),
                    target: named.channel.target(),
                    keys: batch.iter().map(|o| o.key.to_string()).collect(),
                    queued_earlier,
                    body: named.channel.preview(&batch),
                });
            }
        }
    }
    Ok(out)
}
