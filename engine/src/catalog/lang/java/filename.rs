//! Name and version guessed from an archive's file name (`commons-lang3-3.12.0.jar` →
//! `commons-lang3`, `3.12.0`), the last resort of Java identity.
//!
//! Rule: the version starts at a `-` followed by a digit. When there are several such places,
//! the first is used unless the text between it and the next one holds a word of three or more
//! letters that is not a version qualifier: `log4j-1.2-api-2.17.1` → `log4j-1.2-api` +
//! `2.17.1` (`api` is a name word), but `groovy-4.0.0-rc-2` → `groovy` + `4.0.0-rc-2` and
//! `guava-31.1-jre` → `guava` + `31.1-jre`. No such place → the whole stem is the name and
//! the version is empty.

/// Words that belong to a version, not a name.
const QUALIFIERS: &[&str] = &[
    "alpha",
    "beta",
    "milestone",
    "snapshot",
    "final",
    "release",
    "jre",
    "jdk",
    "android",
    "incubating",
    "preview",
    "dev",
    "pre",
    "ga",
    "rc",
    "cr",
    "sp",
];

/// Splits a file name (with or without directories and extension) into name and version.
pub(crate) fn split(file_name: &str) -> (String, String) {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    let stem = match base.rsplit_once('.') {
        Some((s, ext)) if !s.is_empty() && ext.chars().all(|c| c.is_ascii_alphabetic()) => s,
        _ => base,
    };
    let bytes = stem.as_bytes();
    let starts: Vec<usize> = (1..bytes.len())
        .filter(|&i| bytes[i - 1] == b'-' && bytes[i].is_ascii_digit())
        .collect();
    let mut chosen = None;
    for (n, &s) in starts.iter().enumerate() {
        let next = starts.get(n + 1).copied();
        let Some(next) = next else {
            chosen = Some(s);
            break;
        };
        let between = &stem[s..next - 1];
        let name_word = between
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 3)
            .any(|w| !QUALIFIERS.contains(&w.to_ascii_lowercase().as_str()));
        if !name_word {
            chosen = Some(s);
            break;
        }
    }
    match chosen {
        Some(s) if s >= 2 => (stem[..s - 1].to_string(), stem[s..].to_string()),
        _ => (stem.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn names_and_versions() {
        let cases = [
            ("commons-lang3-3.12.0.jar", "commons-lang3", "3.12.0"),
            (
                "/usr/share/java/log4j-1.2-api-2.17.1.jar",
                "log4j-1.2-api",
                "2.17.1",
            ),
            ("guava-31.1-jre.jar", "guava", "31.1-jre"),
            ("groovy-4.0.0-rc-2.jar", "groovy", "4.0.0-rc-2"),
            ("app-1.0-SNAPSHOT.war", "app", "1.0-SNAPSHOT"),
            ("bcprov-jdk18on-1.72.jar", "bcprov-jdk18on", "1.72"),
            (
                "netty-codec-http2-4.1.86.Final.jar",
                "netty-codec-http2",
                "4.1.86.Final",
            ),
            (
                "jetty-server-9.4.48.v20220622.jar",
                "jetty-server",
                "9.4.48.v20220622",
            ),
            ("tools.jar", "tools", ""),
            ("-1.0.jar", "-1.0", ""),
            ("x.y", "x", ""),
        ];
        for (file, name, version) in cases {
            assert_eq!(
                split(file),
                (name.to_string(), version.to_string()),
                "{file}"
            );
        }
    }
}
