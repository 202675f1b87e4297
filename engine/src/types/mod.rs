//! Leaf value types shared by every stage: no I/O, no stage logic.

pub mod cvss;
mod severity;

pub use cvss::{Cvss, CvssError, CvssVersion, Rating};
pub use severity::Severity;
