//! `table`: the human report for terminals and CI logs — image line, vulnerabilities grouped by
//! package (most severe package first), policy hits grouped by action, and the gate decision.
//!
//! Colour only when [`RenderCx::color`] is set (stdout on a terminal without `NO_COLOR`; files
//! never). Borderless, aligned columns like grype's, so logs stay greppable. Reads only the
//! analysis; the decision comes from [`super::gate`].

use std::io::Write;

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table as Grid, presets};

use super::facts::{ImageIdentity, SeverityCounts, fix_text, listed_matches};
use super::{Adapter, RenderCx, ReportError};
use crate::analysis::Analysis;
use crate::matcher::Match;
use crate::policy::Action;
use crate::types::Severity;

/// The `table` adapter.
pub(crate) struct Table;

impl Adapter for Table {
    fn id(&self) -> &'static str {
        "table"
    }

    fn description(&self) -> &'static str {
        "grouped human-readable tables (default; colour on a terminal)"
    }

    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let text = render(analysis, cx);
        out.write_all(text.as_bytes())
            .map_err(|source| ReportError::Render {
                format: "table",
                source,
            })
    }
}

fn grid(color: bool, header: &[&str]) -> Grid {
    let mut t = Grid::new();
    t.load_style(presets::NOTHING);
    t.set_content_arrangement(ContentArrangement::Disabled);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(
        header
            .iter()
            .map(|h| styled(Cell::new(h), color, None, true)),
    );
    t
}

fn styled(cell: Cell, color: bool, fg: Option<Color>, bold: bool) -> Cell {
    if !color {
        return cell;
    }
    let cell = match fg {
        Some(c) => cell.fg(c),
        None => cell,
    };
    if bold {
        cell.add_attribute(Attribute::Bold)
    } else {
        cell
    }
}

fn severity_color(s: Severity) -> Option<Color> {
    match s {
        Severity::Critical => Some(Color::Magenta),
        Severity::High => Some(Color::Red),
        Severity::Medium => Some(Color::Yellow),
        Severity::Low => Some(Color::Blue),
        Severity::Negligible | Severity::Unknown => None,
    }
}

fn action_color(a: Action) -> Option<Color> {
    match a {
        Action::Stop => Some(Color::Red),
        Action::Warn => Some(Color::Yellow),
        Action::Go => Some(Color::Green),
    }
}

