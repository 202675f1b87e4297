//! Go binaries (ELF, Mach-O, PE): the build info the Go linker embeds (`.go.buildinfo`) →
//! the Go modules compiled in, the main module and the Go standard library.
//!
//! Format (Go's `debug/buildinfo`): a 32-byte header at 16-byte alignment starting with
//! `\xff Go buildinf:`, then pointer size and flags. From Go 1.18 (`flags & 2`) the version and
//! module-info strings follow inline, each prefixed by an unsigned varint length; before that
//! the header holds two pointers to Go string headers (pointer, length) that are resolved
//! through the binary's sections. Module info is wrapped in 16-byte sentinels and holds
//! `path`, `mod`, `dep`, `=>` (replacement) and `build` lines.
//!
//! Reported: every `dep` (replacements applied), the main module when it has a real version
//! (its own, or a `-X main.version=…`-style ldflag), and `stdlib` at the Go version (without
//! the `go` prefix, as OSV's Go ecosystem spells it). A `(devel)` main module is recorded as
//! `metadata.main_module` on the others instead of as a versionless package.

use object::{Object, ObjectSection};

use super::super::{CatalogCx, CatalogError, Cataloger, FileRef, Found, Package, PackageType, Tag};

/// Go module build info in executables.
#[derive(Debug, Clone, Copy)]
pub struct GoBinaryCataloger;

const ID: &str = "go-module-binary-cataloger";
const MAGIC: &[u8] = b"\xff Go buildinf:";

impl Cataloger for GoBinaryCataloger {
    fn id(&self) -> &'static str {
        ID
    }
    fn tags(&self) -> &'static [Tag] {
        &[Tag::Language, Tag::Installed, Tag::Binary]
    }
    fn globs(&self) -> &'static [&'static str] {
        &[]
    }
    fn executables(&self) -> bool {
        true
    }
    fn executable_markers(&self) -> &'static [&'static [u8]] {
        &[MAGIC]
    }
    fn catalog(&self, file: &FileRef<'_>, cx: &CatalogCx<'_>) -> Result<Found, CatalogError> {
        let mut found = Found::default();
        let Some(info) =
            read_build_info(file.data).map_err(|r| CatalogError::malformed(ID, file.path, r))?
        else {
            return Ok(found);
        };
        let location = cx.location(file.path);
        let mut common = serde_json::Map::new();
        common.insert("go_version".into(), info.go_version.clone().into());
        if !info.main_path.is_empty() {
            common.insert("main_module".into(), info.main_path.clone().into());
        }
        for (k, v) in &info.settings {
            if matches!(
                k.as_str(),
                "GOOS" | "GOARCH" | "CGO_ENABLED" | "vcs.revision"
            ) {
                common.insert(k.clone(), v.clone().into());
            }
        }
        let mk = |name: &str, version: &str, sum: &str| {
            let mut p = Package {
                name: name.to_string(),
                version: version.to_string(),
                kind: PackageType::GoModule,
                locations: vec![location.clone()],
                metadata: common.clone(),
                ..Package::default()
            };
            if !sum.is_empty() {
                p.metadata.insert("h1_digest".into(), sum.into());
            }
            p
        };
        let main_version = match info.main_version.as_str() {
            "" | "(devel)" => ldflags_version(&info, &info.main_path),
            v => Some(v.to_string()),
        };
        if let Some(v) = main_version
            && !info.main_path.is_empty()
        {
            let mut p = mk(&info.main_path, &v, &info.main_sum);
            p.metadata.insert("main".into(), true.into());
            found.packages.push(p);
        }
        for d in &info.deps {
            found.packages.push(mk(&d.path, &d.version, &d.sum));
        }
        if let Some(v) = info
            .go_version
            .split_whitespace()
            .find_map(|t| t.strip_prefix("go"))
            .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        {
            found.packages.push(mk("stdlib", v, ""));
        }
        Ok(found)
    }
}

/// One module line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoModule {
    /// Module path.
    pub path: String,
    /// Version (`v0.3.7`).
    pub version: String,
    /// `h1:` checksum, when recorded.
    pub sum: String,
}

