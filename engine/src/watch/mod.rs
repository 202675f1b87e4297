//! `tollgate watch`: tell teams when newly published vulnerabilities hit images they already
//! scanned — from the SBOMs kept in the store, without pulling an image again.
//!
//! The flow of one run:
//!
//! ```text
//! config   .tollgate.yaml `notifications:` → WatchConfig (channels, filters, delivery settings)
//! rescan   every stored analysis × the new DB → findings not in the baseline and not yet known
//! outbox   known-state + one row per (image, vuln, channel), committed in batches of images
//! deliver  pending rows → channels (webhook, slack, teams, jira, github), backoff, Retry-After
//! ```
//!
//! Main types: [`WatchConfig`], [`Finding`], [`Outbox`], [`DeliveryReport`].
//! This module does not scan images (the `scan` pipeline records analyses in the store) and
//! does not match packages itself (`rematch` calls `matcher::run` once per distinct package
//! and reuses the result for every SBOM holding that package). Delivery is at-least-once with an
//! idempotency key per (image, vulnerability, channel); channel secrets come only from
//! environment variables and never appear in errors, logs or `--dry-run` output.

pub mod attach;
pub mod channel;
pub mod config;
pub mod deliver;
pub mod error;
pub mod finding;
pub mod outbox;
pub mod rematch;
pub mod rescan;
pub mod run;
pub mod stored;

#[cfg(test)]
mod attach_tests;
#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod receivers;

pub use config::{DeliverySettings, Filter, NamedChannel, SecretMode, WatchConfig};
pub use deliver::{ChannelOutcome, DeliveryReport, deliver_all, http_client};
pub use error::WatchError;
pub use finding::{Finding, idempotency_key};
pub use outbox::{OUTBOX_FILE, Outbox};
pub use run::{Preview, WatchOptions, WatchSummary, watch};
