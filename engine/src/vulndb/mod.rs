//! The advisory store: build from OSV, update, open read-only, query. Knows no images.
//!
//! * [`build`]: OSV bucket (`<Ecosystem>/all.zip` from a directory or URL) + KEV + EPSS → one
//!   SQLite file, each record schema-checked ([`osv::validate`]), bad ones skipped and counted.
//! * [`VulnDb`]: the file opened read-only and immutable; [`DbMeta`] (schema version, build
//!   time, sources with timestamps, counts per ecosystem, checksum); staleness
//!   ([`VulnDb::age`], [`VulnDb::check_age`]); verification ([`VulnDb::verify`]).
//! * queries ([`VulnDb::candidates`], [`VulnDb::records_by_id`], [`VulnDb::search`], KEV, EPSS).
//! * [`update`]: fetch a prebuilt DB (HTTPS, `oci://`, file), verify, install atomically keeping
//!   the previous one; [`update::push`] publishes one to a registry.
//! * [`default_path`] and [`open_or_build_example`]: the offline quickstart.
//!
//! Does not decide whether a package is affected: that is `matcher`, using `version`.

pub mod build;
mod checksum;
mod error;
mod example;
mod open;
pub mod osv;
mod query;
pub mod schema;
pub mod update;

pub use build::{BuildOptions, BuildSummary, DEFAULT_ECOSYSTEMS, HttpOptions, SourceSpec};
pub use error::DbError;
pub use example::{
    EXAMPLE_ADVISORIES, cache_dir, default_path, example_path, is_example, open_or_build_example,
};
pub use open::{DEFAULT_MAX_AGE, DbMeta, DbSource, VulnDb, parse_max_age};
pub use query::{Candidate, KevInfo, RawCandidate, SearchHit};
pub use schema::{SCHEMA_VERSION, name_key};
