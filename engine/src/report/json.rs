//! `json`: the native analysis document, [`Analysis`] serialised as is (pretty, UTF-8, one
//! trailing newline). Field order follows the model structs and maps are sorted, so the same
//! analysis always gives the same bytes. Documented by `docs/analysis.schema.json`.

use std::io::Write;

use super::{Adapter, RenderCx, ReportError};
use crate::analysis::Analysis;

/// The `json` adapter.
pub(crate) struct Json;

impl Adapter for Json {
    fn id(&self) -> &'static str {
        "json"
    }

    fn description(&self) -> &'static str {
        "the native analysis document (stable, documented)"
    }

    fn write(
        &self,
        analysis: &Analysis,
        _cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        serde_json::to_writer_pretty(&mut *out, analysis).map_err(|source| ReportError::Json {
            format: "json",
            source,
        })?;
        out.write_all(b"\n").map_err(|source| ReportError::Render {
            format: "json",
            source,
        })
    }
}

/// An adapter that renders a JSON value computed from the analysis (CycloneDX, SPDX).
pub(crate) struct ValueAdapter {
    /// Format id.
    pub(crate) id: &'static str,
    /// Aliases.
    pub(crate) aliases: &'static [&'static str],
    /// Help line.
    pub(crate) description: &'static str,
    /// Versions accepted as `FORMAT@VERSION`.
    pub(crate) versions: &'static [&'static str],
    /// The projection, given the version asked for (`None`: the default).
    pub(crate) render: fn(&Analysis, Option<&str>) -> serde_json::Value,
}

/// `spdx-json` (one version).
pub(crate) fn spdx_json(analysis: &Analysis, _version: Option<&str>) -> serde_json::Value {
    super::spdx::to_json(analysis)
}

impl Adapter for ValueAdapter {
    fn id(&self) -> &'static str {
        self.id
    }

    fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn versions(&self) -> &'static [&'static str] {
        self.versions
    }

    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let value = (self.render)(analysis, cx.version);
        serde_json::to_writer_pretty(&mut *out, &value).map_err(|source| ReportError::Json {
            format: self.id,
            source,
        })?;
        out.write_all(b"\n").map_err(|source| ReportError::Render {
            format: self.id,
            source,
        })
    }
}
