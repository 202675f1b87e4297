//! Leaf value types shared by every stage: no I/O, no stage logic.

mod severity;

pub use severity::Severity;
