//! Ruby: installed gems from `specifications/**/*.gemspec` (what RubyGems writes when it
//! installs a gem, default gems under `specifications/default/` included) and, for `dir:`
//! sources, the declared `Gemfile.lock`.
//!
//! A gemspec is Ruby code, but the files RubyGems generates (`Gem::Specification#to_ruby`)
//! are a fixed list of assignments, `s.name = "rake".freeze`. They are read as text, never
//! evaluated: [`parse_gemspec`] takes `<var>.<attr> = <literal>` statements (literals:
//! `"…"`, `'…'`, `%q{…}`/`%Q(…)`, optional `.freeze`, `Gem::Version.new(…)`, arrays of those,
//! `%w[…]`; arrays may span lines) and ignores everything else; the `# stub: name version
//! platform` comment fills a missing name or version. A string with `#{…}` interpolation is not
//! a literal and is ignored. Licenses go through [`license::normalize`].
//!
//! `Gemfile.lock`: every `name (version)` spec line (four-space indent) of the `GEM`, `GIT`
//! and `PATH` sections; `metadata.source` is `rubygems`, `git` or `path`. A platform suffix
//! (`nokogiri (1.15.4-x86_64-linux)`) goes to `metadata.platform` and off the version.
//!
//! Bad input: a gemspec without a name or version (even from the stub line), a Gemfile.lock
//! spec line that does not parse, or a lock file with no spec section at all is a problem or
//! error naming the file; non-UTF-8 bytes are replaced and reported.

use std::collections::BTreeSet;

use super::super::{CatalogCx, CatalogError, Cataloger, FileRef, Found, PackageType, Tag, license};

/// Installed gems (`*.gemspec` under a `specifications` directory).
#[derive(Debug, Clone, Copy)]
pub struct GemspecCataloger;

const SPEC_ID: &str = "ruby-installed-gemspec-cataloger";

/// Longest statement (in lines) an array literal may span before it is given up on.
const MAX_STATEMENT_LINES: usize = 200;

impl Cataloger for GemspecCataloger {
    fn id(&self) -> &'static str {
        SPEC_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/specifications/**/*.gemspec"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let text = found.decode(SPEC_ID, file.path, file.data);
        let spec = parse_gemspec(&text);
        let (Some(name), Some(version)) = (spec.name.as_deref(), spec.version.as_deref()) else {
            return Err(CatalogError::malformed(
                SPEC_ID,
                file.path,
                "no literal `name` and `version` assignment (nor a `# stub:` line); not reported as a gem",
            ));
        };
        let mut p = cx.package(PackageType::Gem, name, version, file.path);
        p.licenses = spec
            .licenses
            .iter()
            .filter_map(|l| license::normalize(l))
            .collect();
        p.licenses.dedup();
        if let Some(platform) = spec.platform.filter(|p| p != "ruby") {
            p.metadata.insert("platform".into(), platform.into());
        }
        for (key, value) in [("homepage", spec.homepage), ("summary", spec.summary)] {
            if let Some(v) = value {
                p.metadata.insert(key.into(), v.into());
            }
        }
        if !spec.authors.is_empty() {
            p.metadata.insert("authors".into(), spec.authors.into());
        }
        if file.path.contains("/specifications/default/") {
            p.metadata.insert("default_gem".into(), true.into());
        }
        found.packages.push(p);
        Ok(found)
    }
}

/// What [`parse_gemspec`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gemspec {
    /// `s.name`.
    pub name: Option<String>,
    /// `s.version`.
    pub version: Option<String>,
    /// `s.licenses` / `s.license`.
    pub licenses: Vec<String>,
    /// `s.platform`.
    pub platform: Option<String>,
    /// `s.homepage`.
    pub homepage: Option<String>,
    /// `s.summary`.
    pub summary: Option<String>,
    /// `s.authors` / `s.author`.
    pub authors: Vec<String>,
}

/// Reads the literal assignments of a generated gemspec (see the module doc).
pub fn parse_gemspec(text: &str) -> Gemspec {
    let mut spec = Gemspec::default();
    let mut stub: Option<(String, String, Option<String>)> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("# stub:") {
            let mut f = rest.split_whitespace();
            if let (Some(n), Some(v)) = (f.next(), f.next()) {
                stub = Some((n.to_string(), v.to_string(), f.next().map(str::to_string)));
            }
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        let Some((attr, rhs)) = assignment(trimmed) else {
            continue;
        };
        // An array literal may continue on the following lines.
        let mut stmt = rhs.to_string();
        let mut extra = 0;
        while open_brackets(&stmt) > 0 && extra < MAX_STATEMENT_LINES {
            let Some(next) = lines.next() else { break };
            stmt.push(' ');
            stmt.push_str(next.trim());
            extra += 1;
        }
        let values = literal_values(&stmt);
        let first = values.first().cloned();
        match attr {
            "name" => spec.name = spec.name.take().or(first),
            "version" => spec.version = spec.version.take().or(first),
            "platform" => spec.platform = first,
            "homepage" => spec.homepage = first,
            "summary" => spec.summary = first,
            "license" | "licenses" => spec.licenses.extend(values),
            "author" | "authors" => spec.authors.extend(values),
            _ => {}
        }
    }
    if let Some((n, v, platform)) = stub {
        spec.name.get_or_insert(n);
        spec.version.get_or_insert(v);
        if spec.platform.is_none() {
            spec.platform = platform;
        }
    }
    spec
}

