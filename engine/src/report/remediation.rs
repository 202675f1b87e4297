//! Dockerfile remediations for the GitLab container-scanning report: `git apply` patches that
//! upgrade a vulnerable OS package in the image's Dockerfile, so GitLab can offer "Resolve with
//! merge request" / "Download patch" on the vulnerability page (what GitLab's own analyzer does
//! when it is given the Dockerfile).
//!
//! What is produced: for each OS package (`deb`, `apk`, `rpm`) with at least one listed,
//! unsuppressed match that has a released fix, one remediation that inserts a package-manager
//! upgrade `RUN` right after the Dockerfile instruction that produced the package's layer (base
//! image layers → after the final `FROM`). The upgrade is not pinned to the fixed version:
//! distribution archives keep only the newest build, so a pin would break the build as soon as
//! a newer one ships; the fixed version is named in the summary. When a non-root `USER` is in
//! effect at that point, the `RUN` is wrapped in `USER root` … `USER <previous>`.
//!
//! What is not: language packages (their fix is a lockfile change in another repository or
//! build step, which a Dockerfile patch cannot express — their fix stays in `solution`), packages
//! whose names are not plain package-manager tokens (never put into a shell line), and
//! Dockerfiles outside the working directory (the patch must be repository-relative). Every
//! patch is computed against the unmodified Dockerfile; GitLab applies one at a time.

use std::collections::BTreeMap;

use super::dockerfile::{Dockerfile, Instruction};
use crate::analysis::Analysis;
use crate::matcher::{FixState, Match};

/// One remediation: which findings it fixes, a one-line summary and the patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remediation {
    /// Ids of the findings (as written in the report) this fixes.
    pub(crate) fixes: Vec<String>,
    /// What the patch does.
    pub(crate) summary: String,
    /// Unified diff, `git apply` compatible (not yet base64-encoded).
    pub(crate) diff: String,
}

/// A package name safe to put on a shell line unquoted.
fn plain_package_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'))
}

fn upgrade_command(package_type: &str, name: &str) -> Option<String> {
    Some(match package_type {
        "deb" => format!(
            "RUN apt-get update && apt-get install -y --no-install-recommends --only-upgrade {name} && rm -rf /var/lib/apt/lists/*"
        ),
        "apk" => format!("RUN apk upgrade --no-cache {name}"),
        "rpm" => format!(
            "RUN if command -v dnf >/dev/null; then dnf -y upgrade {name} && dnf clean all; elif command -v microdnf >/dev/null; then microdnf -y upgrade {name} && microdnf clean all; else yum -y update {name} && yum clean all; fi"
        ),
        _ => return None,
    })
}

/// The `USER` in effect right after line `after` in the final stage, when it is not root.
fn user_at(dockerfile: &Dockerfile, after: u32) -> Option<String> {
    let final_from = dockerfile
        .instructions
        .iter()
        .rposition(|i| i.keyword == "FROM")
        .unwrap_or(0);
    dockerfile
        .instructions
        .iter()
        .skip(final_from)
        .rfind(|i| i.keyword == "USER" && i.end_line <= after)
        .map(|i| i.args.trim().to_string())
        .filter(|u| {
            let name = u.split(':').next().unwrap_or("");
            !name.is_empty() && name != "root" && name != "0"
        })
}

/// Remediations for `findings` (`(report id, match)`), patching the Dockerfile `text` found at
/// the repository-relative `path`.
pub(crate) fn remediations(
    analysis: &Analysis,
    findings: &[(String, &Match)],
    path: &str,
    text: &str,
) -> Vec<Remediation> {
    let dockerfile = Dockerfile::parse(text);
    let layer_lines: Vec<Option<&Instruction>> = dockerfile.map_layers(&analysis.inventory.layers);
    // (package type, name) → (finding ids, fixed versions, vulnerability ids, insertion line)
    type Group<'a> = (Vec<String>, Vec<&'a str>, Vec<&'a str>, u32);
    let mut groups: BTreeMap<(&str, &str), Group<'_>> = BTreeMap::new();
    for (id, m) in findings {
        if m.suppressed.is_some()
            || m.fix_state != FixState::Fixed
            || m.fixed_in.is_empty()
            || !plain_package_name(&m.package_name)
            || upgrade_command(&m.package_type, &m.package_name).is_none()
        {
            continue;
        }
        let Some(ins) = layer_lines.get(m.layer_index).copied().flatten() else {
            continue;
        };
        let g = groups
            .entry((m.package_type.as_str(), m.package_name.as_str()))
            .or_insert_with(|| (Vec::new(), Vec::new(), Vec::new(), 0));
        g.0.push(id.clone());
        for f in &m.fixed_in {
            if !g.1.contains(&f.as_str()) {
                g.1.push(f);
            }
        }
        if !g.2.contains(&m.vulnerability.id.as_str()) {
            g.2.push(&m.vulnerability.id);
        }
        g.3 = g.3.max(ins.end_line);
    }
    let crlf = text.contains("\r\n");
    let mut out = Vec::new();
    for ((kind, name), (fixes, fixed_in, vulns, after)) in groups {
        let Some(command) = upgrade_command(kind, name) else {
            continue;
        };
        let mut lines = Vec::new();
        let user = user_at(&dockerfile, after);
        if user.is_some() {
            lines.push("USER root".to_string());
        }
        lines.push(command);
        if let Some(u) = user {
            lines.push(format!("USER {u}"));
        }
        let Some(diff) = insertion_diff(path, text, after, &lines, crlf) else {
            continue;
        };
        let shown: Vec<&str> = vulns.iter().take(5).copied().collect();
        let more = vulns.len().saturating_sub(shown.len());
        let mut summary = format!(
            "Upgrade {name} to {} or later in {path} (fixes {}",
            fixed_in.join(" / "),
            shown.join(", ")
        );
        if more > 0 {
            summary.push_str(&format!(" and {more} more"));
        }
        summary.push(')');
        out.push(Remediation {
            fixes,
            summary,
            diff,
        });
    }
    out
}

