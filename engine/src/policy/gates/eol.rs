//! End-of-lifed Anchore gates: accepted in bundles with a warning, never evaluated
//! (anchore-policy.md §4.13), plus Enterprise gates Tollgate does not implement.
//!
//! Only names live here; no evaluation.

/// One end-of-lifed gate.
#[derive(Debug, Clone, Copy)]
pub struct EolGate {
    /// The gate name (lower-case).
    pub name: &'static str,
    /// The gate that replaced it, if any.
    pub superseded_by: Option<&'static str>,
    /// Its former triggers.
    pub triggers: &'static [&'static str],
}

/// Every EOL gate of anchore-engine.
pub static EOL_GATES: &[EolGate] = &[
    EolGate {
        name: "anchoresec",
        superseded_by: Some("vulnerabilities"),
        triggers: &[
            "vulnlow",
            "vulnmedium",
            "vulnhigh",
            "vulncritical",
            "vulnunknown",
            "feedoutofdate",
            "unsupporteddistro",
        ],
    },
    EolGate {
        name: "dockerfilecheck",
        superseded_by: Some("dockerfile"),
        triggers: &[
            "directivecheck",
            "effectiveuser",
            "expose",
            "nofrom",
            "fromscratch",
            "notag",
            "sudo",
            "volumepresent",
            "nohealthcheck",
            "nodockerfile",
        ],
    },
    EolGate {
        name: "filecheck",
        superseded_by: Some("files"),
        triggers: &["contentmatch", "filenamematch", "suidsgidcheck"],
    },
    EolGate {
        name: "fileparse_passwd",
        superseded_by: Some("passwd_file"),
        triggers: &[
            "filenotstored",
            "usernamematch",
            "useridmatch",
            "groupidmatch",
            "shellmatch",
            "pentrymatch",
        ],
    },
    EolGate {
        name: "gemcheck",
        superseded_by: Some("gems"),
        triggers: &[
            "gemnotlatest",
            "gemnotofficial",
            "gembadversion",
            "gempkgfullmatch",
            "gempkgnamematch",
            "gemnofeed",
        ],
    },
    EolGate {
        name: "npmcheck",
        superseded_by: Some("npms"),
        triggers: &[
            "npmnotlatest",
            "npmnotofficial",
            "npmbadversion",
            "npmpkgfullmatch",
            "npmpkgnamematch",
            "npmnofeed",
        ],
    },
    EolGate {
        name: "licblacklist",
        superseded_by: Some("licenses"),
        triggers: &["licfullmatch", "licsubmatch"],
    },
    EolGate {
        name: "metadatacheck",
        superseded_by: Some("metadata"),
        triggers: &["attributecheck"],
    },
    EolGate {
        name: "pkgblacklist",
        superseded_by: Some("packages"),
        triggers: &["pkgfullmatch", "pkgnamematch"],
    },
    EolGate {
        name: "pkgcheck",
        superseded_by: Some("packages"),
        triggers: &["pkgnotpresent", "verify"],
    },
    EolGate {
        name: "secretcheck",
        superseded_by: Some("secret_scans"),
        triggers: &["contentmatch", "filenamematch"],
    },
    EolGate {
        name: "pkgdiff",
        superseded_by: None,
        triggers: &["pkgversiondiff", "pkgadd", "pkgdel", "pkgdiff"],
    },
    EolGate {
        name: "suiddiff",
        superseded_by: None,
        triggers: &["suidmodediff", "suidfileadd", "suidfiledel", "suiddiff"],
    },
    EolGate {
        name: "imagecheck",
        superseded_by: None,
        triggers: &["baseoutofdate"],
    },
];

/// Enterprise gates Tollgate does not implement, with the reason (validation names it).
pub(crate) static UNSUPPORTED_GATES: &[(&str, &str)] = &[
    (
        "ancestry",
        "needs base-image ancestry from an image catalog; not implemented",
    ),
    (
        "image_source_drift",
        "deprecated by Anchore and needs a source-repository SBOM",
    ),
    (
        "stig",
        "needs STIG evaluation results, which Tollgate does not produce",
    ),
];

/// The EOL gate named `name` (case-insensitive).
pub(crate) fn eol_gate(name: &str) -> Option<&'static EolGate> {
    let lower = name.to_ascii_lowercase();
    EOL_GATES.iter().find(|g| g.name == lower)
}

/// The EOL message Anchore adds to evaluation problems.
pub(crate) fn eol_message(gate: &str, trigger: &str) -> String {
    let g = eol_gate(gate);
    match g.and_then(|g| g.superseded_by) {
        Some(new) => format!(
            "Gate/trigger {gate}/{trigger} has been End-of-Lifed. It will not be evaluated, and should be removed from policies and replaced with '{new}'"
        ),
        None => format!(
            "Gate/trigger {gate}/{trigger} has been End-of-Lifed. It will not be evaluated, and should be removed from policies"
        ),
    }
}