/// Decoded build info.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.21.5`.
    pub go_version: String,
    /// Main package path (`path` line).
    pub main_path: String,
    /// Main module version (`(devel)` for local builds).
    pub main_version: String,
    /// Main module checksum.
    pub main_sum: String,
    /// Dependencies, replacements applied.
    pub deps: Vec<GoModule>,
    /// `build` settings (`-ldflags`, `GOARCH`, `vcs.revision`, …).
    pub settings: Vec<(String, String)>,
}

/// Reads Go build info from an executable. `Ok(None)` when it is not a Go binary (or not an
/// object file at all); `Err` when the build info is there but broken.
pub fn read_build_info(data: &[u8]) -> Result<Option<BuildInfo>, String> {
    let Ok(file) = object::File::parse(data) else {
        return Ok(None);
    };
    let section = file
        .section_by_name(".go.buildinfo")
        .or_else(|| file.section_by_name("__go_buildinfo"));
    let blob: &[u8] = match section.as_ref().and_then(|s| s.data().ok()) {
        Some(d) => d,
        None => {
            // PE (and ELF without the named section): the blob sits in a data section.
            let mut hit = None;
            for s in file.sections() {
                if let Ok(d) = s.data()
                    && let Some(off) = find_aligned(d, MAGIC)
                {
                    hit = d.get(off..);
                    break;
                }
            }
            match hit {
                Some(h) => h,
                None => return Ok(None),
            }
        }
    };
    let Some(off) = find_aligned(blob, MAGIC) else {
        return Ok(None);
    };
    let header = blob
        .get(off..off + 32)
        .ok_or("build info header truncated")?;
    let ptr_size = usize::from(header[14]);
    let flags = header[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let rest = blob.get(off + 32..).ok_or("build info truncated")?;
        let (v, n) = read_varint_string(rest).ok_or("version string truncated")?;
        let (m, _) = read_varint_string(rest.get(n..).unwrap_or(&[]))
            .ok_or("module info string truncated")?;
        (v.to_vec(), m.to_vec())
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!("pointer size {ptr_size} is neither 4 nor 8"));
        }
        let big_endian = flags & 1 != 0;
        let read_ptr = |b: &[u8]| -> Option<u64> {
            Some(match (ptr_size, big_endian) {
                (4, false) => u64::from(u32::from_le_bytes(b.get(..4)?.try_into().ok()?)),
                (4, true) => u64::from(u32::from_be_bytes(b.get(..4)?.try_into().ok()?)),
                (_, false) => u64::from_le_bytes(b.get(..8)?.try_into().ok()?),
                (_, true) => u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
            })
        };
        let read_at = |addr: u64, len: u64| -> Option<Vec<u8>> {
            for s in file.sections() {
                let (start, size) = (s.address(), s.size());
                if addr >= start && addr < start.saturating_add(size) {
                    let d = s.data().ok()?;
                    let o = usize::try_from(addr - start).ok()?;
                    let l = usize::try_from(len).ok()?;
                    return d.get(o..o.checked_add(l)?).map(<[u8]>::to_vec);
                }
            }
            None
        };
        let read_string = |hdr_addr: u64| -> Option<Vec<u8>> {
            let hdr = read_at(hdr_addr, 2 * ptr_size as u64)?;
            let ptr = read_ptr(&hdr)?;
            let len = read_ptr(hdr.get(ptr_size..)?)?;
            if len > 16 * 1024 * 1024 {
                return None;
            }
            read_at(ptr, len)
        };
        let vp = read_ptr(&header[16..]).ok_or("version pointer truncated")?;
        let mp = read_ptr(&header[16 + ptr_size..]).ok_or("module pointer truncated")?;
        (
            read_string(vp).ok_or("version string not found at its address")?,
            read_string(mp).unwrap_or_default(),
        )
    };
    let go_version = String::from_utf8_lossy(&version).into_owned();
    if !go_version.starts_with("go") && !go_version.starts_with("devel") {
        return Err(format!("version string `{go_version}` is not a Go version"));
    }
    let mut modinfo = modinfo.as_slice();
    if modinfo.len() >= 33 && modinfo.get(modinfo.len() - 17) == Some(&b'\n') {
        modinfo = &modinfo[16..modinfo.len() - 16];
    }
    let mut info = parse_modinfo(&String::from_utf8_lossy(modinfo));
    info.go_version = go_version;
    Ok(Some(info))
}

