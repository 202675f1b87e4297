//! Maven coordinates from the files Maven writes into `META-INF/maven/<groupId>/<artifactId>/`:
//! `pom.properties` (Java properties: `groupId`, `artifactId`, `version`) and `pom.xml` (the
//! project's own `groupId`/`artifactId`/`version`, the parent's as fallback, `<licenses>`).
//!
//! The XML reader is deliberately tiny: it tracks element nesting, skips comments, processing
//! instructions, `DOCTYPE` and CDATA, decodes the five predefined entities and numeric character
//! references, and reads only direct children of `<project>`, `<project><parent>` and
//! `<project><licenses><license>`. `${project.version}` / `${project.parent.version}` and
//! `${x}` defined in `<properties>` are resolved; anything else unresolved leaves the field
//! empty. It never fetches parents or resolves inheritance beyond the parent element.
//! Never fails: malformed markup ends the scan with what was read so far.

/// Maven coordinates read from one `pom.properties` or `pom.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Coordinates {
    /// `groupId`.
    pub(crate) group: String,
    /// `artifactId`.
    pub(crate) artifact: String,
    /// `version`.
    pub(crate) version: String,
    /// Project name (`<name>` or the `name` property), when given.
    pub(crate) name: Option<String>,
    /// License names from `<licenses>` (pom.xml only).
    pub(crate) licenses: Vec<String>,
}

/// Parses Java properties text (`key=value`, `key: value`, `key value`; `#`/`!` comments;
/// trailing-backslash continuations; `\uXXXX` and `\t\n\r\f` escapes).
pub(crate) fn parse_properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut lines = text.split(['\n', '\r']).peekable();
    while let Some(line) = lines.next() {
        let line = line.trim_start_matches([' ', '\t', '\u{c}']);
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        let trailing = line.chars().rev().take_while(|&c| c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            // Skip the empty piece between `\r` and `\n`.
            if lines.peek().is_some_and(|l| l.is_empty()) {
                lines.next();
            }
            continue;
        }
        logical.push_str(line);
        let (k, v) = split_property(&logical);
        out.push((unescape(k), unescape(v)));
        logical.clear();
    }
    if !logical.is_empty() {
        let (k, v) = split_property(&logical);
        out.push((unescape(k), unescape(v)));
    }
    out
}

fn split_property(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' | '\u{c}' => {
                let key = &line[..i];
                let mut rest = line[i..].trim_start_matches([' ', '\t', '\u{c}']);
                if c.is_whitespace() || c == '\u{c}' {
                    if let Some(r) = rest.strip_prefix(['=', ':']) {
                        rest = r;
                    }
                } else {
                    rest = &rest[1..];
                }
                return (key, rest.trim_start_matches([' ', '\t', '\u{c}']));
            }
            _ => {}
        }
    }
    (line, "")
}

fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push('\u{fffd}'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Coordinates from `pom.properties` text.
pub(crate) fn from_properties(text: &str) -> Coordinates {
    let props = parse_properties(text);
    let get = |k: &str| {
        props
            .iter()
            .rev()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    Coordinates {
        group: get("groupId"),
        artifact: get("artifactId"),
        version: get("version"),
        name: Some(get("name")).filter(|n| !n.is_empty()),
        licenses: Vec::new(),
    }
}

/// One XML event of the tiny reader.
enum Event<'a> {
    Open(&'a str),
    Close,
    Text(&'a str),
}

/// Iterates the elements and text of `xml`; stops at malformed markup.
fn events(xml: &str) -> impl Iterator<Item = Event<'_>> {
    let mut rest = xml;
    let mut pending_close = false;
    std::iter::from_fn(move || {
        if std::mem::take(&mut pending_close) {
            return Some(Event::Close);
        }
        loop {
            if rest.is_empty() {
                return None;
            }
            let Some(lt) = rest.find('<') else {
                let t = rest;
                rest = "";
                return Some(Event::Text(t));
            };
            if lt > 0 {
                let t = &rest[..lt];
                rest = &rest[lt..];
                return Some(Event::Text(t));
            }
            let skip_to = |r: &mut &str, end: &str| match r.find(end) {
                Some(i) => *r = &r[i + end.len()..],
                None => *r = "",
            };
            if rest.starts_with("<!--") {
                skip_to(&mut rest, "-->");
                continue;
            }
            if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").unwrap_or(after.len());
                let t = &after[..end];
                rest = after.get(end + 3..).unwrap_or("");
                return Some(Event::Text(t));
            }
            if rest.starts_with("<?") {
                skip_to(&mut rest, "?>");
                continue;
            }
            if rest.starts_with("<!") {
                skip_to(&mut rest, ">");
                continue;
            }
            let Some(gt) = rest.find('>') else {
                rest = "";
                return None;
            };
            let tag = &rest[1..gt];
            rest = &rest[gt + 1..];
            if tag.starts_with('/') {
                return Some(Event::Close);
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = tag.split(|c: char| c.is_whitespace()).next().unwrap_or("");
            pending_close = self_closing;
            return Some(Event::Open(name));
        }
    })
}

/// Decodes the predefined entities and numeric character references.
fn decode(text: &str) -> String {
    if !text.contains('&') {
        return text.trim().to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(semi) = after.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let ent = &after[..semi];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// Coordinates from `pom.xml` text.
pub(crate) fn from_pom_xml(xml: &str) -> Coordinates {
    let mut stack: Vec<&str> = Vec::new();
    let mut own = Coordinates::default();
    let mut parent = Coordinates::default();
    let mut properties: Vec<(String, String)> = Vec::new();
    let mut text = String::new();
    for ev in events(xml) {
        match ev {
            Event::Open(name) => {
                stack.push(name);
                text.clear();
                if stack.len() > 64 {
                    break;
                }
            }
            Event::Text(t) => text.push_str(t),
            Event::Close => {
                let value = decode(&text);
                text.clear();
                match stack.as_slice() {
                    ["project", field] => match *field {
                        "groupId" => own.group = value,
                        "artifactId" => own.artifact = value,
                        "version" => own.version = value,
                        "name" => own.name = Some(value).filter(|v| !v.is_empty()),
                        _ => {}
                    },
                    ["project", "parent", field] => match *field {
                        "groupId" => parent.group = value,
                        "artifactId" => parent.artifact = value,
                        "version" => parent.version = value,
                        _ => {}
                    },
                    ["project", "properties", key] => properties.push(((*key).to_string(), value)),
                    ["project", "licenses", "license", "name"] if !value.is_empty() => {
                        own.licenses.push(value);
                    }
                    _ => {}
                }
                stack.pop();
            }
        }
    }
    if own.group.is_empty() {
        own.group = parent.group.clone();
    }
    if own.version.is_empty() {
        own.version = parent.version.clone();
    }
    let resolve = |v: &str| -> String {
        let mut out = v.to_string();
        for _ in 0..8 {
            let Some(start) = out.find("${") else {
                return out;
            };
            let Some(len) = out[start..].find('}') else {
                return String::new();
            };
            let key = &out[start + 2..start + len];
            let value = match key {
                "project.version" | "pom.version" | "version" => own.version.clone(),
                "project.parent.version" | "parent.version" => parent.version.clone(),
                "project.groupId" | "pom.groupId" | "groupId" => own.group.clone(),
                "project.parent.groupId" | "parent.groupId" => parent.group.clone(),
                _ => match properties.iter().find(|(k, _)| k == key) {
                    Some((_, v)) => v.clone(),
                    None => return String::new(),
                },
            };
            if value.contains(&format!("${{{key}}}")) {
                return String::new();
            }
            out.replace_range(start..start + len + 1, &value);
        }
        if out.contains("${") {
            String::new()
        } else {
            out
        }
    };
    let (group, artifact, version) = (
        resolve(&own.group),
        resolve(&own.artifact),
        resolve(&own.version),
    );
    own.group = group;
    own.artifact = artifact;
    own.version = version;
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_syntax() {
        let p = parse_properties(
            "#Generated by Maven\n#Tue Jan 01\n  groupId = org.example\r\nartifactId:my\\\n  -lib\nversion 1.2.3\n! comment\nname=caf\\u00e9\n",
        );
        assert_eq!(
            p,
            vec![
                ("groupId".into(), "org.example".into()),
                ("artifactId".into(), "my-lib".into()),
                ("version".into(), "1.2.3".into()),
                ("name".into(), "café".into()),
            ]
        );
        let c = from_properties("version=2.0\ngroupId=g\nartifactId=a\n");
        assert_eq!(
            (c.group.as_str(), c.artifact.as_str(), c.version.as_str()),
            ("g", "a", "2.0")
        );
        assert_eq!(from_properties("").version, "");
        assert_eq!(parse_properties("key\\")[0].0, "key");
    }

    #[test]
    fn pom_xml_own_parent_properties_licenses() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <groupId>wrong</groupId> -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.parent</groupId><artifactId>parent</artifactId><version>7</version></parent>
  <artifactId>child&amp;co</artifactId>
  <version>${revision}</version>
  <properties><revision>1.4.0</revision></properties>
  <dependencies><dependency><groupId>dep</groupId><artifactId>d</artifactId><version>9</version></dependency></dependencies>
  <licenses><license><name>Apache License, Version 2.0</name></license></licenses>
  <build/>
</project>"#;
        let c = from_pom_xml(xml);
        assert_eq!(c.group, "org.parent", "groupId inherited from the parent");
        assert_eq!(c.artifact, "child&co");
        assert_eq!(c.version, "1.4.0");
        assert_eq!(c.licenses, vec!["Apache License, Version 2.0"]);

        let parent_version = from_pom_xml(
            "<project><parent><version>3.1</version></parent><groupId>g</groupId><artifactId>a</artifactId><version>${project.parent.version}</version></project>",
        );
        assert_eq!(parent_version.version, "3.1");
        let unresolved = from_pom_xml(
            "<project><groupId>g</groupId><artifactId>a</artifactId><version>${nope}</version></project>",
        );
        assert_eq!(unresolved.version, "");
        let looping = from_pom_xml(
            "<project><groupId>g</groupId><artifactId>a</artifactId><version>${a}</version><properties><a>${a}</a></properties></project>",
        );
        assert_eq!(looping.version, "");
        // Truncated markup: whatever was read.
        let cut = from_pom_xml("<project><groupId>g</groupId><artifactId>a</arti");
        assert_eq!(cut.group, "g");
    }
}
