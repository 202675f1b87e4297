//! Distro detection: `/etc/os-release` (then `/usr/lib/os-release`), falling back to
//! `/etc/alpine-release`, `/etc/debian_version` and `/etc/redhat-release`, and — for distroless
//! images with none of these — inference from the OS packages found (`base-files` for Debian).
//!
//! Does not: decide end-of-life or vulnerability namespaces (`matcher`). Reads only [`FILES`].

use super::{Distro, Package, PackageType, Problem};
use crate::image::FileTree;

/// The files distro detection reads, in priority order.
pub const FILES: &[&str] = &[
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/alpine-release",
    "/etc/debian_version",
    "/etc/redhat-release",
    "/etc/system-release",
    // Targets of the `redhat-release` / `system-release` symlinks on RPM distros.
    "/etc/centos-release",
    "/etc/rocky-release",
    "/etc/almalinux-release",
    "/etc/fedora-release",
    "/etc/oracle-release",
    "/etc/amazon-linux-release",
];

/// Detects the distro from the release files of `files`. A release file that exists but whose
/// contents were not retained, or that is not UTF-8, is reported in `problems`.
pub fn detect(files: &FileTree, problems: &mut Vec<Problem>) -> Option<Distro> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        let Some(real) = files.resolve(path) else {
            continue;
        };
        match files.content(&real) {
            Some(data) => {
                let (text, lossy) = super::text(data);
                if lossy {
                    problems.push(problem(path, "not valid UTF-8; invalid bytes replaced"));
                }
                if let Some(d) = parse_os_release(&text) {
                    return Some(enrich(d, files));
                }
                problems.push(problem(path, "no `ID=` line; file ignored"));
            }
            None if files.get(&real).is_some() => {
                problems.push(problem(path, "contents not retained; file ignored"));
            }
            None => {}
        }
    }
    let read = |p: &str| {
        files
            .resolve(p)
            .and_then(|r| files.content(&r))
            .map(|d| String::from_utf8_lossy(d).trim().to_string())
    };
    if let Some(v) = read("/etc/alpine-release") {
        return Some(Distro {
            id: "alpine".into(),
            pretty_name: format!("Alpine Linux v{v}"),
            version_id: v,
            ..Distro::default()
        });
    }
    for p in ["/etc/redhat-release", "/etc/system-release"] {
        if let Some(d) = read(p).and_then(|t| parse_redhat_release(&t)) {
            return Some(d);
        }
    }
    if let Some(v) = read("/etc/debian_version") {
        return Some(debian_from_version(&v));
    }
    None
}

fn problem(path: &str, message: &str) -> Problem {
    Problem {
        source: "distro".into(),
        path: Some(path.into()),
        message: message.into(),
    }
}

/// Fills what os-release leaves out: Debian's codename from `debian_version` when missing.
fn enrich(mut d: Distro, files: &FileTree) -> Distro {
    if d.codename.is_none() && d.id == "debian" {
        d.codename = files
            .content("/etc/debian_version")
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .and_then(|v| debian_from_version(&v).codename);
    }
    d
}

/// Parses os-release text (`KEY=value`, values optionally quoted, `#` comments).
pub fn parse_os_release(text: &str) -> Option<Distro> {
    let mut d = Distro::default();
    let mut version = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = unquote(v.trim());
        match k.trim() {
            "ID" => d.id = v.to_ascii_lowercase(),
            "VERSION_ID" => d.version_id = v,
            "VERSION_CODENAME" if !v.is_empty() => d.codename = Some(v),
            "UBUNTU_CODENAME" if d.codename.is_none() && !v.is_empty() => d.codename = Some(v),
            "ID_LIKE" => d.id_like = v.split_whitespace().map(str::to_string).collect(),
            "PRETTY_NAME" => d.pretty_name = v,
            "VERSION" => version = v,
            _ => {}
        }
    }
    if d.id.is_empty() {
        return None;
    }
    if d.codename.is_none()
        && let (Some(a), Some(b)) = (version.find('('), version.find(')'))
        && a < b
    {
        let inner = version[a + 1..b].trim();
        // "12 (bookworm)" but not "9.3 (Blue Onyx)" → only single lowercase words.
        if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_lowercase()) {
            d.codename = Some(inner.to_string());
        }
    }
    Some(d)
}

fn unquote(v: &str) -> String {
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"")
        .replace("\\$", "$")
        .replace("\\\\", "\\")
}

/// Debian codenames by major version, for `debian_version` and distroless inference.
fn debian_codename(major: &str) -> Option<&'static str> {
    Some(match major {
        "8" => "jessie",
        "9" => "stretch",
        "10" => "buster",
        "11" => "bullseye",
        "12" => "bookworm",
        "13" => "trixie",
        "14" => "forky",
        _ => return None,
    })
}

