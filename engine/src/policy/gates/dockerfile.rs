//! Gate `dockerfile`: checks on the image's Dockerfile, either the actual one given with
//! `--dockerfile` or one rebuilt from the image config history (Anchore's "guessed" mode).
//!
//! [`Dockerfile::parse`] follows Anchore: lines trimmed, comments and blanks dropped, a
//! trailing `\` joins the next line, the first word upper-cased is the directive. A rebuilt
//! Dockerfile takes each history `created_by` (`/bin/sh -c #(nop) X` → `X`, `/bin/sh -c X` →
//! `RUN X`, BuildKit's `EXPOSE map[22/tcp:{}]` → `EXPOSE 22/tcp`), and adds `USER`/`EXPOSE`
//! from the config when history lacks them. An empty Dockerfile counts as no data.

use super::{
    Fired, Gate, GateInput, ParamKind, ParamSpec, RuleParams, TriggerSpec, re_match_start,
    split_list,
};
use crate::image::ImageConfig;

/// Where the Dockerfile came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DockerfileMode {
    /// Supplied by the user (`--dockerfile`).
    Actual,
    /// Rebuilt from image history.
    Guessed,
    /// No Dockerfile data.
    #[default]
    Unknown,
}

/// A parsed Dockerfile: `(DIRECTIVE, rest of line)` in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dockerfile {
    /// Where it came from.
    pub mode: DockerfileMode,
    /// Instructions, directive upper-cased, argument trimmed.
    pub lines: Vec<(String, String)>,
}

impl Dockerfile {
    /// Parses Dockerfile text.
    pub fn parse(text: &str, mode: DockerfileMode) -> Dockerfile {
        let mut lines = Vec::new();
        let mut pending = String::new();
        for raw in text.lines() {
            let line = raw.trim();
            if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
                continue;
            }
            if let Some(head) = line.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            pending.push_str(line);
            let full = std::mem::take(&mut pending);
            push_instruction(&mut lines, &full);
        }
        if !pending.trim().is_empty() {
            push_instruction(&mut lines, &pending);
        }
        Dockerfile { mode, lines }
    }

    /// Rebuilds a Dockerfile from the image config history.
    pub fn from_history(config: &ImageConfig) -> Dockerfile {
        let mut lines = Vec::new();
        for h in &config.history {
            let mut cmd = h.created_by.trim();
            if let Some(rest) = cmd.strip_prefix("/bin/sh -c #(nop)") {
                cmd = rest.trim();
            } else if let Some(rest) = cmd.strip_prefix("/bin/sh -c") {
                push_instruction(&mut lines, &format!("RUN {}", rest.trim()));
                continue;
            }
            let cmd = cmd.strip_suffix("# buildkit").unwrap_or(cmd).trim();
            if cmd.is_empty() {
                continue;
            }
            if let Some(rest) = cmd.strip_prefix("EXPOSE map[") {
                let ports: Vec<&str> = rest
                    .trim_end_matches(']')
                    .split_whitespace()
                    .map(|p| p.trim_end_matches(":{}"))
                    .collect();
                push_instruction(&mut lines, &format!("EXPOSE {}", ports.join(" ")));
                continue;
            }
            push_instruction(&mut lines, cmd);
        }
        if !lines.is_empty() {
            if !lines.iter().any(|(d, _)| d == "USER") && !config.user.is_empty() {
                lines.push(("USER".into(), config.user.clone()));
            }
            let exposed: Vec<String> = lines
                .iter()
                .filter(|(d, _)| d == "EXPOSE")
                .flat_map(|(_, a)| a.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .collect();
            for p in &config.exposed_ports {
                if !exposed.contains(p) {
                    lines.push(("EXPOSE".into(), p.clone()));
                }
            }
        }
        Dockerfile {
            mode: DockerfileMode::Guessed,
            lines,
        }
    }

    /// True when there is at least one instruction.
    pub fn has_data(&self) -> bool {
        self.mode != DockerfileMode::Unknown && !self.lines.is_empty()
    }
}

fn push_instruction(lines: &mut Vec<(String, String)>, full: &str) {
    let full = full.trim();
    let (dir, rest) = full.split_once(char::is_whitespace).unwrap_or((full, ""));
    if !dir.is_empty() {
        lines.push((dir.to_ascii_uppercase(), rest.trim().to_string()));
    }
}

