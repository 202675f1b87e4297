//! Gate `ruby_gems`: gems against a name/version denylist, plus Anchore's retired gem
//! metadata feed (never published any more: the feed triggers never fire and
//! `feed_data_unavailable` always does).
//!
//! Reads `Inventory.packages` of type gem.

use super::npms::name_version_hit;
use super::{Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec};
use crate::catalog::PackageType;

/// The `ruby_gems` gate.
pub(crate) struct RubyGems;

static NAME_VERSION: &[ParamSpec] = &[
    ParamSpec::new("name", ParamKind::Str, true).doc("gem name"),
    ParamSpec::new("version", ParamKind::Str, false).doc("exact version (any version when absent)"),
];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "newer_version_found_in_feed",
        aliases: &[],
        description: "Installed version differs from the feed's latest (no feed: never fires).",
        params: &[],
        eval: |_, _, _| {},
    },
    TriggerSpec {
        name: "not_found_in_feed",
        aliases: &[],
        description: "Gem not in the feed (no feed: never fires).",
        params: &[],
        eval: |_, _, _| {},
    },
    TriggerSpec {
        name: "version_not_found_in_feed",
        aliases: &[],
        description: "Installed version not in the feed (no feed: never fires).",
        params: &[],
        eval: |_, _, _| {},
    },
    TriggerSpec {
        name: "blacklist",
        aliases: &["denylist"],
        description: "Fires once if a gem with that name (and version) is installed.",
        params: NAME_VERSION,
        eval: denylisted,
    },
    TriggerSpec {
        name: "feed_data_unavailable",
        aliases: &[],
        description: "The gem metadata feed is unavailable (always true in Tollgate).",
        params: &[],
        eval: |_, _, out| {
            out.push(Fired::msg("Gem packages are present but the anchore gem feed is not available - will be unable to perform checks that require feed data"))
        },
    },
];

fn denylisted(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    name_version_hit(
        input,
        p,
        PackageType::Gem,
        "Gem Package is blacklisted",
        out,
    );
}

impl Gate for RubyGems {
    fn name(&self) -> &'static str {
        "ruby_gems"
    }
    fn description(&self) -> &'static str {
        "Ruby gem checks (denylist; the retired gem feed triggers never fire)."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
