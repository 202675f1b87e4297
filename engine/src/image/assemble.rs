//! A resolved [`Plan`] (source info, config, layer list) plus a [`Store`] → the [`Image`]:
//! reads the layers in parallel (one thread per layer, bounded by the CPU count), then
//! squashes them in order. A layer whose stored bytes carry its digest is hashed by a second
//! thread while the first walks it (uncompressed tars with seeks over file data); a mismatch
//! discards the layer's result.
//!
//! Every source ends here, so the layer-count checks, the pairing of history entries with
//! layers and the progress events live here once. It does not fetch anything (registry blobs
//! are in the cache before this runs) and does not parse tar entries (that is `layer`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::archive::Store;
use super::error::ImageError;
use std::io::Read;

use sha2::{Digest, Sha256};

use super::layer::{Budget, LayerCtx, LayerRead, Verify, Wants, read_layer, read_layer_seekable};
use super::model::{Image, ImageConfig, LayerInfo, SourceInfo};
use super::squash::squash;
use super::{LoadOptions, ProgressEvent};

/// One layer to read: the store member holding it, what it is, what to verify.
#[derive(Debug, Clone)]
pub(crate) struct PlannedLayer {
    pub(crate) member: String,
    pub(crate) info: LayerInfo,
    pub(crate) verify: Verify,
}

/// Everything known about an image before its layers are read.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) source: SourceInfo,
    pub(crate) config: ImageConfig,
    pub(crate) layers: Vec<PlannedLayer>,
}

/// Pairs non-empty history steps with layers, base first.
fn pair_history(config: &ImageConfig, layers: &mut [PlannedLayer]) {
    let mut steps = config.history.iter().filter(|h| !h.empty_layer);
    for l in layers.iter_mut() {
        match steps.next() {
            Some(h) => l.info.created_by = Some(h.created_by.clone()),
            None => break,
        }
    }
}

/// Reads and squashes the planned image.
pub(crate) fn read_image(
    plan: Plan,
    store: &dyn Store,
    opts: &LoadOptions,
    wants: &Wants,
) -> Result<Image, ImageError> {
    check_plan(&plan, &store.location())?;
    let budget = Budget::new(opts.max_decompressed_bytes);
    let reads = read_layers(&plan.layers, store, opts, wants, &budget)?;
    finish(plan, reads)
}

/// Checks the manifest and config agree on the layer count.
pub(crate) fn check_plan(plan: &Plan, location: &str) -> Result<(), ImageError> {
    if !plan.config.diff_ids.is_empty() && plan.config.diff_ids.len() != plan.layers.len() {
        return Err(ImageError::InvalidImage {
            location: location.to_string(),
            reason: format!(
                "the manifest lists {} layers but the config has {} diff_ids",
                plan.layers.len(),
                plan.config.diff_ids.len()
            ),
        });
    }
    Ok(())
}

/// Reads `layers` from `store` in parallel, in order.
pub(crate) fn read_layers(
    layers: &[PlannedLayer],
    store: &dyn Store,
    opts: &LoadOptions,
    wants: &Wants,
    budget: &Budget,
) -> Result<Vec<LayerRead>, ImageError> {
    let location = store.location();
    let total = layers.len();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<LayerRead, ImageError>>>> =
        Mutex::new((0..total).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(total)
        .max(1);
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let layer = &layers[i];
                    let ctx = LayerCtx {
                        index: i,
                        label: &layer.info.digest,
                        location: &location,
                        verify: &layer.verify,
                        budget,
                    };
                    let result = read_one(store, &layer.member, &ctx, wants);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Some(p) = &opts.progress {
                        p.event(ProgressEvent::LayerRead {
                            index: i,
                            total,
                            digest: layer.info.digest.clone(),
                        });
                    }
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(result);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| ImageError::Internal("a layer reader panicked".into()))?;
    let mut reads = Vec::with_capacity(total);
    let mut first_err = None;
    for r in results {
        match r {
            Some(Ok(read)) => reads.push(read),
            Some(Err(e)) => {
                first_err.get_or_insert(e);
            }
            None => {}
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    if reads.len() != total {
        return Err(ImageError::Internal("a layer was not read".into()));
    }
    Ok(reads)
}

/// Builds the image from its plan and its layers' reads (same order).
pub(crate) fn finish(mut plan: Plan, reads: Vec<LayerRead>) -> Result<Image, ImageError> {
    if reads.len() != plan.layers.len() {
        return Err(ImageError::Internal(
            "layer count changed while reading".into(),
        ));
    }
    pair_history(&plan.config, &mut plan.layers);
    let mut layers: Vec<LayerInfo> = plan.layers.into_iter().map(|l| l.info).collect();
    for (info, read) in layers.iter_mut().zip(&reads) {
        info.uncompressed_size = read.uncompressed_size;
        if info.diff_id.is_empty()
            && let Some(d) = &read.diff_id
        {
            info.diff_id = d.clone();
        }
    }
    let (files, content_hits) = squash(reads);
    Ok(Image {
        source: plan.source,
        config: plan.config,
        layers,
        files,
        content_hits,
    })
}

/// Whether a member starts like a plain (uncompressed) tar.
fn is_plain_tar(store: &dyn Store, member: &str) -> Result<bool, ImageError> {
    let mut magic = [0u8; 4];
    let mut r = store.open(member)?;
    let mut n = 0;
    while n < magic.len() {
        match r.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(ImageError::io(format!("{}:{member}", store.location()), e)),
        }
    }
    Ok(!(magic[..n].starts_with(&[0x1f, 0x8b])
        || magic[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || magic[..n].starts_with(b"BZh")
        || magic[..n].starts_with(&[0xfd, b'7', b'z', b'X'])))
}

/// sha256 of a whole member, read in large blocks.
fn hash_member(store: &dyn Store, member: &str) -> Result<String, ImageError> {
    let mut r = store.open(member)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImageError::io(format!("{}:{member}", store.location()), e)),
        }
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

/// Reads one layer. When the stored bytes themselves carry the digest to check (a blob digest,
/// or a diff_id of an uncompressed legacy layer), the digest is computed by a second thread
/// reading the file while this one walks the tar with seeks; otherwise the check happens in
/// the stream. Either way nothing from a mismatching blob is returned.
pub(crate) fn read_one(
    store: &dyn Store,
    member: &str,
    ctx: &LayerCtx<'_>,
    wants: &Wants,
) -> Result<LayerRead, ImageError> {
    let expected = match ctx.verify {
        Verify::Blob(d) => Some(d.clone()),
        Verify::Uncompressed(d) if is_plain_tar(store, member)? => Some(d.clone()),
        _ => None,
    };
    let Some(expected) = expected else {
        return read_layer(store.open(member)?, ctx, wants);
    };
    let len = store.size(member).unwrap_or(0);
    let unverified = LayerCtx {
        verify: &Verify::None,
        ..*ctx
    };
    std::thread::scope(|s| {
        let hasher = s.spawn(|| hash_member(store, member));
        let read = store
            .open_seekable(member)
            .and_then(|r| read_layer_seekable(r, &unverified, wants, len));
        let actual = hasher
            .join()
            .map_err(|_| ImageError::Internal("the digest thread panicked".into()))??;
        if !actual.eq_ignore_ascii_case(&expected) {
            return Err(ImageError::DigestMismatch {
                expected,
                actual,
                location: ctx.location.to_string(),
            });
        }
        let mut read = read?;
        if matches!(ctx.verify, Verify::Uncompressed(_)) {
            read.diff_id = Some(actual);
        }
        Ok(read)
    })
}
