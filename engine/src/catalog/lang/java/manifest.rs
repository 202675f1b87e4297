//! `META-INF/MANIFEST.MF` (the JAR manifest format): the main section's attributes, and the
//! license list of `Bundle-License`.
//!
//! Format: `Name: value` lines; a line starting with one space continues the previous value
//! (the space is dropped); the main section ends at the first blank line; `\r\n`, `\n` and `\r`
//! all end lines. Attribute names compare case-insensitively, as in `java.util.jar`.
//!
//! Does not: read per-entry sections (`Name: com/x/Y.class` blocks) or verify signatures.
//! Never fails: lines without a `:` are ignored.

use super::super::super::license;

/// The main section of a manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    main: Vec<(String, String)>,
}

impl Manifest {
    /// Parses the attributes of `text`; call it on [`main_section`] so per-entry sections
    /// are not mixed in.
    pub(crate) fn parse(text: &str) -> Manifest {
        let mut main: Vec<(String, String)> = Vec::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in text.split(['\n', '\r']) {
            if let Some(rest) = line.strip_prefix(' ') {
                if let Some(last) = main.last_mut() {
                    last.1.push_str(rest);
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                main.push((k.trim().to_string(), v.trim_start().to_string()));
            }
        }
        Manifest { main }
    }

    /// The value of attribute `key` (case-insensitive), trimmed, when non-empty.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.main
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// The main section of manifest text: everything before the first blank line that follows a
/// header.
pub(crate) fn main_section(text: &str) -> &str {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut line_start = 0;
    let mut seen_header = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' || b == b'\r' {
            if i == line_start && seen_header {
                return &text[..line_start];
            }
            if i > line_start {
                seen_header = true;
            }
            // `\r\n` is one line end.
            if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            line_start = i + 1;
        }
        i += 1;
    }
    text
}

