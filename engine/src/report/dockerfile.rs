//! Maps image layers to the Dockerfile instructions that made them, so SARIF results (and check
//! run annotations) can point at a line of a file that exists in the repository.
//!
//! Parses only what the mapping needs: instructions with their 1-based line span (continuation
//! lines and comments handled; heredoc bodies are not interpreted). Matching uses the history
//! `created_by` recorded for each layer: `RUN` by command text, `COPY`/`ADD` by destination, other
//! instructions by keyword, in order, within the final build stage. A layer that matches nothing
//! of the final stage comes from the base image and maps to its `FROM` line. Never fails: an
//! unmatched layer always has a line.

use crate::image::LayerInfo;

/// One instruction of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction {
    /// Upper-cased keyword (`RUN`).
    pub(crate) keyword: String,
    /// Arguments, continuation lines joined and whitespace collapsed.
    pub(crate) args: String,
    /// First line, 1-based.
    pub(crate) start_line: u32,
    /// Last line, 1-based.
    pub(crate) end_line: u32,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dockerfile {
    pub(crate) instructions: Vec<Instruction>,
}

impl Dockerfile {
    /// Parses Dockerfile text. Unknown or malformed lines are kept as instructions with whatever
    /// keyword they start with; nothing here can fail.
    pub(crate) fn parse(text: &str) -> Dockerfile {
        let mut instructions = Vec::new();
        let mut current: Option<(u32, u32, String)> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let line = raw.trim();
            if current.is_none() && (line.is_empty() || line.starts_with('#')) {
                continue;
            }
            if current.is_some() && line.starts_with('#') {
                // Comment lines inside a continuation are dropped by the builder.
                continue;
            }
            let (cont, body) = match line.strip_suffix('\\') {
                Some(b) => (true, b),
                None => (false, line),
            };
            match &mut current {
                Some((_, end, acc)) => {
                    *end = line_no;
                    acc.push(' ');
                    acc.push_str(body);
                }
                None => current = Some((line_no, line_no, body.to_string())),
            }
            if !cont && let Some((start, end, acc)) = current.take() {
                instructions.push(make_instruction(&acc, start, end));
            }
        }
        if let Some((start, end, acc)) = current.take() {
            instructions.push(make_instruction(&acc, start, end));
        }
        Dockerfile { instructions }
    }

    /// The instruction that made each layer (by index), or the final `FROM` for base layers.
    /// `None` entries only when the Dockerfile has no instructions at all.
    pub(crate) fn map_layers(&self, layers: &[LayerInfo]) -> Vec<Option<&Instruction>> {
        let final_from = self.instructions.iter().rposition(|i| i.keyword == "FROM");
        let stage_start = final_from.map_or(0, |i| i + 1);
        let stage = &self.instructions[stage_start.min(self.instructions.len())..];
        let fallback = final_from
            .and_then(|i| self.instructions.get(i))
            .or_else(|| self.instructions.first());
        let mut next = 0usize;
        let mut out = Vec::with_capacity(layers.len());
        for layer in layers {
            let found = layer.created_by.as_deref().and_then(|cb| {
                let (kw, args) = normalize_created_by(cb);
                stage
                    .iter()
                    .enumerate()
                    .skip(next)
                    .find(|(_, ins)| instruction_matches(ins, &kw, &args))
            });
            match found {
                Some((i, ins)) => {
                    next = i + 1;
                    out.push(Some(ins));
                }
                None => out.push(fallback),
            }
        }
        out
    }
}