/// `<ident>.<attr> = <rhs>` → (attr, rhs).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let (lhs, rhs) = line.split_once('=')?;
    if rhs.starts_with(['=', '~']) {
        return None;
    }
    let (var, attr) = lhs.trim().split_once('.')?;
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    (ident(var) && ident(attr)).then_some((attr, rhs.trim()))
}

/// `[` minus `]` outside string literals.
fn open_brackets(s: &str) -> i64 {
    let mut depth = 0i64;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in s.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' => depth += 1,
                ']' => depth -= 1,
                '#' => break,
                _ => {}
            },
        }
    }
    depth
}

/// The string literals of a right-hand side: one for a scalar, several for an array; empty
/// when the expression is not made of literals.
fn literal_values(rhs: &str) -> Vec<String> {
    let rhs = rhs.trim();
    let rhs = rhs
        .strip_prefix("Gem::Version.new(")
        .or_else(|| rhs.strip_prefix("Gem::Platform.new("))
        .unwrap_or(rhs);
    if let Some(words) = rhs.strip_prefix("%w") {
        return percent_body(words)
            .map(|(body, _)| body.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
    }
    if let Some(inner) = rhs.strip_prefix('[') {
        let mut out = Vec::new();
        let mut rest = inner.trim_start();
        while let Some((s, after)) = string_literal(rest) {
            out.push(s);
            rest = after.trim_start();
            rest = rest.strip_prefix(".freeze").unwrap_or(rest).trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
        return out;
    }
    string_literal(rhs)
        .map(|(s, _)| vec![s])
        .unwrap_or_default()
}

/// One Ruby string literal at the start of `s` → (value, rest). `None` for anything else,
/// including strings with `#{}` interpolation.
fn string_literal(s: &str) -> Option<(String, &str)> {
    if let Some(rest) = s.strip_prefix("%q").or_else(|| s.strip_prefix("%Q")) {
        let (body, after) = percent_body(rest)?;
        return (!body.contains("#{")).then(|| (body.to_string(), after));
    }
    if let Some(rest) = s.strip_prefix('%')
        && rest.starts_with(['{', '(', '[', '<'])
    {
        let (body, after) = percent_body(rest)?;
        return (!body.contains("#{")).then(|| (body.to_string(), after));
    }
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            let (_, e) = chars.next()?;
            match (quote, e) {
                ('"', 'n') => out.push('\n'),
                ('"', 't') => out.push('\t'),
                ('"', 'u') => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, h)| h))
                        .collect();
                    let c = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)?;
                    out.push(c);
                }
                // Single quotes keep a backslash before anything but `'` and `\`.
                ('\'', c) if c != '\'' && c != '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                (_, c) => out.push(c),
            }
        } else if c == quote {
            if quote == '"' && out.contains("#{") {
                return None;
            }
            return Some((out, s.get(i + 1..).unwrap_or("")));
        } else {
            out.push(c);
        }
    }
    None
}

/// `{body}rest` with matching delimiters (`{}`, `()`, `[]`, `<>` or the same char twice).
fn percent_body(s: &str) -> Option<(&str, &str)> {
    let open = s.chars().next()?;
    let close = match open {
        '{' => '}',
        '(' => ')',
        '[' => ']',
        '<' => '>',
        c if c.is_ascii_punctuation() => c,
        _ => return None,
    };
    let body_start = open.len_utf8();
    let mut depth = 0usize;
    for (i, c) in s.char_indices().skip(1) {
        if c == open && open != close {
            depth += 1;
        } else if c == close {
            if depth == 0 {
                return Some((s.get(body_start..i)?, s.get(i + 1..)?));
            }
            depth -= 1;
        }
    }
    None
}

/// `Gemfile.lock` (Bundler).
#[derive(Debug, Clone, Copy)]
pub struct GemfileLockCataloger;

const LOCK_ID: &str = "ruby-gemfile-cataloger";