/// The directives `instruction` accepts.
pub(crate) const DIRECTIVES: &[&str] = &[
    "ADD",
    "ARG",
    "COPY",
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "USER",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "VOLUME",
    "WORKDIR",
];

/// The `dockerfile` gate.
pub(crate) struct DockerfileGate;

static INSTRUCTION: &[ParamSpec] = &[
    ParamSpec::new("instruction", ParamKind::EnumNoCase(DIRECTIVES), true)
        .doc("Dockerfile directive"),
    ParamSpec::new(
        "check",
        ParamKind::Enum(&[
            "=",
            "!=",
            "exists",
            "not_exists",
            "like",
            "not_like",
            "in",
            "not_in",
        ]),
        true,
    )
    .doc("comparison applied to each line of the directive"),
    ParamSpec::new("value", ParamKind::Str, false)
        .doc("value (regex for like/not_like, comma list for in/not_in)"),
    ParamSpec::new("actual_dockerfile_only", ParamKind::Boolean, false)
        .default("false")
        .doc("only evaluate a user-supplied Dockerfile"),
];
static USER: &[ParamSpec] = &[
    ParamSpec::new("users", ParamKind::CommaList, true).doc("user names"),
    ParamSpec::new(
        "type",
        ParamKind::Enum(&["whitelist", "blacklist", "allowlist", "denylist"]),
        true,
    )
    .doc("allowlist: fire if not listed; denylist: fire if listed"),
];
static PORTS: &[ParamSpec] = &[
    ParamSpec::new("ports", ParamKind::NumberList, true).doc("port numbers"),
    ParamSpec::new(
        "type",
        ParamKind::Enum(&["whitelist", "blacklist", "allowlist", "denylist"]),
        true,
    )
    .doc("allowlist: fire for unlisted ports; denylist: fire for listed ports"),
    ParamSpec::new("actual_dockerfile_only", ParamKind::Boolean, false)
        .default("false")
        .doc("only evaluate a user-supplied Dockerfile"),
];

static TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec {
        name: "instruction",
        aliases: &[],
        description: "Fires per line of the directive that satisfies the check (not_exists: once if absent).",
        params: INSTRUCTION,
        eval: instruction,
    },
    TriggerSpec {
        name: "effective_user",
        aliases: &[],
        description: "Fires if the effective user (last USER, else root) is denied or not allowed.",
        params: USER,
        eval: effective_user,
    },
    TriggerSpec {
        name: "exposed_ports",
        aliases: &[],
        description: "Fires per exposed port that is denied or not allowed.",
        params: PORTS,
        eval: exposed_ports,
    },
    TriggerSpec {
        name: "no_dockerfile_provided",
        aliases: &[],
        description: "Fires unless an actual Dockerfile was supplied.",
        params: &[],
        eval: no_dockerfile,
    },
];

fn usable(df: &Dockerfile, p: &RuleParams<'_>) -> bool {
    df.has_data()
        && !(p.boolean("actual_dockerfile_only") == Some(true) && df.mode != DockerfileMode::Actual)
}

fn instruction(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let df = &input.dockerfile;
    if !usable(df, p) {
        return;
    }
    let (Some(dir), Some(check)) = (p.get("instruction"), p.get("check")) else {
        return;
    };
    let dir = dir.to_ascii_uppercase();
    let value = p.get("value");
    let lines: Vec<&str> = df
        .lines
        .iter()
        .filter(|(d, _)| *d == dir)
        .map(|(_, a)| a.as_str())
        .collect();
    if check == "not_exists" {
        if lines.is_empty() {
            out.push(Fired::msg(format!(
                "Dockerfile directive '{dir}' not found, matching condition 'not_exists' check"
            )));
        }
        return;
    }
    let re = match check {
        "like" | "not_like" => value.and_then(re_match_start),
        _ => None,
    };
    for line in lines {
        let hit = match (check, value) {
            ("exists", _) => true,
            ("=", Some(v)) => line == v,
            ("!=", Some(v)) => line != v,
            ("like", Some(_)) => re.as_ref().is_some_and(|r| r.is_match(line)),
            ("not_like", Some(_)) => re.as_ref().is_some_and(|r| !r.is_match(line)),
            ("in", Some(v)) => split_list(v).iter().any(|x| x == line),
            ("not_in", Some(v)) => !split_list(v).iter().any(|x| x == line),
            _ => false,
        };
        if hit {
            out.push(Fired::msg(format!(
                "Dockerfile directive '{dir}' check '{check}' matched against '{}' for line '{line}'",
                value.unwrap_or("")
            )));
        }
    }
}

