//! `markdown`: GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY`, pull-request and
//! merge-request comments: decision and reasons, image facts, severity counts, the policy hits
//! that matter (STOP and WARN first), and the vulnerability list in a collapsible section.
//!
//! Always at most [`COMMENT_LIMIT`] characters (GitHub's comment body limit): the vulnerability
//! and policy tables are cut row by row with a line saying how many were left out. Table cells are
//! escaped (`|`, `<`, newlines) and cut to a readable length, so hostile advisory text cannot
//! break the layout or inject HTML. The first line carries a hidden marker
//! (`<!-- tollgate-report -->`) so comment updaters can find their own comment.

use std::io::Write;

use super::facts::{ImageIdentity, SeverityCounts, fix_text, listed_matches, primary_url};
use super::{Adapter, RenderCx, ReportError};
use crate::analysis::Analysis;
use crate::policy::Action;
use crate::types::Severity;

/// GitHub's maximum comment body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Marker on the first line of every markdown report.
pub const MARKER: &str = "<!-- tollgate-report -->";

/// Longest text kept in one table cell.
const CELL_CHARS: usize = 200;

/// Room kept for the closing lines after a table is cut.
const RESERVE: usize = 1_500;

/// The `markdown` adapter.
pub(crate) struct Markdown;

impl Adapter for Markdown {
    fn id(&self) -> &'static str {
        "markdown"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["md"]
    }

    fn description(&self) -> &'static str {
        "Markdown summary for GitHub job summaries and PR/MR comments (size-capped)"
    }

    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let text = render(analysis, cx, COMMENT_LIMIT);
        out.write_all(text.as_bytes())
            .map_err(|source| ReportError::Render {
                format: "markdown",
                source,
            })
    }
}

