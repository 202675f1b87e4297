//! Language ecosystems: installed metadata (Python, npm, Java archives, gems, Composer, .NET),
//! compiled-in module info (Go build info, cargo-auditable) and, off by default for images,
//! declared lock files (npm/yarn/pnpm, Cargo.lock, Gemfile.lock, composer.lock).

pub mod cargo_auditable;
pub mod dotnet;
pub mod go_binary;
pub mod java;
pub mod npm;
pub mod php;
pub mod python;
pub mod ruby;
pub mod rust;
