//! Gate `retrieved_files`: checks on the contents of files kept at analysis time.
//!
//! Reads `Inventory.retrieved_files` (the pipeline keeps the paths named by the bundle's
//! `retrieved_files` rules, see `Bundle::retrieved_paths`). Content is split on whitespace and
//! each token tested with a start-anchored regex, as Anchore does.

use super::{
    Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec, re_match_start,
};

/// The `retrieved_files` gate.
pub(crate) struct RetrievedFiles;

static NOT_AVAILABLE: &[ParamSpec] =
    &[ParamSpec::new("path", ParamKind::Str, true).doc("absolute path of the file")];
static REGEX: &[ParamSpec] = &[
    ParamSpec::new("path", ParamKind::Str, true).doc("absolute path of the file"),
    ParamSpec::new("regex", ParamKind::Regex, true)
        .doc("regex tested against each whitespace-separated token"),
    ParamSpec::new("check", ParamKind::Enum(&["match", "no_match"]), true)
        .doc("fire when any token matches, or when none does"),
];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "content_not_available",
        aliases: &[],
        description: "Fires if the file was not retrieved from the image.",
        params: NOT_AVAILABLE,
        eval: not_available,
    },
    TriggerSpec {
        name: "content_regex",
        aliases: &[],
        description: "Fires if the retrieved file's tokens match (or do not match) the regex.",
        params: REGEX,
        eval: content_regex,
    },
];

fn not_available(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(path) = p.get("path") else { return };
    if !input.inventory.retrieved_files.contains_key(path) {
        out.push(Fired::msg("Cannot locate file in the image analysis"));
    }
}

fn content_regex(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let (Some(path), Some(regex), Some(check)) = (p.get("path"), p.get("regex"), p.get("check"))
    else {
        return;
    };
    let Some(content) = input.inventory.retrieved_files.get(path) else {
        return;
    };
    let Some(re) = re_match_start(regex) else {
        return;
    };
    let any = content.split_whitespace().any(|t| re.is_match(t));
    if (check == "match") == any {
        let rule_id = if p.rule_id.is_empty() {
            "None"
        } else {
            p.rule_id
        };
        out.push(Fired::with_id(
            format!("{rule_id}+file://{path}"),
            format!("Content regex '{regex}' check '{check}' found in retrieved file '{path}'"),
        ));
    }
}

impl Gate for RetrievedFiles {
    fn name(&self) -> &'static str {
        "retrieved_files"
    }
    fn description(&self) -> &'static str {
        "Checks on retrieved file contents."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
