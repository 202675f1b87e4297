//! `template:TEMPLATE[=FILE]`: renders a user-supplied minijinja template.
//!
//! The template sees `analysis` (the native JSON document), `image` (display, repository,
//! digest, platform, operating_system), `decision` (`pass`, `reasons`, `warnings`),
//! `vulnerabilities` (non-suppressed matches, most severe first), `policy_hits` (non-allowlisted
//! trigger hits) and `counts` (per severity, plus total, fixable, kev, suppressed).
//!
//! Templates are untrusted input: execution is bounded by minijinja's fuel ([`FUEL`] steps), the
//! recursion limit, and a size cap on the template file ([`MAX_TEMPLATE_BYTES`]); undefined
//! variables are errors (strict mode) rather than silent empty strings. Templates cannot read
//! files or include other templates. Any failure is a [`ReportError`] naming the template and the
//! line.

use std::io::Write;
use std::path::Path;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};

use super::facts::{ImageIdentity, SeverityCounts, listed_matches};
use super::{Adapter, RenderCx, ReportError};
use crate::analysis::Analysis;

/// Execution budget for one template render (minijinja fuel units).
pub(crate) const FUEL: u64 = 50_000_000;

/// Largest template file accepted.
pub(crate) const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// The `template` adapter.
pub(crate) struct Template;

impl Adapter for Template {
    fn id(&self) -> &'static str {
        "template"
    }

    fn description(&self) -> &'static str {
        "a minijinja template of yours: `-o template:TEMPLATE[=FILE]`"
    }

    fn needs_template(&self) -> bool {
        true
    }

    fn write(
        &self,
        analysis: &Analysis,
        cx: &RenderCx<'_>,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let path = cx.template.unwrap_or(Path::new(""));
        let size = std::fs::metadata(path)
            .map_err(|source| ReportError::TemplateRead {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        if size > MAX_TEMPLATE_BYTES {
            return Err(ReportError::TemplateTooLarge {
                path: path.to_path_buf(),
                size,
                limit: MAX_TEMPLATE_BYTES,
            });
        }
        let source = std::fs::read_to_string(path).map_err(|source| ReportError::TemplateRead {
            path: path.to_path_buf(),
            source,
        })?;
        let text = render_str(analysis, cx, &source).map_err(|source| {
            let mut detail = source.kind().to_string();
            if let Some(d) = source.detail() {
                detail.push_str(": ");
                detail.push_str(d);
            }
            if let Some(line) = source.line() {
                detail.push_str(&format!(" (line {line})"));
            }
            ReportError::Template {
                path: path.to_path_buf(),
                detail,
                source,
            }
        })?;
        out.write_all(text.as_bytes())
            .map_err(|source| ReportError::Render {
                format: "template",
                source,
            })
    }
}

/// Renders template source text against the analysis.
pub(crate) fn render_str(
    analysis: &Analysis,
    cx: &RenderCx<'_>,
    source: &str,
) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(100);
    let tmpl = env.template_from_str(source)?;
    let decision = cx.options.decide(analysis);
    let vulnerabilities = listed_matches(analysis, false);
    let policy_hits: Vec<_> = analysis
        .evaluation
        .as_ref()
        .map(|e| e.hits.iter().filter(|h| h.allowlisted.is_none()).collect())
        .unwrap_or_default();
    let ctx: std::collections::BTreeMap<&str, Value> = std::collections::BTreeMap::from([
        ("analysis", Value::from(Serde(analysis))),
        ("image", Value::from(Serde(ImageIdentity::of(analysis)))),
        ("decision", Value::from(Serde(&decision))),
        ("vulnerabilities", Value::from(Serde(&vulnerabilities))),
        ("policy_hits", Value::from(Serde(&policy_hits))),
        ("counts", Value::from(Serde(SeverityCounts::of(analysis)))),
    ]);
    tmpl.render(Value::from(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ReportOptions;

    fn cx(o: &ReportOptions) -> RenderCx<'_> {
        RenderCx {
            options: o,
            color: false,
            template: None,
            version: None,
        }
    }

    #[test]
    fn renders_and_limits() {
        let o = ReportOptions::default();
        let a = Analysis::default();
        let out = render_str(
            &a,
            &cx(&o),
            "{{ decision.pass }} {{ counts.total }} {{ image.repository }}",
        )
        .unwrap();
        assert_eq!(out, "True 0 image");
        // Undefined is an error, not an empty string.
        assert!(render_str(&a, &cx(&o), "{{ nope.field }}").is_err());
        // An endless loop runs out of fuel.
        let err = render_str(
            &a,
            &cx(&o),
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        )
        .unwrap_err();
        assert_eq!(err.kind(), minijinja::ErrorKind::OutOfFuel, "{err}");
        // Syntax errors carry a line number.
        let err = render_str(&a, &cx(&o), "ok\n{% if %}").unwrap_err();
        assert_eq!(err.line(), Some(2));
    }
}
