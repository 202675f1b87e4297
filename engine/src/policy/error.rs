//! [`PolicyError`]: everything that can stop a bundle from loading or being evaluated, and
//! [`BundleProblem`], one located validation problem (all of them are reported at once).
//!
//! Findings are never errors: a trigger that fires is data in the `Evaluation`.

use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// The class of a validation problem; each has a stable diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A required field is absent or has the wrong JSON type.
    BadField,
    /// The gate does not exist.
    UnknownGate,
    /// The trigger does not exist in the gate.
    UnknownTrigger,
    /// A param the trigger does not define.
    UnknownParam,
    /// A required param is absent.
    MissingParam,
    /// A param value fails its validator.
    BadParamValue,
    /// A regex param does not compile.
    BadRegex,
    /// An allowlist item's `expires_on` is not one of the accepted UTC forms.
    BadExpiresOn,
    /// Two objects of the same kind share an id.
    DuplicateId,
    /// A mapping names a policy / allowlist that does not exist.
    MissingReference,
    /// An action other than GO/WARN/STOP.
    BadAction,
    /// A mapping/image rule selector is malformed.
    BadSelector,
}

impl ProblemKind {
    /// The stable diagnostic code.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::BadField => "tollgate::policy::bad-field",
            ProblemKind::UnknownGate => "tollgate::policy::unknown-gate",
            ProblemKind::UnknownTrigger => "tollgate::policy::unknown-trigger",
            ProblemKind::UnknownParam => "tollgate::policy::unknown-param",
            ProblemKind::MissingParam => "tollgate::policy::missing-param",
            ProblemKind::BadParamValue => "tollgate::policy::bad-param-value",
            ProblemKind::BadRegex => "tollgate::policy::bad-regex",
            ProblemKind::BadExpiresOn => "tollgate::policy::bad-expires-on",
            ProblemKind::DuplicateId => "tollgate::policy::duplicate-id",
            ProblemKind::MissingReference => "tollgate::policy::missing-reference",
            ProblemKind::BadAction => "tollgate::policy::bad-action",
            ProblemKind::BadSelector => "tollgate::policy::bad-selector",
        }
    }
}

/// One validation problem, located in the bundle text.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct BundleProblem {
    /// Its class.
    pub kind: ProblemKind,
    /// What is wrong (names the rule / item / mapping at fault).
    pub message: String,
    /// Where in the bundle text.
    pub span: SourceSpan,
    /// How to fix it (names the key to change).
    pub help: Option<String>,
}

impl Diagnostic for BundleProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".to_string()), self.span),
        )))
    }
}

/// Why a bundle could not be loaded, stored or evaluated.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum PolicyError {
    /// The bundle file could not be read.
    #[error("cannot read policy bundle `{path}`")]
    #[diagnostic(
        code("tollgate::policy::read"),
        help("check the path given to `--policy`")
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The text is not valid JSON / YAML.
    #[error("policy bundle `{name}` is not valid {format}: {message}")]
    #[diagnostic(
        code("tollgate::policy::syntax"),
        help("a bundle is one JSON object (or the same structure in YAML)")
    )]
    Syntax {
        /// The file name.
        name: String,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message.
        message: String,
        /// The text.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("here")]
        span: SourceSpan,
    },

    /// The bundle `version` is neither `1_0` nor `2`.
    #[error("unsupported policy bundle version {found}")]
    #[diagnostic(
        code("tollgate::policy::unsupported-version"),
        help("set the top-level `version` to \"1_0\" (Anchore v1 bundle) or \"2\" (v2 policy)")
    )]
    UnsupportedVersion {
        /// The version as written.
        found: String,
        /// The text.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("this version")]
        span: SourceSpan,
    },

    /// The bundle has one or more validation problems (all are listed).
    #[error("policy bundle `{name}` is invalid: {count} problem(s)")]
    #[diagnostic(
        code("tollgate::policy::invalid"),
        help(
            "fix every problem listed; `tollgate policy describe GATE` lists triggers and params"
        )
    )]
    Invalid {
        /// The file name.
        name: String,
        /// How many problems.
        count: usize,
        /// The text.
        #[source_code]
        src: NamedSource<String>,
        /// Every problem.
        #[related]
        problems: Vec<BundleProblem>,
    },

    /// `policy convert` was asked for a form that cannot hold the bundle.
    #[error("cannot write the bundle as {target}: {reason}")]
    #[diagnostic(code("tollgate::policy::convert"), help("pick the other `--to` form"))]
    Convert {
        /// `v1` or `v2`.
        target: &'static str,
        /// Why.
        reason: String,
    },

    /// Serialising a bundle failed.
    #[error("cannot serialise the bundle")]
    #[diagnostic(code("tollgate::policy::serialize"))]
    Serialize {
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl PolicyError {
    /// The validation problems, when this is [`PolicyError::Invalid`].
    pub fn problems(&self) -> &[BundleProblem] {
        match self {
            PolicyError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}
