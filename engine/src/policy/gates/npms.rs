//! Gate `npms`: npm packages against a name/version denylist, plus Anchore's retired npm
//! metadata feed. That feed is no longer published, so the feed-comparison triggers never fire
//! and `feed_data_unavailable` always does (as the engine does without the feed).
//!
//! Reads `Inventory.packages` of type npm.

use super::{Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec};
use crate::catalog::PackageType;

/// The `npms` gate.
pub(crate) struct Npms;

static NAME_VERSION: &[ParamSpec] = &[
    ParamSpec::new("name", ParamKind::Str, true).doc("npm package name"),
    ParamSpec::new("version", ParamKind::Str, false).doc("exact version (any version when absent)"),
];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "newer_version_in_feed",
        aliases: &[],
        description: "Installed version differs from the feed's latest (no feed: never fires).",
        params: &[],
        eval: |_, _, _| {},
    },
    TriggerSpec {
        name: "unknown_in_feeds",
        aliases: &[],
        description: "Package not in the npm feed (no feed: never fires).",
        params: &[],
        eval: |_, _, _| {},
    },
    TriggerSpec {
        name: "version_not_in_feeds",
        aliases: &[],
        description: "Installed version not in the feed (no feed: never fires).",
        params: &[],
        eval: |_, _, _| {},
    },
    TriggerSpec {
        name: "blacklisted_name_version",
        aliases: &["denylisted_name_version"],
        description: "Fires once if an npm package with that name (and version) is installed.",
        params: NAME_VERSION,
        eval: denylisted,
    },
    TriggerSpec {
        name: "feed_data_unavailable",
        aliases: &[],
        description: "The npm metadata feed is unavailable (always true in Tollgate).",
        params: &[],
        eval: |_, _, out| {
            out.push(Fired::msg("NPM packages are present but the anchore npm feed is not available - will be unable to perform checks that require feed data"))
        },
    },
];

fn denylisted(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    name_version_hit(
        input,
        p,
        PackageType::Npm,
        "NPM Package is blacklisted",
        out,
    );
}

/// Shared by `npms` and `ruby_gems`: fire once if name (and version) is installed.
pub(super) fn name_version_hit(
    input: &GateInput<'_>,
    p: &RuleParams<'_>,
    kind: PackageType,
    prefix: &str,
    out: &mut Vec<Fired>,
) {
    let Some(name) = p.get("name") else { return };
    let version = p.get_nonempty("version");
    let found = input.inventory.packages.iter().any(|pkg| {
        pkg.kind == kind && pkg.name == name && version.is_none_or(|v| pkg.version == v)
    });
    if found {
        let what = match version {
            Some(v) => format!("{name}-{v}"),
            None => name.to_string(),
        };
        out.push(Fired {
            package: Some(name.to_string()),
            ..Fired::msg(format!("{prefix}: {what}"))
        });
    }
}

impl Gate for Npms {
    fn name(&self) -> &'static str {
        "npms"
    }
    fn description(&self) -> &'static str {
        "npm package checks (denylist; the retired npm feed triggers never fire)."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
