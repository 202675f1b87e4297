//! The advisory store: build from OSV, update, open read-only, query. Knows no images.