/// Licenses of a `Bundle-License` value (OSGi: comma-separated clauses, each a license name,
/// SPDX id or URL, optionally followed by `;link=…;description=…` attributes) as SPDX
/// expressions where the mapping is unambiguous, else verbatim.
pub(crate) fn bundle_licenses(value: &str) -> Vec<String> {
    let value = value.trim();
    if value.is_empty() {
        return Vec::new();
    }
    // A whole value that is one known license ("Apache License, Version 2.0") wins over
    // splitting it at its commas.
    let whole = value.split(';').next().unwrap_or(value).trim();
    if let Some(id) = known(whole) {
        return vec![id];
    }
    let mut out = Vec::new();
    for clause in split_clauses(value) {
        let name = clause
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if name.is_empty() {
            continue;
        }
        let l = known(name)
            .or_else(|| license::normalize(name))
            .unwrap_or_else(|| name.to_string());
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// One license name or URL (a pom's `<license><name>`): an SPDX id when the mapping is
/// unambiguous, else the name as written.
pub(crate) fn license_name(name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some(known(name).unwrap_or_else(|| name.to_string()))
}

/// Splits at commas outside double quotes.
fn split_clauses(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

/// A license name or URL mapped to an SPDX id when that is unambiguous.
fn known(name: &str) -> Option<String> {
    let lower = name.trim().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return license_url(&lower);
    }
    const NAMES: &[(&str, &str)] = &[
        ("the apache software license, version 2.0", "Apache-2.0"),
        ("the apache license, version 2.0", "Apache-2.0"),
        ("apache license, version 2.0", "Apache-2.0"),
        ("apache license version 2.0", "Apache-2.0"),
        ("apache license 2.0", "Apache-2.0"),
        ("apache 2.0", "Apache-2.0"),
        ("apache 2", "Apache-2.0"),
        ("the mit license", "MIT"),
        ("mit license", "MIT"),
        ("eclipse public license - v 2.0", "EPL-2.0"),
        ("eclipse public license v2.0", "EPL-2.0"),
        ("eclipse public license 2.0", "EPL-2.0"),
        ("eclipse public license - v 1.0", "EPL-1.0"),
        ("eclipse public license 1.0", "EPL-1.0"),
        ("eclipse distribution license - v 1.0", "BSD-3-Clause"),
        (
            "gnu lesser general public license, version 2.1",
            "LGPL-2.1-only",
        ),
        ("bsd-3-clause", "BSD-3-Clause"),
        ("new bsd license", "BSD-3-Clause"),
        ("the bsd license", "BSD-2-Clause"),
    ];
    if let Some((_, id)) = NAMES.iter().find(|(n, _)| *n == lower) {
        return Some((*id).to_string());
    }
    let id = license::normalize(name)?;
    // `normalize` keeps unmappable text verbatim: accept only real SPDX expressions.
    spdx::Expression::parse(&id).ok().map(|_| id)
}

/// Well-known license URLs → SPDX ids.
fn license_url(url: &str) -> Option<String> {
    let u = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.")
        .trim_end_matches('/');
    let u = u
        .strip_suffix(".txt")
        .or_else(|| u.strip_suffix(".html"))
        .or_else(|| u.strip_suffix(".php"))
        .unwrap_or(u);
    const TABLE: &[(&str, &str)] = &[
        ("apache.org/licenses/license-2.0", "Apache-2.0"),
        ("apache.org/licenses/license-1.1", "Apache-1.1"),
        ("eclipse.org/legal/epl-v10", "EPL-1.0"),
        ("eclipse.org/legal/epl-2.0", "EPL-2.0"),
        ("eclipse.org/legal/epl-v20", "EPL-2.0"),
        ("eclipse.org/org/documents/edl-v10", "BSD-3-Clause"),
        ("gnu.org/licenses/old-licenses/lgpl-2.1", "LGPL-2.1-only"),
        ("gnu.org/licenses/old-licenses/gpl-2.0", "GPL-2.0-only"),
        ("gnu.org/licenses/lgpl-3.0", "LGPL-3.0-only"),
        ("gnu.org/licenses/gpl-3.0", "GPL-3.0-only"),
        ("mozilla.org/mpl/2.0", "MPL-2.0"),
        ("opensource.org/licenses/mit-license", "MIT"),
        ("opensource.org/licenses/bsd-license", "BSD-2-Clause"),
    ];
    if let Some((_, id)) = TABLE.iter().find(|(prefix, _)| u == *prefix) {
        return Some((*id).to_string());
    }
    // `opensource.org/licenses/<SPDX id>` and `spdx.org/licenses/<SPDX id>`.
    let tail = u
        .strip_prefix("opensource.org/licenses/")
        .or_else(|| u.strip_prefix("spdx.org/licenses/"))?;
    spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(tail))
        .map(|l| l.name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_section_continuations_and_case() {
        let text = "Manifest-Version: 1.0\r\nImplementation-Title: my-lib\r\nBundle-Description: a very lo\r\n ng line\r\n\r\nName: com/x/Y.class\r\nImplementation-Title: other\r\n";
        let m = Manifest::parse(main_section(text));
        assert_eq!(m.get("implementation-title"), Some("my-lib"));
        assert_eq!(m.get("Bundle-Description"), Some("a very long line"));
        assert_eq!(m.get("Name"), None, "per-entry sections are not read");
        let lf = Manifest::parse(main_section("A: 1\nB: 2\n\nA: 3\n"));
        assert_eq!((lf.get("A"), lf.get("B")), (Some("1"), Some("2")));
        assert_eq!(Manifest::parse("").get("A"), None);
    }

    #[test]
    fn bundle_license_forms() {
        assert_eq!(
            bundle_licenses("https://www.apache.org/licenses/LICENSE-2.0.txt"),
            vec!["Apache-2.0"]
        );
        assert_eq!(
            bundle_licenses("Apache-2.0;link=\"https://www.apache.org/licenses/LICENSE-2.0\""),
            vec!["Apache-2.0"]
        );
        assert_eq!(
            bundle_licenses("Apache License, Version 2.0"),
            vec!["Apache-2.0"]
        );
        assert_eq!(
            bundle_licenses(
                "http://www.eclipse.org/legal/epl-2.0, https://opensource.org/licenses/MIT"
            ),
            vec!["EPL-2.0", "MIT"]
        );
        assert_eq!(
            bundle_licenses("Some Custom Terms"),
            vec!["Some Custom Terms"]
        );
        assert!(bundle_licenses("  ").is_empty());
    }
}
