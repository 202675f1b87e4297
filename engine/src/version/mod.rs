//! Version schemes per ecosystem: parse, compare, and test membership in OSV ranges.
//!
//! Pure functions: no I/O, no knowledge of packages or advisories.
