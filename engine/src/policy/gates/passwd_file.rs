//! Gate `passwd_file`: checks on the image's `/etc/passwd` entries.
//!
//! Reads `Inventory.retrieved_files["/etc/passwd"]`. Lines are split on `:`; entries are keyed
//! by user name (a later duplicate replaces the earlier one in place, as in Anchore). Without the
//! file only `content_not_available` fires.

use super::{Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec};

/// The `passwd_file` gate.
pub(crate) struct PasswdFile;

static USERS: &[ParamSpec] = &[ParamSpec::new("user_names", ParamKind::CommaList, true)
    .aliases(&["usernameblacklist", "usernamedenylist"])
    .doc("user names")];
static UIDS: &[ParamSpec] = &[ParamSpec::new("user_ids", ParamKind::NumberList, true)
    .aliases(&["useridblacklist", "useriddenylist"])
    .doc("numeric uids")];
static GIDS: &[ParamSpec] =
    &[ParamSpec::new("group_ids", ParamKind::NumberList, true).doc("numeric gids")];
static SHELLS: &[ParamSpec] =
    &[ParamSpec::new("shells", ParamKind::CommaList, true).doc("login shells")];
static ENTRY: &[ParamSpec] =
    &[ParamSpec::new("entry", ParamKind::Str, true).doc("a full passwd line")];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "content_not_available",
        aliases: &[],
        description: "Fires if /etc/passwd was not retrieved from the image.",
        params: &[],
        eval: not_available,
    },
    TriggerSpec {
        name: "blacklist_usernames",
        aliases: &["denylist_usernames"],
        description: "Fires per entry whose user name is listed.",
        params: USERS,
        eval: |i, p, o| field(i, p, o, 0, "user_names", "user"),
    },
    TriggerSpec {
        name: "blacklist_userids",
        aliases: &["denylist_userids"],
        description: "Fires per entry whose uid is listed.",
        params: UIDS,
        eval: |i, p, o| field(i, p, o, 2, "user_ids", "uid"),
    },
    TriggerSpec {
        name: "blacklist_groupids",
        aliases: &["denylist_groupids"],
        description: "Fires per entry whose gid is listed.",
        params: GIDS,
        eval: |i, p, o| field(i, p, o, 3, "group_ids", "gid"),
    },
    TriggerSpec {
        name: "blacklist_shells",
        aliases: &["denylist_shells"],
        description: "Fires per entry whose shell is listed.",
        params: SHELLS,
        eval: |i, p, o| field(i, p, o, 6, "shells", "shell"),
    },
    TriggerSpec {
        name: "blacklist_full_entry",
        aliases: &["denylist_full_entry"],
        description: "Fires per entry equal to the given line.",
        params: ENTRY,
        eval: full_entry,
    },
];

/// Parsed entries: (fields, full line), keyed by name with in-place replacement.
pub(crate) fn entries(text: &str) -> Vec<(Vec<&str>, &str)> {
    let mut out: Vec<(Vec<&str>, &str)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        if let Some(slot) = out.iter_mut().find(|(f, _)| f.first() == fields.first()) {
            *slot = (fields, line);
        } else {
            out.push((fields, line));
        }
    }
    out
}

fn passwd<'a>(input: &GateInput<'a>) -> Option<&'a str> {
    input
        .inventory
        .retrieved_files
        .get("/etc/passwd")
        .map(String::as_str)
}

fn not_available(input: &GateInput<'_>, _: &RuleParams<'_>, out: &mut Vec<Fired>) {
    if passwd(input).is_none() {
        out.push(Fired::msg(
            "Cannot locate /etc/passwd in image stored files archive: check analyzer settings.",
        ));
    }
}

fn field(
    input: &GateInput<'_>,
    p: &RuleParams<'_>,
    out: &mut Vec<Fired>,
    index: usize,
    param: &str,
    label: &str,
) {
    let Some(text) = passwd(input) else { return };
    let wanted = p.list(param);
    for (fields, line) in entries(text) {
        if let Some(v) = fields.get(index)
            && wanted.iter().any(|w| w == v)
        {
            out.push(Fired::msg(format!(
                "Blacklisted {label} '{v}' found in image's /etc/passwd: pentry={line}"
            )));
        }
    }
}

fn full_entry(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(text) = passwd(input) else { return };
    let Some(entry) = p.get("entry").map(str::trim) else {
        return;
    };
    for (_, line) in entries(text) {
        if line == entry {
            out.push(Fired::msg(format!(
                "Blacklisted pentry '{entry}' found in image's /etc/passwd: pentry={entry}"
            )));
        }
    }
}

impl Gate for PasswdFile {
    fn name(&self) -> &'static str {
        "passwd_file"
    }
    fn description(&self) -> &'static str {
        "Content checks of /etc/passwd."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
