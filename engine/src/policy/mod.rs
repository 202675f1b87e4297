//! Bundle + Inventory + Matches → [`Evaluation`]: GO/WARN/STOP per fired trigger and one final
//! action, in Anchore's policy-bundle format (v1 and v2).
//!
//! - [`Bundle`] (`bundle/`): load JSON/YAML v1/v2, validate with located diagnostics (all
//!   problems at once), normalise, convert back; [`Bundle::default_bundle`] is embedded.
//! - [`gates`]: the `GATES` table — every gate, trigger and param, shared by validation,
//!   `policy describe` and evaluation.
//! - [`evaluate`]: mapping resolution ([`mapping`]), trigger ids, allowlists ([`allowlist`]),
//!   allowlisted/denylisted images, final action.
//!
//! This stage never reads images or the network; everything a gate needs is in the inventory,
//! the matches and the [`EvalInput`] facts (Dockerfile, tag, DB age, previous analysis).

mod allowlist;
pub mod bundle;
pub mod content;
mod error;
mod evaluate;
pub mod gates;
pub mod mapping;
mod model;
#[cfg(test)]
mod tests;

pub use bundle::{Bundle, BundleFormat};
pub use content::{ContentNeeds, FileFacts};
pub use error::{BundleProblem, PolicyError, ProblemKind};
pub use evaluate::{EvalInput, evaluate};
pub use model::*;