impl Cataloger for GemfileLockCataloger {
    fn id(&self) -> &'static str {
        LOCK_ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Declared]
    }
    fn globs(&self) -> &'static [&'static str] {
        &["**/Gemfile.lock", "**/gems.locked"]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let text = found.decode(LOCK_ID, file.path, file.data);
        let mut section: Option<&'static str> = None;
        let mut in_specs = false;
        let mut saw_specs = false;
        let mut seen = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if !line.starts_with(' ') {
                section = match line.trim() {
                    "GEM" => Some("rubygems"),
                    "GIT" => Some("git"),
                    "PATH" => Some("path"),
                    _ => None,
                };
                in_specs = false;
                continue;
            }
            let Some(source) = section else { continue };
            let indent = line.len() - line.trim_start().len();
            if indent == 2 {
                in_specs = line.trim() == "specs:";
                saw_specs |= in_specs;
                continue;
            }
            if !in_specs || indent != 4 {
                continue;
            }
            let Some((name, version)) = spec_line(line.trim()) else {
                found.problem(
                    LOCK_ID,
                    file.path,
                    format!("line {}: not a `name (version)` spec; skipped", i + 1),
                );
                continue;
            };
            let (version, platform) = split_platform(version);
            if !seen.insert((name.to_string(), version.to_string(), platform)) {
                continue;
            }
            let mut p = cx.package(PackageType::Gem, name, version, file.path);
            p.metadata.insert("source".into(), source.into());
            if let Some(pf) = platform {
                p.metadata.insert("platform".into(), pf.into());
            }
            found.packages.push(p);
        }
        if !saw_specs && !text.trim().is_empty() {
            return Err(CatalogError::malformed(
                LOCK_ID,
                file.path,
                "no `GEM`/`GIT`/`PATH` section with `specs:`; not a Bundler lock file",
            ));
        }
        Ok(found)
    }
}

/// `rack (2.0.8)` → (`rack`, `2.0.8`).
fn spec_line(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(" (")?;
    let version = rest.strip_suffix(')')?.trim();
    let name = name.trim();
    let ok = !name.is_empty()
        && !version.is_empty()
        && !name.contains(char::is_whitespace)
        && !version.contains(char::is_whitespace);
    ok.then_some((name, version))
}