fn debian_from_version(v: &str) -> Distro {
    // "12.4" → 12; "bookworm/sid" → testing.
    let major = v.split('.').next().unwrap_or("").to_string();
    if major.chars().all(|c| c.is_ascii_digit()) && !major.is_empty() {
        Distro {
            id: "debian".into(),
            codename: debian_codename(&major).map(str::to_string),
            pretty_name: format!("Debian GNU/Linux {major}"),
            version_id: major,
            ..Distro::default()
        }
    } else {
        Distro {
            id: "debian".into(),
            codename: v.split('/').next().map(str::to_string),
            pretty_name: format!("Debian GNU/Linux {v}"),
            ..Distro::default()
        }
    }
}

/// Parses `/etc/redhat-release` style lines: `Rocky Linux release 9.3 (Blue Onyx)`.
pub fn parse_redhat_release(text: &str) -> Option<Distro> {
    let line = text.lines().next()?.trim();
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?.to_string();
    let lower = name.to_ascii_lowercase();
    let id = if lower.contains("red hat") {
        "rhel"
    } else if lower.contains("centos") {
        "centos"
    } else if lower.contains("rocky") {
        "rocky"
    } else if lower.contains("alma") {
        "almalinux"
    } else if lower.contains("fedora") {
        "fedora"
    } else if lower.contains("oracle") {
        "ol"
    } else if lower.contains("amazon") {
        "amzn"
    } else {
        return None;
    };
    Some(Distro {
        id: id.into(),
        version_id: version,
        pretty_name: line.to_string(),
        id_like: if id == "fedora" {
            vec![]
        } else {
            vec!["rhel".into(), "fedora".into()]
        },
        ..Distro::default()
    })
}

/// For images without release files (distroless): Debian from dpkg's `base-files` version
/// (`12.4+deb12u14` → 12), Alpine from `alpine-baselayout`'s presence.
pub fn infer_from_packages(packages: &[Package]) -> Option<Distro> {
    if let Some(bf) = packages
        .iter()
        .find(|p| p.kind == PackageType::Deb && p.name == "base-files")
    {
        let major: String = bf
            .version
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !major.is_empty() {
            return Some(debian_from_version(&major));
        }
    }
    if packages.iter().any(|p| p.kind == PackageType::Deb) {
        return Some(Distro {
            id: "debian".into(),
            ..Distro::default()
        });
    }
    if packages.iter().any(|p| p.kind == PackageType::Apk) {
        return Some(Distro {
            id: "alpine".into(),
            ..Distro::default()
        });
    }
    infer_rpm_distro(packages)
}