/// Escapes text for a table cell and cuts it to [`CELL_CHARS`].
fn cell(s: &str) -> String {
    let cut = super::facts::truncate_chars(s, CELL_CHARS);
    cut.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

fn severity_badge(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🟣 critical",
        Severity::High => "🔴 high",
        Severity::Medium => "🟠 medium",
        Severity::Low => "🟡 low",
        Severity::Negligible => "⚪ negligible",
        Severity::Unknown => "⚪ unknown",
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Renders the report in at most `limit` characters.
pub(crate) fn render(analysis: &Analysis, cx: &RenderCx<'_>, limit: usize) -> String {
    let opts = cx.options;
    let id = ImageIdentity::of(analysis);
    let counts = SeverityCounts::of(analysis);
    let decision = opts.decide(analysis);
    let mut s = String::new();
    s.push_str(MARKER);
    s.push('\n');
    s.push_str(&format!(
        "## Tollgate {} `{}`\n\n",
        if decision.pass {
            "✅ passed"
        } else {
            "❌ failed"
        },
        cell(&id.display)
    ));
    for r in &decision.reasons {
        s.push_str(&format!("- ❌ {}\n", cell_long(r)));
    }
    for w in &decision.warnings {
        s.push_str(&format!("- ⚠️ {}\n", cell_long(w)));
    }
    if !decision.reasons.is_empty() || !decision.warnings.is_empty() {
        s.push('\n');
    }
    s.push_str("| Image | Digest | Platform | OS | Packages |\n|---|---|---|---|---|\n");
    s.push_str(&format!(
        "| `{}` | `{}` | {} | {} | {} |\n\n",
        cell(&id.display),
        cell(&id.digest),
        cell(&id.platform),
        cell(&id.operating_system),
        analysis.inventory.packages.len()
    ));
    s.push_str("| Critical | High | Medium | Low | Negligible | Unknown | Fixable | KEV | Suppressed |\n|---|---|---|---|---|---|---|---|---|\n");
    s.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n\n",
        counts.critical,
        counts.high,
        counts.medium,
        counts.low,
        counts.negligible,
        counts.unknown,
        counts.fixable,
        counts.kev,
        counts.suppressed
    ));

    let footer = footer(analysis);
    let budget = |s: &String| limit.saturating_sub(chars(s) + chars(&footer) + RESERVE);

    if let Some(eval) = &analysis.evaluation {
        let name = if eval.bundle_name.is_empty() {
            &eval.bundle_id
        } else {
            &eval.bundle_name
        };
        s.push_str(&format!(
            "### Policy `{}`: {}\n\n",
            cell(name),
            match eval.final_action {
                Action::Stop => "🛑 STOP",
                Action::Warn => "⚠️ WARN",
                Action::Go => "✅ GO",
            }
        ));
        let mut hits: Vec<_> = eval
            .hits
            .iter()
            .filter(|h| h.allowlisted.is_none())
            .collect();
        hits.sort_by(|a, b| b.action.cmp(&a.action).then_with(|| a.gate.cmp(&b.gate)));
        let allowlisted = eval.hits.len() - hits.len();
        if hits.is_empty() {
            s.push_str("No policy rule fired.\n");
        } else {
            s.push_str(
                "| Action | Gate | Trigger | Check output | Rule |\n|---|---|---|---|---|\n",
            );
            let mut shown = 0;
            for h in &hits {
                let row = format!(
                    "| {} | {} | {} | {} | `{}` |\n",
                    h.action,
                    cell(&h.gate),
                    cell(&h.trigger),
                    cell(&h.check_output),
                    cell(&h.rule_id)
                );
                if chars(&row) > budget(&s) / 2 {
                    break;
                }
                s.push_str(&row);
                shown += 1;
            }
            if shown < hits.len() {
                s.push_str(&format!(
                    "\n… {} more policy hits not shown (size limit); see the JSON or SARIF report.\n",
                    hits.len() - shown
                ));
            }
        }
        if allowlisted > 0 {
            s.push_str(&format!("\n{allowlisted} hit(s) allowlisted.\n"));
        }
        s.push('\n');
    }

    let listed = listed_matches(analysis, opts.show_suppressed);
    if listed.is_empty() {
        s.push_str("No vulnerabilities found.\n\n");
    } else {
        s.push_str(&format!(
            "<details{}><summary>{} vulnerabilit{}</summary>\n\n",
            if decision.pass { "" } else { " open" },
            listed.len(),
            if listed.len() == 1 { "y" } else { "ies" }
        ));
        s.push_str("| Severity | Vulnerability | Package | Installed | Fixed in | Type | Notes |\n|---|---|---|---|---|---|---|\n");
        let mut shown = 0;
        for m in &listed {
            let v = &m.vulnerability;
            let vuln = match primary_url(v) {
                Some(u) => format!("[{}]({})", cell(&v.id), u.replace(')', "%29")),
                None => cell(&v.id),
            };
            let mut notes = Vec::new();
            if v.kev {
                notes.push("KEV".to_string());
            }
            if let Some(sup) = &m.suppressed {
                notes.push(format!("suppressed ({})", sup.kind));
            }
            let row = format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                severity_badge(v.severity),
                vuln,
                cell(&m.package_name),
                cell(&m.package_version),
                cell(&fix_text(m)),
                cell(&m.package_type),
                notes.join(", ")
            );
            if chars(&row) > budget(&s) {
                break;
            }
            s.push_str(&row);
            shown += 1;
        }
        if shown < listed.len() {
            s.push_str(&format!(
                "\n… {} more not shown (GitHub's {COMMENT_LIMIT}-character limit); see the JSON or SARIF report.\n",
                listed.len() - shown
            ));
        }
        s.push_str("\n</details>\n\n");
    }
    s.push_str(&footer);
    s
}

fn cell_long(s: &str) -> String {
    super::facts::truncate_chars(s, 1_000)
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

fn footer(analysis: &Analysis) -> String {
    let mut f = format!(
        "<sub>{} {}",
        cell(&analysis.tool.name),
        cell(&analysis.tool.version)
    );
    if let Some(db) = &analysis.db {
        f.push_str(&format!(" · vulnerability DB built {}", cell(&db.built)));
    }
    f.push_str("</sub>\n");
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Match, Vulnerability};
    use crate::report::ReportOptions;

    #[test]
    fn caps_size_and_escapes() {
        let matches = (0..5_000)
            .map(|i| Match {
                vulnerability: Vulnerability {
                    id: format!("CVE-2099-{i}"),
                    severity: Severity::High,
                    ..Default::default()
                },
                package_name: format!("pkg|<script>{i}"),
                package_version: "1.0".into(),
                ..Default::default()
            })
            .collect();
        let a = Analysis {
            matches,
            ..Default::default()
        };
        let opts = ReportOptions {
            fail_on: Some(Severity::High),
            ..Default::default()
        };
        let cx = RenderCx {
            options: &opts,
            color: false,
            template: None,
            version: None,
        };
        let out = render(&a, &cx, COMMENT_LIMIT);
        assert!(chars(&out) <= COMMENT_LIMIT, "{}", chars(&out));
        assert!(out.contains("more not shown"));
        assert!(!out.contains("<script>"));
        assert!(out.contains("pkg\\|&lt;script&gt;0"));
        assert!(out.starts_with(MARKER));
        assert!(out.contains("❌ failed"));
    }
}
