//! License strings as packages declare them → SPDX expressions where that is unambiguous.
//!
//! A valid SPDX expression is kept as written. Otherwise each term is mapped through the SPDX
//! list (exact id, then the `spdx` crate's imprecise names, then the Debian short names such as
//! `GPL-2+` and `Expat`); if every term maps, the canonical expression is returned, else the
//! declared string is kept verbatim so nothing is lost. Never guesses from license *texts*.

/// Normalises one declared license string; empty input gives `None`.
pub fn normalize(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("unknown") || raw == "NOASSERTION" {
        return None;
    }
    if let Ok(e) = spdx::Expression::parse(raw) {
        let deprecated = e.requirements().any(
            |r| matches!(&r.req.license, spdx::LicenseItem::Spdx { id, .. } if id.is_deprecated()),
        );
        if !deprecated {
            return Some(raw.to_string());
        }
    }
    if let Some(id) = term(raw) {
        return Some(id);
    }
    // Split into terms and operators; map each term.
    let spaced = raw
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(" / ", " or ")
        .replace(',', " or ")
        .replace(" | ", " or ");
    let mut out: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let flush = |current: &mut Vec<&str>, out: &mut Vec<String>| -> bool {
        if current.is_empty() {
            return true;
        }
        let t = current.join(" ");
        current.clear();
        match term(&t) {
            Some(id) => {
                out.push(id);
                true
            }
            None => false,
        }
    };
    for tok in spaced.split_whitespace() {
        let op = match tok.to_ascii_lowercase().as_str() {
            "and" | "&" => Some("AND"),
            "or" => Some("OR"),
            "with" => Some("WITH"),
            "(" => Some("("),
            ")" => Some(")"),
            _ => None,
        };
        match op {
            Some(op) => {
                if !flush(&mut current, &mut out) {
                    return Some(raw.to_string());
                }
                out.push(op.to_string());
            }
            None => current.push(tok),
        }
    }
    if !flush(&mut current, &mut out) {
        return Some(raw.to_string());
    }
    let expr = out.join(" ").replace("( ", "(").replace(" )", ")");
    if spdx::Expression::parse(&expr).is_ok() {
        Some(expr)
    } else {
        Some(raw.to_string())
    }
}

/// Maps one license name to an SPDX id.
fn term(t: &str) -> Option<String> {
    let t = t.trim();
    if let Some(id) = spdx::license_id(t)
        && !(id.is_deprecated() && id.is_gnu())
    {
        return Some(id.name.to_string());
    }
    if let Some(e) = spdx::exception_id(t) {
        return Some(e.name.to_string());
    }
    let debian = match t {
        "Expat" | "MIT/X11" | "X11-MIT" => Some("MIT"),
        "BSD-3-clause" | "BSD-3-Clause~" | "BSD3" => Some("BSD-3-Clause"),
        "BSD-2-clause" | "BSD2" => Some("BSD-2-Clause"),
        "public-domain" | "PD" => None,
        "Apache-2" | "Apache 2.0" | "Apache License 2.0" | "Apache License, Version 2.0" => {
            Some("Apache-2.0")
        }
        "PSF" | "PSF-2" | "Python" => Some("PSF-2.0"),
        "ISC-style" => None,
        _ => None,
    };
    if let Some(id) = debian {
        return Some(id.into());
    }
    // GNU short forms: GPL-2, GPL-2+, LGPL-2.1+, GPLv2+, AGPL-3.
    let (base, or_later) = match t.strip_suffix('+') {
        Some(b) => (b, true),
        None => (t, false),
    };
    let base = base.replace('v', "-").replace("--", "-");
    for fam in ["AGPL", "LGPL", "GPL", "GFDL"] {
        if let Some(ver) = base.strip_prefix(fam).map(|v| v.trim_start_matches('-')) {
            let ver = if ver.contains('.') {
                ver.to_string()
            } else {
                format!("{ver}.0")
            };
            let id = format!("{fam}-{ver}-{}", if or_later { "or-later" } else { "only" });
            if spdx::license_id(&id).is_some() {
                return Some(id);
            }
        }
    }
    if t.len() > 3
        && let Some((id, consumed)) = spdx::imprecise_license_id(t)
        && consumed == t.len()
    {
        return Some(id.name.to_string());
    }
    None
}

/// Maps a PyPI trove classifier (`License :: OSI Approved :: MIT License`) to an SPDX id.
pub fn from_classifier(classifier: &str) -> Option<String> {
    let last = classifier.rsplit("::").next()?.trim();
    Some(
        match last {
            "MIT License" => "MIT",
            "BSD License" => "BSD-3-Clause",
            "Apache Software License" => "Apache-2.0",
            "ISC License (ISCL)" => "ISC",
            "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
            "Python Software Foundation License" => "PSF-2.0",
            "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
            "GNU General Public License v2 or later (GPLv2+)" => "GPL-2.0-or-later",
            "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
            "GNU General Public License v3 or later (GPLv3+)" => "GPL-3.0-or-later",
            "GNU Lesser General Public License v2 (LGPLv2)" => "LGPL-2.0-only",
            "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
            "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
            "GNU Lesser General Public License v3 or later (LGPLv3+)" => "LGPL-3.0-or-later",
            "GNU Affero General Public License v3" => "AGPL-3.0-only",
            "The Unlicense (Unlicense)" => "Unlicense",
            "zlib/libpng License" => "Zlib",
            "Historical Permission Notice and Disclaimer (HPND)" => "HPND",
            _ => return None,
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_valid_expressions() {
        assert_eq!(normalize("MIT OR Apache-2.0").unwrap(), "MIT OR Apache-2.0");
        assert_eq!(normalize("GPL-2.0-or-later").unwrap(), "GPL-2.0-or-later");
    }

    #[test]
    fn maps_debian_and_rpm_short_names() {
        assert_eq!(normalize("GPL-2+").unwrap(), "GPL-2.0-or-later");
        assert_eq!(normalize("Expat").unwrap(), "MIT");
        assert_eq!(normalize("GPLv2+").unwrap(), "GPL-2.0-or-later");
        assert_eq!(normalize("LGPL-2.1").unwrap(), "LGPL-2.1-only");
        assert_eq!(
            normalize("GPLv2+ and LGPLv2+").unwrap(),
            "GPL-2.0-or-later AND LGPL-2.0-or-later"
        );
        assert_eq!(normalize("BSD-3-clause").unwrap(), "BSD-3-Clause");
    }

    #[test]
    fn keeps_unknown_verbatim() {
        assert_eq!(
            normalize("Some Custom License").unwrap(),
            "Some Custom License"
        );
        assert_eq!(normalize("  "), None);
    }

    #[test]
    fn classifiers() {
        assert_eq!(
            from_classifier("License :: OSI Approved :: MIT License").as_deref(),
            Some("MIT")
        );
    }
}