/// RPM distros from their release package (`rocky-release 9.3-1.2.el9` → rocky 9.3), for
/// images whose release files were removed.
fn infer_rpm_distro(packages: &[Package]) -> Option<Distro> {
    const RELEASE_PACKAGES: &[(&str, &str)] = &[
        ("redhat-release", "rhel"),
        ("rocky-release", "rocky"),
        ("almalinux-release", "almalinux"),
        ("centos-stream-release", "centos"),
        ("centos-release", "centos"),
        ("fedora-release-common", "fedora"),
        ("fedora-release", "fedora"),
        ("oraclelinux-release", "ol"),
        ("system-release", "amzn"),
    ];
    for (name, id) in RELEASE_PACKAGES {
        let Some(p) = packages
            .iter()
            .find(|p| p.kind == PackageType::Rpm && p.name == *name)
        else {
            continue;
        };
        // `[epoch:]version-release`: the distro version is the rpm version.
        let evr = p
            .version
            .split_once(':')
            .map_or(p.version.as_str(), |(_, r)| r);
        let version = evr.split('-').next().unwrap_or_default().to_string();
        return Some(Distro {
            id: (*id).to_string(),
            version_id: version,
            id_like: if *id == "fedora" {
                vec![]
            } else {
                vec!["rhel".into(), "fedora".into()]
            },
            ..Distro::default()
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{FileEntry, FileKind};
    use std::sync::Arc;

    fn tree(files: &[(&str, &str)]) -> FileTree {
        let mut t = FileTree::default();
        for (p, c) in files {
            t.entries.insert(
                (*p).into(),
                FileEntry {
                    path: (*p).into(),
                    kind: FileKind::Regular,
                    size: c.len() as u64,
                    ..Default::default()
                },
            );
            t.contents.insert((*p).into(), Arc::from(c.as_bytes()));
        }
        t
    }

    #[test]
    fn debian_os_release() {
        let t = tree(&[(
            "/etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\n",
        )]);
        let d = detect(&t, &mut Vec::new()).unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str()), ("debian", "12"));
        assert_eq!(d.codename.as_deref(), Some("bookworm"));
    }

    #[test]
    fn usr_lib_fallback_and_symlink() {
        let mut t = tree(&[(
            "/usr/lib/os-release",
            "ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        )]);
        t.entries.insert(
            "/etc/os-release".into(),
            FileEntry {
                path: "/etc/os-release".into(),
                kind: FileKind::Symlink,
                link_target: Some("../usr/lib/os-release".into()),
                ..Default::default()
            },
        );
        let d = detect(&t, &mut Vec::new()).unwrap();
        assert_eq!(d.id, "alpine");
        assert_eq!(d.version_id, "3.19.1");
    }

    #[test]
    fn release_file_fallbacks() {
        let d = detect(
            &tree(&[("/etc/alpine-release", "3.18.4\n")]),
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str()), ("alpine", "3.18.4"));
        let d = detect(
            &tree(&[(
                "/etc/redhat-release",
                "Rocky Linux release 9.3 (Blue Onyx)\n",
            )]),
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str()), ("rocky", "9.3"));
        assert_eq!(d.codename, None);
        let d = detect(&tree(&[("/etc/debian_version", "11.8\n")]), &mut Vec::new()).unwrap();
        assert_eq!(d.codename.as_deref(), Some("bullseye"));
    }

    #[test]
    fn garbage_os_release_is_a_problem() {
        let mut problems = Vec::new();
        let t = tree(&[("/etc/os-release", "\u{0}\u{1}nonsense")]);
        assert!(detect(&t, &mut problems).is_none());
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn rpm_release_files_and_symlink_targets() {
        for (line, id, version) in [
            ("Red Hat Enterprise Linux release 9.3 (Plow)", "rhel", "9.3"),
            (
                "Red Hat Enterprise Linux Server release 7.9 (Maipo)",
                "rhel",
                "7.9",
            ),
            ("CentOS Linux release 7.9.2009 (Core)", "centos", "7.9.2009"),
            ("CentOS Stream release 9", "centos", "9"),
            (
                "AlmaLinux release 9.3 (Shamrock Pampas Cat)",
                "almalinux",
                "9.3",
            ),
            ("Fedora release 39 (Thirty Nine)", "fedora", "39"),
            ("Amazon Linux release 2 (Karoo)", "amzn", "2"),
            (
                "Amazon Linux release 2023.3.20240108 (Amazon Linux)",
                "amzn",
                "2023.3.20240108",
            ),
        ] {
            let d = parse_redhat_release(line).unwrap();
            assert_eq!(
                (d.id.as_str(), d.version_id.as_str()),
                (id, version),
                "{line}"
            );
        }
        // `/etc/redhat-release` is a symlink to the distro's own file, which must be retained.
        let mut t = tree(&[(
            "/etc/rocky-release",
            "Rocky Linux release 8.9 (Green Obsidian)\n",
        )]);
        t.entries.insert(
            "/etc/redhat-release".into(),
            FileEntry {
                path: "/etc/redhat-release".into(),
                kind: FileKind::Symlink,
                link_target: Some("rocky-release".into()),
                ..Default::default()
            },
        );
        let d = detect(&t, &mut Vec::new()).unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str()), ("rocky", "8.9"));
        assert!(FILES.contains(&"/etc/rocky-release"));
    }

    #[test]
    fn rpm_inference_from_release_packages() {
        let p = |name: &str, version: &str| Package {
            name: name.into(),
            version: version.into(),
            kind: PackageType::Rpm,
            ..Default::default()
        };
        let d = infer_from_packages(&[p("bash", "5.1.8-6.el9"), p("rocky-release", "9.3-1.2.el9")])
            .unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str()), ("rocky", "9.3"));
        let d =
            infer_from_packages(&[p("system-release", "1:2023.3.20240108-0.amzn2023")]).unwrap();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_str()),
            ("amzn", "2023.3.20240108")
        );
        assert!(infer_from_packages(&[p("bash", "5.1.8-6.el9")]).is_none());
    }

    #[test]
    fn distroless_inference_from_base_files() {
        let p = Package {
            name: "base-files".into(),
            version: "12.4+deb12u14".into(),
            kind: PackageType::Deb,
            ..Default::default()
        };
        let d = infer_from_packages(&[p]).unwrap();
        assert_eq!(
            (d.version_id.as_str(), d.codename.as_deref()),
            ("12", Some("bookworm"))
        );
    }
}
