//! [`Analysis`](crate::analysis::Analysis) → bytes, one adapter per output format.
//!
//! Adapters read only the final analysis; they never reach back into earlier stages.
