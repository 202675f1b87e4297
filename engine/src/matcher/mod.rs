//! [`Inventory`](crate::catalog::Inventory) + the advisory DB → [`Match`]es, each carrying the
//! range evaluation that made it, plus suppression (ignore rules, VEX).
//!
//! This stage reads the DB only through `vulndb`'s query API and compares versions only through
//! `version`; it knows nothing of policies or report formats.

mod model;

pub use model::*;
