//! Tollgate's engine: everything between an image reference and a pass/fail decision.
//!
//! Data flows one way, each stage producing a plain serde value the next one reads:
//!
//! ```text
//! image     reference → Image (config, layers, squashed FileTree with layer attribution)
//! catalog   Image → Inventory (distro, packages, files, secrets, config facts, problems)
//! vulndb    the advisory store (build, update, open read-only, query); knows no images
//! version   version schemes per ecosystem: parse, compare, range membership (pure)
//! matcher   Inventory + VulnDb → Matches (each with the range evaluation that made it)
//! policy    Bundle + Inventory + Matches → Evaluation (GO/WARN/STOP per rule, final action)
//! analysis  Analysis: the one final document every report adapter reads
//! report    Analysis → bytes (table, json, sarif, gitlab, junit, cyclonedx, spdx, markdown)
//! pipeline  the only place that calls the stages in order
//! ```
//!
//! The engine never prints; it returns values and errors, and the `tollgate` binary decides what
//! goes to stdout (data) and what to stderr. A module may use `types`, `version` and the stages
//! above it in this list, never one below.

pub mod analysis;
pub mod catalog;
pub mod error;
pub mod github;
pub mod image;
pub mod matcher;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod store;
pub mod types;
pub mod version;
pub mod vulndb;
pub mod watch;

pub use error::{Error, Result};
