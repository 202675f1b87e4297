//! [`Analysis`]: the one final document of a scan. Every report adapter reads only this; the
//! native JSON output (`-o json`) is this value serialised, documented by
//! `docs/analysis.schema.json`.

use serde::{Deserialize, Serialize};

use crate::catalog::Inventory;
use crate::matcher::Match;
use crate::policy::Evaluation;

/// The version of the native analysis JSON. Bump the major on breaking changes.
pub const SCHEMA_VERSION: &str = "1.0";

/// The tool that made an analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `tollgate`.
    pub name: String,
    /// The tool's version.
    pub version: String,
}

impl ToolInfo {
    /// This build of Tollgate.
    pub fn current() -> Self {
        ToolInfo {
            name: "tollgate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Facts about the vulnerability DB a scan used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInfo {
    /// Path of the DB file.
    pub path: String,
    /// RFC 3339 build time.
    pub built: String,
    /// Schema version of the DB.
    pub schema_version: u32,
    /// Content checksum.
    #[serde(default)]
    pub checksum: String,
}

/// The final document of a scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The tool.
    pub tool: ToolInfo,
    /// RFC 3339 time the analysis was made.
    pub created: String,
    /// What was found in the image.
    pub inventory: Inventory,
    /// Vulnerability matches (suppressed ones included, marked).
    #[serde(default)]
    pub matches: Vec<Match>,
    /// The DB used, when vulnerabilities were matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<DbInfo>,
    /// The policy evaluation, when a policy was evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
}