pub(crate) fn render(analysis: &Analysis, cx: &RenderCx<'_>) -> String {
    let color = cx.color;
    let opts = cx.options;
    let id = ImageIdentity::of(analysis);
    let counts = SeverityCounts::of(analysis);
    let mut s = String::new();

    s.push_str(&format!("Image     {}\n", id.display));
    if !id.digest.is_empty() {
        s.push_str(&format!("Digest    {}\n", id.digest));
    }
    let mut facts = Vec::new();
    if !id.platform.is_empty() {
        facts.push(id.platform.clone());
    }
    if id.operating_system != "unknown" {
        facts.push(id.operating_system.clone());
    }
    facts.push(format!("{} packages", analysis.inventory.packages.len()));
    s.push_str(&format!("Contents  {}\n", facts.join(", ")));
    if let Some(db) = &analysis.db {
        s.push_str(&format!("Vuln DB   built {}\n", db.built));
    }
    s.push('\n');

    // Vulnerabilities, grouped by package.
    let listed = listed_matches(analysis, opts.show_suppressed);
    let mut summary = format!("Vulnerabilities: {}", counts.total);
    let parts: Vec<String> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Negligible,
        Severity::Unknown,
    ]
    .iter()
    .filter(|sev| counts.get(**sev) > 0)
    .map(|sev| format!("{} {sev}", counts.get(*sev)))
    .collect();
    if !parts.is_empty() {
        summary.push_str(&format!(" ({})", parts.join(", ")));
    }
    if counts.suppressed > 0 {
        summary.push_str(&format!(
            ", {} suppressed{}",
            counts.suppressed,
            if opts.show_suppressed {
                ""
            } else {
                " (hidden; --show-suppressed lists them)"
            }
        ));
    }
    s.push_str(&summary);
    s.push('\n');
    if !listed.is_empty() {
        let mut groups: Vec<(String, Vec<&Match>)> = Vec::new();
        for m in &listed {
            let key = format!(
                "{}\0{}\0{}",
                m.package_name, m.package_version, m.package_type
            );
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(m),
                None => groups.push((key, vec![m])),
            }
        }
        let mut t = grid(
            color,
            &[
                "PACKAGE",
                "INSTALLED",
                "TYPE",
                "VULNERABILITY",
                "SEVERITY",
                "FIXED IN",
                "NOTES",
            ],
        );
        for (_, group) in &groups {
            for (i, m) in group.iter().enumerate() {
                let first = i == 0;
                let sev = m.vulnerability.severity;
                let mut notes = Vec::new();
                if m.vulnerability.kev {
                    notes.push("KEV".to_string());
                }
                if let Some(sup) = &m.suppressed {
                    notes.push(format!("suppressed by {} ({})", sup.kind, sup.by));
                }
                t.add_row(vec![
                    Cell::new(if first { m.package_name.as_str() } else { "" }),
                    Cell::new(if first {
                        m.package_version.as_str()
                    } else {
                        ""
                    }),
                    Cell::new(if first { m.package_type.as_str() } else { "" }),
                    Cell::new(&m.vulnerability.id),
                    styled(
                        Cell::new(sev.as_str()),
                        color,
                        severity_color(sev),
                        sev >= Severity::High,
                    ),
                    Cell::new(fix_text(m)),
                    Cell::new(notes.join("; ")),
                ]);
            }
        }
        s.push_str(&t.to_string());
        s.push('\n');
    }

    // Policy evaluation.
    if let Some(eval) = &analysis.evaluation {
        s.push('\n');
        let name = if eval.bundle_name.is_empty() {
            &eval.bundle_id
        } else {
            &eval.bundle_name
        };
        let action_sgr = match eval.final_action {
            Action::Stop => "1;31",
            Action::Warn => "1;33",
            Action::Go => "1;32",
        };
        s.push_str(&format!(
            "Policy `{name}`: final action {}{}\n",
            paint(eval.final_action.as_str(), action_sgr, color),
            if eval.final_action_reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", eval.final_action_reason)
            }
        ));
        let mut hits: Vec<_> = eval.hits.iter().collect();
        hits.sort_by(|a, b| {
            a.allowlisted
                .is_some()
                .cmp(&b.allowlisted.is_some())
                .then(b.action.cmp(&a.action))
                .then_with(|| a.gate.cmp(&b.gate))
                .then_with(|| a.trigger.cmp(&b.trigger))
                .then_with(|| a.check_output.cmp(&b.check_output))
        });
        if !hits.is_empty() {
            let mut t = grid(
                color,
                &["ACTION", "GATE", "TRIGGER", "CHECK OUTPUT", "RULE", "NOTES"],
            );
            for h in hits {
                let allow = h
                    .allowlisted
                    .as_ref()
                    .map(|a| format!("allowlisted ({}/{})", a.allowlist_id, a.item_id))
                    .unwrap_or_default();
                t.add_row(vec![
                    styled(
                        Cell::new(h.action.as_str()),
                        color && h.allowlisted.is_none(),
                        action_color(h.action),
                        h.action == Action::Stop,
                    ),
                    Cell::new(&h.gate),
                    Cell::new(&h.trigger),
                    Cell::new(&h.check_output),
                    Cell::new(format!("{}/{}", h.policy_id, h.rule_id)),
                    Cell::new(allow),
                ]);
            }
            s.push_str(&t.to_string());
            s.push('\n');
        }
        for w in &eval.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
    }

    // Decision.
    let d = opts.decide(analysis);
    s.push('\n');
    let word = if d.pass { "PASS" } else { "FAIL" };
    let word = paint(word, if d.pass { "1;32" } else { "1;31" }, color);
    s.push_str(&format!("Decision: {word}\n"));
    for r in &d.reasons {
        s.push_str(&format!("  - {r}\n"));
    }
    for w in &d.warnings {
        s.push_str(&format!("  ~ {w}\n"));
    }
    s
}

/// Wraps `text` in an SGR escape when `on`.
fn paint(text: &str, sgr: &str, on: bool) -> String {
    if on {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