/// A unified diff inserting `new` lines after line `after` (1-based) of `text`, with three lines
/// of context; `None` when `after` is not a line of the file.
pub(crate) fn insertion_diff(
    path: &str,
    text: &str,
    after: u32,
    new: &[String],
    crlf: bool,
) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let after = usize::try_from(after).ok()?;
    if after == 0 || after > lines.len() || new.is_empty() {
        return None;
    }
    let eol = if crlf { "\r\n" } else { "\n" };
    let before_start = after.saturating_sub(3);
    let after_end = (after + 3).min(lines.len());
    let before = &lines[before_start..after];
    let following = &lines[after..after_end];
    let no_eol = "\\ No newline at end of file\n";
    let mut body = String::new();
    let mut old_count = before.len() + following.len();
    let mut new_count = old_count + new.len();
    let last_is_unterminated = |l: &str| !l.ends_with('\n');
    match before.split_last() {
        // Inserting after a last line without a newline: that line changes (gains one).
        Some((last, rest)) if following.is_empty() && last_is_unterminated(last) => {
            for l in rest {
                body.push(' ');
                body.push_str(l);
            }
            body.push('-');
            body.push_str(last);
            body.push('\n');
            body.push_str(no_eol);
            body.push('+');
            body.push_str(last);
            body.push_str(eol);
            // The old line is counted once on each side already; nothing else changes.
            old_count = before.len();
            new_count = before.len() + new.len();
        }
        _ => {
            for l in before {
                body.push(' ');
                body.push_str(l);
            }
        }
    }
    for n in new {
        body.push('+');
        body.push_str(n);
        body.push_str(eol);
    }
    for l in following {
        body.push(' ');
        body.push_str(l);
        if last_is_unterminated(l) {
            body.push('\n');
            body.push_str(no_eol);
        }
    }
    let start = before_start + 1;
    Some(format!(
        "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -{start},{old_count} +{start},{new_count} @@\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies `diff` to a file holding `text` with `git apply`; the result, or `None` when git
    /// is not installed.
    fn git_apply(text: &str, diff: &str) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docker")).unwrap();
        std::fs::write(dir.path().join("docker/Dockerfile"), text).unwrap();
        std::fs::write(dir.path().join("fix.patch"), diff).unwrap();
        let out = match std::process::Command::new("git")
            .current_dir(dir.path())
            .args(["apply", "--verbose", "fix.patch"])
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("skipping git apply: {e}");
                }
                return None;
            }
        };
        assert!(
            out.status.success(),
            "git apply failed: {}\n{diff}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(std::fs::read_to_string(dir.path().join("docker/Dockerfile")).unwrap())
    }

    #[test]
    fn diffs_apply_in_every_position() {
        let new = vec!["RUN x".to_string()];
        for (text, after, expected) in [
            ("FROM a\nRUN b\n", 1, "FROM a\nRUN x\nRUN b\n"),
            ("FROM a\nRUN b\n", 2, "FROM a\nRUN b\nRUN x\n"),
            ("FROM a\nRUN b", 2, "FROM a\nRUN b\nRUN x\n"),
            ("FROM a\nRUN b", 1, "FROM a\nRUN x\nRUN b"),
            (
                "# c\nFROM a\n1\n2\n3\n4\n5\n6\n",
                5,
                "# c\nFROM a\n1\n2\n3\nRUN x\n4\n5\n6\n",
            ),
            ("FROM a\r\nRUN b\r\n", 1, "FROM a\r\nRUN x\r\nRUN b\r\n"),
        ] {
            let diff = insertion_diff("docker/Dockerfile", text, after, &new, text.contains('\r'))
                .unwrap();
            if let Some(applied) = git_apply(text, &diff) {
                assert_eq!(applied, expected, "{diff}");
            }
        }
        assert!(insertion_diff("D", "FROM a\n", 0, &new, false).is_none());
        assert!(insertion_diff("D", "FROM a\n", 2, &new, false).is_none());
    }

    #[test]
    fn user_in_effect_is_found_in_the_final_stage_only() {
        let d = Dockerfile::parse(
            "FROM a AS build\nUSER builder\nFROM b\nRUN x\nUSER app:app\nRUN y\nUSER root\nRUN z\n",
        );
        assert_eq!(
            user_at(&d, 4),
            None,
            "USER of an earlier stage does not count"
        );
        assert_eq!(user_at(&d, 6).as_deref(), Some("app:app"));
        assert_eq!(user_at(&d, 8), None, "root needs no wrapping");
    }

    #[test]
    fn names_that_are_not_plain_tokens_are_refused() {
        assert!(plain_package_name("libssl3"));
        assert!(plain_package_name("libstdc++6"));
        assert!(!plain_package_name("x; rm -rf /"));
        assert!(!plain_package_name("$(id)"));
        assert!(!plain_package_name("-o"));
        assert!(upgrade_command("npm", "lodash").is_none());
    }
}