fn is_allow(t: Option<&str>) -> bool {
    matches!(t, Some("whitelist" | "allowlist"))
}

fn effective_user(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let df = &input.dockerfile;
    if !df.has_data() {
        return;
    }
    let user = df
        .lines
        .iter()
        .rev()
        .find(|(d, _)| d == "USER")
        .map(|(_, a)| {
            a.trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "root".to_string());
    let users = p.list("users");
    let listed = users.contains(&user);
    if is_allow(p.get("type")) {
        if !listed {
            out.push(Fired::msg(format!(
                "User {user} found as effective user, which is not on the allowed list"
            )));
        }
    } else if listed {
        out.push(Fired::msg(format!(
            "User {user} found as effective user, which is explicity not allowed"
        )));
    }
}

fn exposed_ports(input: &GateInput<'_>, p: &RuleParams<'_>, out: &mut Vec<Fired>) {
    let df = &input.dockerfile;
    if !usable(df, p) {
        return;
    }
    let tokens: Vec<&str> = df
        .lines
        .iter()
        .filter(|(d, _)| d == "EXPOSE")
        .flat_map(|(_, a)| a.split_whitespace())
        .collect();
    let ports = p.list("ports");
    if is_allow(p.get("type")) {
        let allowed: Vec<String> = ports
            .iter()
            .flat_map(|p| [p.clone(), format!("{p}/tcp"), format!("{p}/udp")])
            .collect();
        for t in tokens.iter().filter(|t| !allowed.iter().any(|a| a == *t)) {
            out.push(Fired::msg(format!(
                "Dockerfile exposes port ({t}) which is not in policy file ALLOWEDPORTS list"
            )));
        }
    } else {
        for port in &ports {
            for form in [port.clone(), format!("{port}/tcp"), format!("{port}/udp")] {
                if tokens.contains(&form.as_str()) {
                    out.push(Fired::msg(format!(
                        "Dockerfile exposes port ({form}) which is in policy file DENIEDPORTS list"
                    )));
                }
            }
        }
    }
}

fn no_dockerfile(input: &GateInput<'_>, _: &RuleParams<'_>, out: &mut Vec<Fired>) {
    if input.dockerfile.mode != DockerfileMode::Actual {
        out.push(Fired::msg(
            "Image was not analyzed with an actual Dockerfile",
        ));
    }
}

impl Gate for DockerfileGate {
    fn name(&self) -> &'static str {
        "dockerfile"
    }
    fn description(&self) -> &'static str {
        "Checks on the Dockerfile (supplied with --dockerfile, else rebuilt from image history)."
    }
    fn triggers(&self) -> &'static [TriggerSpec] {
        TRIGGERS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::HistoryEntry;

    #[test]
    fn parse_joins_continuations_and_drops_comments() {
        let df = Dockerfile::parse(
            "# c\nFROM debian:12\n\nrun apt-get update \\\n  && apt-get install -y x\nUSER [app]\n",
            DockerfileMode::Actual,
        );
        assert_eq!(df.lines.len(), 3);
        assert_eq!(df.lines[1].0, "RUN");
        assert_eq!(df.lines[1].1, "apt-get update  && apt-get install -y x");
    }

    #[test]
    fn history_is_rebuilt() {
        let cfg = ImageConfig {
            history: vec![
                HistoryEntry {
                    created_by: "/bin/sh -c #(nop)  CMD [\"bash\"]".into(),
                    ..Default::default()
                },
                HistoryEntry {
                    created_by: "RUN /bin/sh -c pip install x # buildkit".into(),
                    ..Default::default()
                },
                HistoryEntry {
                    created_by: "EXPOSE map[22/tcp:{} 8080/tcp:{}]".into(),
                    ..Default::default()
                },
                HistoryEntry {
                    created_by: "/bin/sh -c apt-get update".into(),
                    ..Default::default()
                },
            ],
            user: "app".into(),
            ..Default::default()
        };
        let df = Dockerfile::from_history(&cfg);
        assert_eq!(
            df.lines,
            vec![
                ("CMD".into(), "[\"bash\"]".into()),
                ("RUN".into(), "/bin/sh -c pip install x".into()),
                ("EXPOSE".into(), "22/tcp 8080/tcp".into()),
                ("RUN".into(), "apt-get update".into()),
                ("USER".into(), "app".into()),
            ]
        );
    }
}