fn find_aligned(data: &[u8], magic: &[u8]) -> Option<usize> {
    let mut off = 0;
    while off + magic.len() <= data.len() {
        if data.get(off..off + magic.len()) == Some(magic) {
            return Some(off);
        }
        off += 16;
    }
    None
}

fn read_varint_string(b: &[u8]) -> Option<(&[u8], usize)> {
    let mut len: u64 = 0;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let byte = *b.get(i)?;
        i += 1;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let s = b.get(i..i.checked_add(len)?)?;
    Some((s, i + len))
}

/// Parses the text module info (`path`, `mod`, `dep`, `=>`, `build` lines).
pub fn parse_modinfo(text: &str) -> BuildInfo {
    let mut info = BuildInfo::default();
    let mut last_dep: Option<usize> = None;
    for line in text.lines() {
        let mut f = line.split('\t');
        let kind = f.next().unwrap_or("");
        let a = f.next().unwrap_or("").to_string();
        let b = f.next().unwrap_or("").to_string();
        let c = f.next().unwrap_or("").to_string();
        match kind {
            "path" => info.main_path = a,
            "mod" => {
                info.main_path = a;
                info.main_version = b;
                info.main_sum = c;
                last_dep = None;
            }
            "dep" => {
                info.deps.push(GoModule {
                    path: a,
                    version: b,
                    sum: c,
                });
                last_dep = Some(info.deps.len() - 1);
            }
            "=>" => {
                // A replacement with a version is another module; a local directory
                // replacement (no version) keeps the original identity.
                if let Some(d) = last_dep.and_then(|i| info.deps.get_mut(i))
                    && !b.is_empty()
                {
                    d.path = a;
                    d.version = b;
                    d.sum = c;
                }
            }
            "build" => {
                if let Some((k, v)) = a.split_once('=') {
                    info.settings.push((k.to_string(), v.to_string()));
                }
            }
            _ => {}
        }
    }
    info
}

/// A main-module version set with `-X <main or module path>.<version-ish>=<v>`.
fn ldflags_version(info: &BuildInfo, main_path: &str) -> Option<String> {
    let flags = info
        .settings
        .iter()
        .find(|(k, _)| k == "-ldflags")
        .map(|(_, v)| v.as_str())?;
    let flags = flags.replace(['\'', '"'], " ");
    let mut tokens = flags.split_whitespace().peekable();
    while let Some(t) = tokens.next() {
        let assignment = if t == "-X" {
            tokens.next()
        } else {
            t.strip_prefix("-X=").or_else(|| t.strip_prefix("-X"))
        };
        let Some((key, value)) = assignment.and_then(|a| a.split_once('=')) else {
            continue;
        };
        let (pkg, var) = key.rsplit_once('.').unwrap_or(("", key));
        let var = var.to_ascii_lowercase();
        let versionish = matches!(
            var.as_str(),
            "version" | "ver" | "gitversion" | "buildversion" | "gittag" | "releaseversion"
        );
        let from_main = pkg == "main" || (!main_path.is_empty() && pkg.starts_with(main_path));
        let looks = value
            .trim_start_matches('v')
            .starts_with(|c: char| c.is_ascii_digit());
        if versionish && from_main && looks {
            return Some(value.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modinfo_with_replacements() {
        let text = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.7\th1:abc\ndep\tgithub.com/a/b\tv1.0.0\th1:x\n=>\tgithub.com/fork/b\tv1.0.1\th1:y\ndep\tgithub.com/c/d\tv1.0.0\t\n=>\t../local\t\t\nbuild\t-ldflags=\"-s -X main.version=2.4.1\"\nbuild\tGOARCH=amd64\n";
        let info = parse_modinfo(text);
        assert_eq!(info.main_version, "(devel)");
        assert_eq!(info.deps[1].path, "github.com/fork/b");
        assert_eq!(info.deps[2].path, "github.com/c/d");
        assert_eq!(
            ldflags_version(&info, "example.com/app").as_deref(),
            Some("2.4.1")
        );
    }

    #[test]
    fn not_a_go_binary() {
        assert_eq!(read_build_info(b"\x7fELF garbage"), Ok(None));
        assert_eq!(read_build_info(b"hello"), Ok(None));
    }
}
