//! Bundle + Inventory + Matches → [`Evaluation`]: GO/WARN/STOP per fired trigger and one final
//! action, in Anchore's policy-bundle format (v1 and v2).
//!
//! This stage never reads images or the network; everything a gate needs is in the inventory
//! and the matches.

mod model;

pub use model::*;