/// Splits a Bundler platform suffix off a locked version: `1.15.4-x86_64-linux` →
/// (`1.15.4`, `x86_64-linux`). A suffix that names no known platform stays in the version.
fn split_platform(version: &str) -> (&str, Option<&str>) {
    const PLATFORMS: &[&str] = &[
        "linux",
        "darwin",
        "mingw",
        "mswin",
        "java",
        "jruby",
        "x86",
        "x64",
        "arm",
        "aarch64",
        "universal",
        "freebsd",
        "musl",
        "cygwin",
        "solaris",
        "openbsd",
        "netbsd",
        "wasm",
    ];
    if let Some((v, platform)) = version.split_once('-')
        && PLATFORMS.iter().any(|p| platform.contains(p))
    {
        return (v, Some(platform));
    }
    (version, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogOptions, parse::test_image, run};

    const RAKE: &str = r#"# -*- encoding: utf-8 -*-
# stub: rake 13.0.6 ruby lib

Gem::Specification.new do |s|
  s.name = "rake".freeze
  s.version = "13.0.6"

  s.required_rubygems_version = Gem::Requirement.new(">= 1.3.2".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "bug_tracker_uri" => "https://github.com/ruby/rake/issues" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Hiroshi SHIBATA".freeze, "Eric Hodel".freeze,
    "Jim Weirich".freeze]
  s.homepage = "https://github.com/ruby/rake".freeze
  s.licenses = ["MIT".freeze]
  s.summary = "Rake is a Make-like program implemented in Ruby".freeze

  s.installed_by_version = "3.4.10" if s.respond_to? :installed_by_version
end
"#;

    #[test]
    fn generated_gemspec() {
        let s = parse_gemspec(RAKE);
        assert_eq!(s.name.as_deref(), Some("rake"));
        assert_eq!(s.version.as_deref(), Some("13.0.6"));
        assert_eq!(s.licenses, vec!["MIT"]);
        assert_eq!(s.authors.len(), 3);
        assert_eq!(s.platform.as_deref(), Some("ruby"));
    }

    #[test]
    fn old_and_odd_literal_forms() {
        let s = parse_gemspec(
            "Gem::Specification.new do |spec|\n  spec.name = %q{json}\n  spec.version = Gem::Version.new(\"2.6.3\")\n  spec.license = 'Ruby'\n  spec.licenses = %w[Ruby BSD-2-Clause]\n  spec.platform = %q(java)\n  spec.summary = \"built #{Time.now}\"\nend\n",
        );
        assert_eq!(s.name.as_deref(), Some("json"));
        assert_eq!(s.version.as_deref(), Some("2.6.3"));
        assert_eq!(s.licenses, vec!["Ruby", "Ruby", "BSD-2-Clause"]);
        assert_eq!(s.platform.as_deref(), Some("java"));
        assert_eq!(s.summary, None, "interpolated strings are not literals");
        assert_eq!(
            literal_values(r#""Nokogiri (\u92F8)""#),
            vec!["Nokogiri (\u{92F8})"]
        );
        assert!(literal_values(r#""bad \uZZ""#).is_empty());
        assert_eq!(
            literal_values(r#""a \"quoted\" name".freeze"#),
            vec![r#"a "quoted" name"#]
        );
        // Stub line alone still identifies the gem.
        let s = parse_gemspec("# stub: nokogiri 1.15.4 x86_64-linux lib\ngarbage (\n");
        assert_eq!(
            (
                s.name.as_deref(),
                s.version.as_deref(),
                s.platform.as_deref()
            ),
            (Some("nokogiri"), Some("1.15.4"), Some("x86_64-linux"))
        );
        // Unterminated array: bounded, no panic.
        let s = parse_gemspec(&format!("s.licenses = [\"MIT\",\n{}", "x\n".repeat(500)));
        assert_eq!(s.licenses, vec!["MIT"]);
    }

    #[test]
    fn installed_gems_and_bad_specs() {
        let inv = run(
            &test_image(
                "oci-dir",
                &[
                    (
                        "/usr/local/bundle/specifications/rake-13.0.6.gemspec",
                        RAKE.as_bytes(),
                    ),
                    (
                        "/usr/lib/ruby/3.1.0/specifications/default/json-2.6.1.gemspec",
                        b"# stub: json 2.6.1 ruby lib\ns.licenses = [\"Ruby\".freeze, \"BSD-2-Clause\".freeze]\n",
                    ),
                    (
                        "/usr/local/bundle/specifications/latin1-1.0.gemspec",
                        b"s.name = \"latin1\"\ns.version = \"1.0\"\ns.summary = \"caf\xe9\"\n",
                    ),
                    (
                        "/usr/local/bundle/specifications/broken.gemspec",
                        b"Gem::Specification.new do |s|\n  s.name = name_from_env\nend\n",
                    ),
                ],
            ),
            &CatalogOptions::default(),
        );
        let rows: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("json", "2.6.1", "pkg:gem/json@2.6.1"),
                ("latin1", "1.0", "pkg:gem/latin1@1.0"),
                ("rake", "13.0.6", "pkg:gem/rake@13.0.6")
            ]
        );
        assert_eq!(inv.packages[0].licenses, vec!["Ruby", "BSD-2-Clause"]);
        assert_eq!(inv.packages[0].metadata["default_gem"], true);
        assert_eq!(inv.packages[2].licenses, vec!["MIT"]);
        let paths: Vec<_> = inv
            .problems
            .iter()
            .map(|p| p.path.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(
            paths,
            vec![
                "/usr/local/bundle/specifications/broken.gemspec",
                "/usr/local/bundle/specifications/latin1-1.0.gemspec"
            ],
            "{:?}",
            inv.problems
        );
        assert!(inv.problems[1].message.contains("UTF-8"));
    }

    const LOCK: &str = "GIT
  remote: https://example.invalid/forked.git
  revision: 0123abc
  specs:
    forked (0.1.0)

GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.15.4-x86_64-linux)
      racc (~> 1.4)
    racc (1.7.1)
    rack (2.0.8)
    broken line here

PLATFORMS
  x86_64-linux

DEPENDENCIES
  nokogiri
  rack (= 2.0.8)

BUNDLED WITH
   2.4.10
";

    #[test]
    fn gemfile_lock() {
        let inv = run(
            &test_image(
                "dir",
                &[
                    ("/app/Gemfile.lock", LOCK.as_bytes()),
                    ("/b/Gemfile.lock", b"nothing to see\n"),
                ],
            ),
            &CatalogOptions::default(),
        );
        let rows: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("forked", "0.1.0"),
                ("nokogiri", "1.15.4"),
                ("racc", "1.7.1"),
                ("rack", "2.0.8")
            ]
        );
        assert_eq!(inv.packages[1].metadata["platform"], "x86_64-linux");
        assert_eq!(inv.packages[0].metadata["source"], "git");
        let msgs: Vec<_> = inv
            .problems
            .iter()
            .map(|p| (p.path.as_deref().unwrap_or(""), p.message.as_str()))
            .collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|(p, m)| *p == "/app/Gemfile.lock" && m.contains("line 14"))
        );
        assert!(
            msgs.iter()
                .any(|(p, m)| *p == "/b/Gemfile.lock" && m.contains("not a Bundler"))
        );
        assert_eq!(split_platform("1.0.0-beta"), ("1.0.0-beta", None));
    }
}
