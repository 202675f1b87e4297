//! Gate `files`: file names, modes, setuid/setgid bits and content-regex hits.
//!
//! Reads `Inventory.files` (path, kind, permission bits) and the content-regex hits prepared in
//! [`GateInput::content`]. Modes are printed like Python's `oct()` of the full `st_mode`
//! (file-type bits included: `0o104755`, directories `0o42775`), because whitelists in real
//! bundles hash those messages. `attribute_match` checksums come from [`GateInput::files`]
//! (sha256 computed during the scan only for the files such rules name); when they were not
//! computed (a re-evaluated saved analysis, a file over the size cap) the check cannot hold and
//! the rule does not fire (the evaluator adds a warning).

use super::{
    Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec, py_oct, re_match_start,
};
use crate::image::{FileEntry, FileKind};

/// The `files` gate.
pub(crate) struct Files;

static CONTENT: &[ParamSpec] = &[ParamSpec::new("regex_name", ParamKind::Str, false)
    .doc("select one content regex by NAME, REGEX or NAME=REGEX (all when absent)")];
static NAME: &[ParamSpec] = &[ParamSpec::new("regex", ParamKind::Regex, true)
    .doc("regex matched from the start of each path")];
static ATTRIBUTE: &[ParamSpec] = &[
    ParamSpec::new("filename", ParamKind::Str, true).doc("absolute path"),
    ParamSpec::new("checksum_algorithm", ParamKind::Enum(&["sha256"]), false)
        .default("sha256")
        .doc("checksum algorithm"),
    ParamSpec::new("checksum", ParamKind::Str, false).doc("expected checksum"),
    ParamSpec::new(
        "checksum_match",
        ParamKind::Enum(&["equals", "not_equals"]),
        false,
    )
    .default("equals")
    .doc("checksum comparison"),
    ParamSpec::new("mode", ParamKind::Str, false).doc("octal permission bits (00644)"),
    ParamSpec::new("mode_op", ParamKind::Enum(&["equals", "not_equals"]), false)
        .default("equals")
        .doc("mode comparison"),
    ParamSpec::new("skip_missing", ParamKind::Boolean, false)
        .default("true")
        .doc("do not fire when the file is absent"),
];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "content_regex_match",
        aliases: &[],
        description: "Fires per (file, regex) content-regex hit.",
        params: CONTENT,
        eval: content_regex,
    },
    TriggerSpec {
        name: "name_match",
        aliases: &[],
        description: "Fires per file whose path matches the regex.",
        params: NAME,
        eval: name_match,
    },
    TriggerSpec {
        name: "attribute_match",
        aliases: &[],
        description: "Fires if the file's mode/checksum checks all hold (or it is missing and skip_missing=false).",
        params: ATTRIBUTE,
        eval: attribute_match,
    },
    TriggerSpec {
        name: "suid_or_guid_set",
        aliases: &[],
        description: "Fires per file or directory with the setuid or setgid bit.",
        params: &[],
        eval: suid,
    },
];

/// The full `st_mode` (type bits + permission bits) of an entry.
pub(crate) fn st_mode(e: &FileEntry) -> u32 {
    let kind = match e.kind {
        FileKind::Regular | FileKind::Hardlink => 0o100000,
        FileKind::Directory => 0o040000,
        FileKind::Symlink => 0o120000,
        FileKind::CharDevice => 0o020000,
        FileKind::BlockDevice => 0o060000,
        FileKind::Fifo => 0o010000,
    };
    kind | (e.mode & 0o7777)
}

fn content_regex(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let filter = p.get_nonempty("regex_name");
    let mut seen = std::collections::HashSet::new();
    for hit in &input.content {
        let regex = hit.name_regex.split_once('=').map_or("", |(_, r)| r);
        let selected = filter.is_none_or(|f| f == hit.name || f == regex || f == hit.name_regex);
        if selected && seen.insert((&hit.path, &hit.name)) {
            out.push(Fired::msg(format!(
                "File content analyzer found regexp match in container: file={} regexp={}",
                hit.path, hit.name_regex
            )));
        }
    }
}

fn name_match(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(regex) = p.get("regex") else { return };
    let Some(re) = re_match_start(regex) else {
        return;
    };
    for f in &input.inventory.files {
        if re.is_match(&f.path) {
            out.push(Fired::msg(format!(
                "Application of regex matched file found in container: file={} regexp={regex}",
                f.path
            )));
        }
    }
}

fn parse_octal(v: &str) -> Option<u32> {
    let v = v.trim();
    let v = v
        .strip_prefix("0o")
        .or_else(|| v.strip_prefix("0O"))
        .unwrap_or(v);
    u32::from_str_radix(v, 8).ok()
}

fn attribute_match(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let Some(filename) = p.get("filename") else {
        return;
    };
    let entry = input.inventory.files.iter().find(|f| f.path == filename);
    let Some(entry) = entry else {
        if p.boolean("skip_missing") == Some(false) {
            out.push(Fired::msg(format!(
                "filename={filename} and skip_missing=False"
            )));
        }
        return;
    };
    let mut msg = format!("filename={filename}");
    let mut checked = false;
    if let Some(sum) = p.get_nonempty("checksum") {
        let Some(actual) = file_sha256(input, filename) else {
            return;
        };
        let op = p.get("checksum_match").unwrap_or("equals");
        let equal = actual.eq_ignore_ascii_case(sum.trim());
        if equal != (op == "equals") {
            return;
        }
        checked = true;
        msg.push_str(&format!(
            " and checksum={actual} op={op} specified_checksum={sum}"
        ));
    }
    if let Some(mode) = p.get_nonempty("mode") {
        let Some(wanted) = parse_octal(mode) else {
            return;
        };
        let actual = entry.mode & 0o7777;
        let op = p.get("mode_op").unwrap_or("equals");
        let holds = if op == "not_equals" {
            actual != wanted
        } else {
            actual == wanted
        };
        if !holds {
            return;
        }
        checked = true;
        msg.push_str(&format!(
            " and mode={} op={op} specified_mode={}",
            py_oct(actual),
            py_oct(wanted)
        ));
    }
    if checked {
        out.push(Fired::msg(msg));
    }
}

/// The sha256 of `filename` computed during the scan (the rule's path as written, or its
/// normalised form).
fn file_sha256<'a>(input: &GateInput<'a>, filename: &str) -> Option<&'a str> {
    let facts = input.files?;
    facts
        .sha256
        .get(filename)
        .or_else(|| {
            crate::image::normalize_path(filename).and_then(|n| facts.sha256.get(n.as_str()))
        })
        .map(String::as_str)
}

fn suid(input: &GateInput<'_>, _: &RuleParams<'_>, out: &mut Vec<Fired>) {
    for f in &input.inventory.files {
        if f.mode & 0o6000 != 0
            && matches!(
                f.kind,
                FileKind::Regular | FileKind::Hardlink | FileKind::Directory
            )
        {
            out.push(Fired::msg(format!(
                "SUID or SGID found set on file {}. Mode: {}",
                f.path,
                py_oct(st_mode(f))
            )));
        }
    }
}

impl Gate for Files {
    fn name(&self) -> &'static str {
        "files"
    }
    fn description(&self) -> &'static str {
        "Checks against files in the analyzed image: names, modes, setuid/setgid, content regexes."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}