fn make_instruction(text: &str, start: u32, end: u32) -> Instruction {
    let text = text.trim();
    let (kw, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    Instruction {
        keyword: kw.to_ascii_uppercase(),
        args: collapse(rest),
        start_line: start,
        end_line: end,
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `created_by` → (keyword, args) in the same normal form as [`Instruction`].
fn normalize_created_by(created_by: &str) -> (String, String) {
    let mut s = created_by.trim();
    if let Some(x) = s.strip_suffix("# buildkit") {
        s = x.trim_end();
    }
    // `|2 A=1 B=2 /bin/sh -c …`: build args recorded before the shell.
    if let Some(rest) = s.strip_prefix('|') {
        let mut tokens = rest.splitn(2, ' ');
        let _count = tokens.next();
        let mut remaining = tokens.next().unwrap_or("");
        while let Some((tok, tail)) = remaining.split_once(' ') {
            if tok.contains('=') {
                remaining = tail;
            } else {
                break;
            }
        }
        s = remaining;
    }
    let mut keyword = None;
    if let Some(rest) = s.strip_prefix("RUN ") {
        keyword = Some("RUN");
        s = rest.trim_start();
    }
    for shell in ["/bin/sh -c ", "/bin/bash -c ", "cmd /S /C "] {
        if let Some(rest) = s.strip_prefix(shell) {
            s = rest.trim_start();
            if keyword.is_none() {
                keyword = Some("RUN");
            }
        }
    }
    if let Some(rest) = s.strip_prefix("#(nop)") {
        s = rest.trim_start();
        keyword = None;
    }
    match keyword {
        Some(k) => (k.to_string(), collapse(s)),
        None => {
            let (kw, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
            (kw.to_ascii_uppercase(), collapse(rest))
        }
    }
}

fn instruction_matches(ins: &Instruction, kw: &str, args: &str) -> bool {
    if ins.keyword != kw {
        return false;
    }
    match kw {
        "RUN" => {
            let body = strip_run_flags(&ins.args);
            !body.is_empty() && (body == args || args.contains(body) || body.contains(args))
        }
        "COPY" | "ADD" => {
            let dest_ins = ins.args.rsplit(' ').next().unwrap_or("");
            let dest_hist = args.rsplit(' ').next().unwrap_or("");
            dest_ins.trim_end_matches('/') == dest_hist.trim_end_matches('/')
        }
        _ => true,
    }
}

/// `--mount=… --network=… cmd` → `cmd`; the exec form `["a","b"]` → `a b`.
fn strip_run_flags(args: &str) -> &str {
    let mut s = args;
    while let Some(rest) = s.strip_prefix("--") {
        s = rest.split_once(' ').map_or("", |(_, t)| t);
    }
    s.trim()
}

/// `./docker/Dockerfile` → `docker/Dockerfile`; absolute paths under the current directory
/// become relative to it (GitHub wants repository-relative URIs).
pub(crate) fn repo_relative(path: &std::path::Path) -> String {
    let rel = if path.is_absolute() {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                path.strip_prefix(cwd)
                    .ok()
                    .map(std::path::Path::to_path_buf)
            })
            .unwrap_or_else(|| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    s.trim_start_matches("./").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKERFILE: &str = "# syntax=docker/dockerfile:1\n\
FROM python:3.11 AS build\n\
RUN pip wheel -r requirements.txt\n\
\n\
FROM debian:12-slim\n\
RUN apt-get update \\\n\
    # comment inside\n\
    && apt-get install -y curl openssl\n\
COPY requirements.txt /app/\n\
RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt\n\
USER app\n";

    fn layer(created_by: &str) -> LayerInfo {
        LayerInfo {
            created_by: Some(created_by.into()),
            ..Default::default()
        }
    }

    #[test]
    fn parses_continuations() {
        let d = Dockerfile::parse(DOCKERFILE);
        let run = &d.instructions[3];
        assert_eq!(run.keyword, "RUN");
        assert_eq!((run.start_line, run.end_line), (6, 8));
        assert_eq!(
            run.args,
            "apt-get update && apt-get install -y curl openssl"
        );
    }

    #[test]
    fn maps_layers_to_lines() {
        let d = Dockerfile::parse(DOCKERFILE);
        let layers = vec![
            layer("/bin/sh -c #(nop) ADD file:abc in / "),
            layer("RUN /bin/sh -c apt-get update && apt-get install -y curl openssl # buildkit"),
            layer("COPY requirements.txt /app/ # buildkit"),
            layer("|1 PIP_INDEX=x /bin/sh -c pip install -r requirements.txt"),
            LayerInfo::default(),
        ];
        let lines: Vec<u32> = d
            .map_layers(&layers)
            .into_iter()
            .map(|i| i.map_or(0, |i| i.start_line))
            .collect();
        assert_eq!(lines, vec![5, 6, 9, 10, 5]);
    }

    #[test]
    fn empty_dockerfile_maps_to_none() {
        let d = Dockerfile::parse("");
        assert_eq!(d.map_layers(&[layer("RUN x")]), vec![None]);
    }
}
