//! File contents → secret and content-regex hits: [`SecretScanner`] is the
//! [`ContentScanner`](crate::image::ContentScanner) the image stage runs over every regular file
//! while layers stream (possibly from several threads), and [`from_hits`] turns the hits that
//! survive into the final filesystem into masked [`SecretFinding`]s for the inventory.
//!
//! Does not decide anything (the `secret_scans` and `files` policy gates do). Invariants: a
//! secret value never leaves this module — hits carry only a 12-hex sha256 fingerprint and a
//! masked excerpt; binary files (a NUL byte in the first 8 KiB) and files over the size cap are
//! skipped; documentation, locale and dependency-cache paths are skipped by name.
//!
//! The default rules are Anchore's (`AWS_ACCESS_KEY`, `AWS_SECRET_KEY`, `PRIV_KEY`,
//! `DOCKER_AUTH`, `API_KEY`), reported with Anchore's exact `NAME=REGEX` text so existing
//! allowlist trigger ids keep matching, but run as equivalent Rust regexes (the `regex` crate has
//! no look-around), plus token shapes Anchore lacks (GitHub, Slack, GitLab, Stripe, bare AWS key
//! ids).
//!
//! Speed (this runs over every text file of every layer): one ASCII-case-insensitive
//! Aho-Corasick pass per file looks for each default rule's keywords (a rule cannot match
//! without one, as in Trivy's keyword prefilter); only rules whose keyword occurs are run, as
//! byte regexes (no UTF-8 copy of the file) with ASCII word boundaries so the lazy DFA never
//! falls back to the PikeVM. Bundle rules have no keywords: they are screened together by one
//! `RegexSet` pass, and only those that matched are re-run to locate lines.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::{Regex, RegexSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::SecretFinding;
use crate::image::{ContentHit, ContentScanner, FileContentHit};

/// Prefix of `ContentHit::rule` for content-regex (non-secret) rules.
pub const CONTENT_PREFIX: &str = "content:";

/// Largest file scanned (bytes). Anchore's default is 10 kB; secrets in larger text files are
/// still worth finding, so Tollgate reads up to 2 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

/// At most this many hits per rule per file (a minified bundle can repeat a token shape).
const MAX_HITS_PER_RULE: usize = 20;

/// Whether a rule finds secrets or is a plain content regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentRuleKind {
    /// A secret rule (`secret_scans` gate; masked).
    Secret,
    /// A content regex (`files/content_regex_match` gate).
    Content,
}

/// A named regex to run over file contents (from a policy bundle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRule {
    /// Name (`NAME` of `NAME=REGEX`).
    pub name: String,
    /// The regex (Rust syntax), matched per line.
    pub regex: String,
    /// Secret or content rule.
    pub kind: ContentRuleKind,
}

struct DefaultRule {
    name: &'static str,
    /// The text reported (Anchore's own regex for Anchore's names).
    display: &'static str,
    /// The regex run; group `s` (when present) is the secret part to mask and fingerprint.
    engine: &'static str,
    /// Lower-case literals of which every match of `engine` contains at least one (compared
    /// ASCII-case-insensitively): the prefilter.
    keywords: &'static [&'static str],
}

const DEFAULT_RULES: &[DefaultRule] = &[
    DefaultRule {
        name: "AWS_ACCESS_KEY",
        display: "(?i).*aws_access_key_id( *=+ *).*(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]).*",
        engine: r"(?im)aws_access_key_id *=+ *(?:.*?[^A-Z0-9])?(?P<s>[A-Z0-9]{20})(?:[^A-Z0-9]|$)",
        keywords: &["aws_access_key_id"],
    },
    DefaultRule {
        name: "AWS_SECRET_KEY",
        display: "(?i).*aws_secret_access_key( *=+ *).*(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=]).*",
        engine: r"(?im)aws_secret_access_key *=+ *(?:.*?[^A-Za-z0-9/+=])?(?P<s>[A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)",
        keywords: &["aws_secret_access_key"],
    },
    DefaultRule {
        name: "PRIV_KEY",
        display: "(?i)-+BEGIN(.*)PRIVATE KEY-+",
        engine: r"(?im)-+BEGIN(?P<s>.*)PRIVATE KEY-+",
        keywords: &["private key"],
    },
    DefaultRule {
        name: "DOCKER_AUTH",
        display: "(?i).*\"auth\": *\".+\"",
        engine: r#"(?im)"auth": *"(?P<s>[^"]+)""#,
        keywords: &["\"auth\""],
    },
    DefaultRule {
        name: "API_KEY",
        display: "(?i).*api(-|_)key( *=+ *).*(?<![A-Z0-9])[A-Z0-9]{20,60}(?![A-Z0-9]).*",
        engine: r"(?im)api(?:-|_)key *=+ *(?:.*?[^A-Z0-9])?(?P<s>[A-Z0-9]{20,60})(?:[^A-Z0-9]|$)",
        keywords: &["api-key", "api_key"],
    },
    DefaultRule {
        name: "GITHUB_TOKEN",
        display: r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})",
        engine: r"(?P<s>gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})",
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    },
    DefaultRule {
        name: "GITLAB_TOKEN",
        display: r"glpat-[A-Za-z0-9_\-]{20,}",
        engine: r"(?P<s>glpat-[A-Za-z0-9_\-]{20,})",
        keywords: &["glpat-"],
    },
    DefaultRule {
        name: "SLACK_TOKEN",
        display: r"xox[baprs]-[A-Za-z0-9-]{10,}",
        engine: r"(?P<s>xox[baprs]-[A-Za-z0-9-]{10,})",
        keywords: &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
    },
    DefaultRule {
        name: "STRIPE_KEY",
        display: r"(?:sk|rk)_live_[A-Za-z0-9]{20,}",
        engine: r"(?P<s>(?:sk|rk)_live_[A-Za-z0-9]{20,})",
        keywords: &["sk_live_", "rk_live_"],
    },
    DefaultRule {
        name: "AWS_ACCESS_KEY_ID",
        display: r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        engine: r"(?-u:\b)(?P<s>(?:AKIA|ASIA)[A-Z0-9]{16})(?-u:\b)",
        keywords: &["akia", "asia"],
    },
];

/// Paths never read (documentation, locales, dependency caches), and extensions of binary /
/// media formats.
const SKIP_PREFIXES: &[&str] = &[
    "/usr/share/doc/",
    "/usr/share/man/",
    "/usr/share/info/",
    "/usr/share/locale/",
    "/usr/share/i18n/",
    "/usr/share/zoneinfo/",
    "/usr/share/perl",
    "/usr/include/",
    "/usr/share/mime/",
    "/usr/share/icons/",
    "/usr/share/fonts/",
    "/proc/",
    "/sys/",
    "/dev/",
    "/var/lib/dpkg/info/",
    "/var/cache/",
    "/usr/share/common-licenses/",
];
const SKIP_SEGMENTS: &[&str] = &[
    "/node_modules/",
    "/go/pkg/mod/",
    "/.git/",
    "/__pycache__/",
    "/site-packages/",
    "/dist-packages/",
];
const SKIP_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "ico", "svg", "webp", "bmp", "woff", "woff2", "ttf", "otf", "eot",
    "mp3", "mp4", "gz", "tgz", "zip", "xz", "bz2", "zst", "tar", "jar", "war", "whl", "pyc", "so",
    "a", "o", "mo", "gmo", "md", "rst", "html", "htm", "css", "map", "h", "hpp", "c", "cc", "pod",
    "3", "1", "8",
];

#[derive(Debug)]
struct Compiled {
    name: String,
    re: Regex,
    content: bool,
}

/// The secret / content-regex scanner. Immutable after construction; `Sync`, so the image stage
/// may call it from several threads at once.
#[derive(Debug)]
pub struct SecretScanner {
    /// Default rules first (index = position in the keyword table), then bundle rules.
    rules: Vec<Compiled>,
    /// How many of `rules` are default (keyword-prefiltered) rules.
    defaults: usize,
    /// Every default rule's keywords; pattern id → rule index via `keyword_rule`.
    keywords: Option<AhoCorasick>,
    keyword_rule: Vec<usize>,
    /// The bundle rules (`rules[defaults..]`) as one set.
    extra_set: RegexSet,
    max_file_size: u64,
}

impl SecretScanner {
    /// The default rules plus `extra_rules` (a bundle's `NAME=REGEX` rules). Extra rules whose
    /// regex does not compile are skipped (bundles are validated before this is called).
    pub fn new(extra_rules: &[ContentRule]) -> SecretScanner {
        let mut rules: Vec<Compiled> = Vec::new();
        let mut patterns: Vec<&str> = Vec::new();
        let mut keyword_rule = Vec::new();
        for r in DEFAULT_RULES {
            if let Ok(re) = Regex::new(r.engine) {
                for k in r.keywords {
                    patterns.push(k);
                    keyword_rule.push(rules.len());
                }
                rules.push(Compiled {
                    name: r.name.into(),
                    re,
                    content: false,
                });
            }
        }
        let defaults = rules.len();
        for r in extra_rules {
            let Ok(re) = Regex::new(&format!("(?m){}", r.regex)) else {
                continue;
            };
            let content = r.kind == ContentRuleKind::Content;
            if !content && rules.iter().any(|c| c.name == r.name && !c.content) {
                continue;
            }
            rules.push(Compiled {
                name: r.name.clone(),
                re,
                content,
            });
        }
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok();
        let extra_set = RegexSet::new(rules[defaults..].iter().map(|r| r.re.as_str()))
            .unwrap_or_else(|_| RegexSet::empty());
        SecretScanner {
            rules,
            defaults,
            keywords,
            keyword_rule,
            extra_set,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }

    /// Sets the size cap (bytes).
    pub fn with_max_file_size(mut self, bytes: u64) -> SecretScanner {
        self.max_file_size = bytes;
        self
    }

    /// The rule names this scanner runs.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// Indexes into `rules` of the rules that may match `data`, ascending.
    fn candidates(&self, data: &[u8]) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        if let Some(ac) = &self.keywords {
            let mut seen = vec![false; self.defaults];
            let mut left = self.defaults;
            for m in ac.find_overlapping_iter(data) {
                if let Some(&rule) = self.keyword_rule.get(m.pattern().as_usize())
                    && let Some(flag) = seen.get_mut(rule)
                    && !*flag
                {
                    *flag = true;
                    out.push(rule);
                    left -= 1;
                    if left == 0 {
                        break;
                    }
                }
            }
            out.sort_unstable();
        }
        if self.rules.len() > self.defaults {
            out.extend(
                self.extra_set
                    .matches(data)
                    .iter()
                    .map(|i| i + self.defaults),
            );
        }
        out
    }
}

/// `NAME=REGEX` as reported for a rule name (default rules use Anchore's text).
pub fn rule_display(name: &str, extra_rules: &[ContentRule]) -> String {
    if let Some(r) = DEFAULT_RULES.iter().find(|r| r.name == name) {
        return format!("{}={}", r.name, r.display);
    }
    match extra_rules.iter().find(|r| r.name == name) {
        Some(r) => format!("{}={}", r.name, r.regex),
        None => name.to_string(),
    }
}

fn skipped_by_name(path: &str) -> bool {
    if SKIP_PREFIXES.iter().any(|p| path.starts_with(p))
        || SKIP_SEGMENTS.iter().any(|s| path.contains(s))
    {
        return true;
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => {
            SKIP_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e))
        }
        _ => false,
    }
}

/// Masks a secret: keeps the first 4 characters (and the last 4 of long values), stars the rest.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n.max(4));
    }
    let keep_tail = if n >= 20 { 4 } else { 0 };
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[n - keep_tail..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(n - 4 - keep_tail))
}

fn fingerprint(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    hex::encode(d)[..12].to_string()
}

impl ContentScanner for SecretScanner {
    fn wants(&self, path: &str, size: u64) -> bool {
        size > 0 && size <= self.max_file_size && !skipped_by_name(path)
    }

    fn scan(&self, path: &str, data: &[u8]) -> Vec<ContentHit> {
        let _ = path;
        let head = &data[..data.len().min(8192)];
        if head.contains(&0) {
            return Vec::new();
        }
        let candidates = self.candidates(data);
        if candidates.is_empty() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        for idx in candidates {
            let Some(rule) = self.rules.get(idx) else {
                continue;
            };
            let mut line = 1u32;
            let mut counted_to = 0usize;
            for caps in rule.re.captures_iter(data).take(MAX_HITS_PER_RULE) {
                let Some(whole) = caps.get(0) else { continue };
                let secret = caps.name("s").unwrap_or(whole);
                line += data[counted_to..secret.start()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u32;
                counted_to = secret.start();
                let value = String::from_utf8_lossy(secret.as_bytes());
                let (rule_name, masked) = if rule.content {
                    (
                        format!("{CONTENT_PREFIX}{}", rule.name),
                        mask(String::from_utf8_lossy(whole.as_bytes()).trim()),
                    )
                } else {
                    (rule.name.clone(), mask(value.trim()))
                };
                hits.push(ContentHit {
                    rule: rule_name,
                    line,
                    fingerprint: fingerprint(&value),
                    masked,
                });
            }
        }
        hits.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.rule.cmp(&b.rule)));
        hits
    }
}

/// Hits as inventory findings (`Inventory::secrets`). Content-regex hits keep their
/// [`CONTENT_PREFIX`]ed rule name so the `files` gate can tell them from secrets.
pub fn from_hits(hits: &[FileContentHit]) -> Vec<SecretFinding> {
    hits.iter().map(|h| finding(h, &h.hit.rule)).collect()
}

/// Masks what must not leave the scan in the retrieved files an analysis keeps as text: every
/// line holding a secret finding becomes `[redacted: RULE FINGERPRINT]`, and the password hash
/// field of `/etc/shadow` (kept only when a bundle's `retrieved_files` rule names it) becomes
/// `[redacted]`, its `!`/`*` lock prefix kept. Run after policy evaluation, so rules still see
/// the real contents; a later `tollgate evaluate` of the saved analysis sees the masked text.
pub fn redact_retrieved(inventory: &mut crate::catalog::Inventory) {
    for (path, text) in inventory.retrieved_files.iter_mut() {
        let secret_lines: Vec<&SecretFinding> = inventory
            .secrets
            .iter()
            .filter(|s| &s.path == path && !s.rule.starts_with(CONTENT_PREFIX))
            .collect();
        let shadow = path.trim_end_matches('/').ends_with("/etc/shadow");
        if secret_lines.is_empty() && !shadow {
            continue;
        }
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let eol = &line[line.trim_end_matches(['\r', '\n']).len()..];
            if let Some(f) = secret_lines.iter().find(|f| f.line == number) {
                out.push_str(&format!("[redacted: {} {}]{eol}", f.rule, f.fingerprint));
            } else if shadow {
                out.push_str(&redact_shadow_line(line));
            } else {
                out.push_str(line);
            }
        }
        *text = out;
    }
}

/// `user:HASH:rest` → `user:[redacted]:rest` when HASH is a real hash (not empty, `*`, `!`,
/// `!!`, `x`); a leading `!`/`*` (locked account) is kept.
fn redact_shadow_line(line: &str) -> String {
    let mut fields = line.splitn(3, ':');
    let (Some(user), Some(hash)) = (fields.next(), fields.next()) else {
        return line.to_string();
    };
    let lock_len = hash.len() - hash.trim_start_matches(['!', '*']).len();
    let (lock, rest_hash) = hash.split_at(lock_len);
    if rest_hash.is_empty() || rest_hash == "x" {
        return line.to_string();
    }
    match fields.next() {
        Some(rest) => format!("{user}:{lock}[redacted]:{rest}"),
        None => format!("{user}:{lock}[redacted]"),
    }
}

fn finding(h: &FileContentHit, rule: &str) -> SecretFinding {
    SecretFinding {
        rule: rule.to_string(),
        path: h.path.clone(),
        line: h.hit.line,
        layer_index: h.layer,
        fingerprint: h.hit.fingerprint.clone(),
        masked: h.hit.masked.clone(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn retrieved_files_lose_secret_lines_and_shadow_hashes() {
        let mut inv = crate::catalog::Inventory::default();
        inv.retrieved_files.insert(
            "/app/.env".into(),
            "A=1\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nB=2\n".into(),
        );
        inv.retrieved_files.insert(
            "/etc/shadow".into(),
            "root:$6$salt$hash:19000:0:99999:7:::\nbin:*:19000::::::\nlocked:!$6$x$y:1::\nnopw::1::\n"
                .into(),
        );
        inv.retrieved_files
            .insert("/etc/passwd".into(), "root:x:0:0::/root:/bin/sh\n".into());
        inv.secrets.push(SecretFinding {
            rule: "AWS_SECRET_KEY".into(),
            path: "/app/.env".into(),
            line: 2,
            layer_index: 0,
            fingerprint: "0123456789ab".into(),
            masked: String::new(),
        });
        redact_retrieved(&mut inv);
        assert_eq!(
            inv.retrieved_files["/app/.env"],
            "A=1\n[redacted: AWS_SECRET_KEY 0123456789ab]\nB=2\n"
        );
        assert_eq!(
            inv.retrieved_files["/etc/shadow"],
            "root:[redacted]:19000:0:99999:7:::\nbin:*:19000::::::\nlocked:![redacted]:1::\nnopw::1::\n"
        );
        assert_eq!(
            inv.retrieved_files["/etc/passwd"],
            "root:x:0:0::/root:/bin/sh\n"
        );
    }
    use super::*;

    fn scan(text: &str) -> Vec<ContentHit> {
        SecretScanner::new(&[]).scan("/app/.env", text.as_bytes())
    }

    #[test]
    fn finds_anchore_default_shapes_and_masks_them() {
        let text = "# env\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
        let hits = scan(text);
        let names: Vec<&str> = hits.iter().map(|h| h.rule.as_str()).collect();
        assert!(names.contains(&"AWS_ACCESS_KEY"), "{names:?}");
        assert!(names.contains(&"AWS_SECRET_KEY"), "{names:?}");
        assert!(names.contains(&"AWS_ACCESS_KEY_ID"), "{names:?}");
        for h in &hits {
            assert!(
                !h.masked.contains("IOSFODNN7EXAMPLE") && !h.masked.contains("EMI/K7MDENG"),
                "{h:?}"
            );
            assert_eq!(h.fingerprint.len(), 12);
        }
        let aws = hits.iter().find(|h| h.rule == "AWS_ACCESS_KEY").unwrap();
        assert_eq!(aws.line, 2);
        assert_eq!(aws.masked, "AKIA************MPLE");
    }

    #[test]
    fn private_keys_tokens_and_non_matches() {
        assert_eq!(
            scan("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n")[0].rule,
            "PRIV_KEY"
        );
        let gh =
            scan("//registry.npmjs.org/:_authToken=ghp_0123456789abcdefghijABCDEFGHIJ012345\n");
        assert_eq!(gh[0].rule, "GITHUB_TOKEN");
        assert!(scan("aws_access_key_id = short\nnothing here\n").is_empty());
        assert!(scan("-----BEGIN PUBLIC KEY-----\n").is_empty());
    }

    #[test]
    fn binary_size_and_name_filters() {
        let s = SecretScanner::new(&[]);
        let mut bin = b"\0ELF".to_vec();
        bin.extend_from_slice(b"-----BEGIN RSA PRIVATE KEY-----");
        assert!(s.scan("/bin/x", &bin).is_empty());
        assert!(!s.wants("/usr/share/doc/x/README", 10));
        assert!(!s.wants("/app/node_modules/x/index.js", 10));
        assert!(!s.wants("/app/big", DEFAULT_MAX_FILE_SIZE + 1));
        assert!(s.wants("/app/.env", 10));
        assert!(s.wants("/etc/ssh/ssh_host_rsa_key", 10));
    }

    #[test]
    fn extra_rules_and_split() {
        let s = SecretScanner::new(&[
            ContentRule {
                name: "PASSWORD".into(),
                regex: "(?i)password *=".into(),
                kind: ContentRuleKind::Content,
            },
            ContentRule {
                name: "CUSTOM".into(),
                regex: "tok_[0-9]{6}".into(),
                kind: ContentRuleKind::Secret,
            },
        ]);
        let hits = s.scan("/etc/app.conf", b"password = hunter2\nkey tok_123456\n");
        let file_hits: Vec<FileContentHit> = hits
            .into_iter()
            .map(|hit| FileContentHit {
                path: "/etc/app.conf".into(),
                layer: 1,
                hit,
            })
            .collect();
        let found = from_hits(&file_hits);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].rule, "content:PASSWORD");
        assert_eq!(found[1].rule, "CUSTOM");
        assert!(!found[1].masked.contains("123456"));
        assert_eq!(
            rule_display("PRIV_KEY", &[]),
            "PRIV_KEY=(?i)-+BEGIN(.*)PRIVATE KEY-+"
        );
    }

    #[test]
    fn keyword_prefilter_never_hides_a_rule_that_matches() {
        let s = SecretScanner::new(&[ContentRule {
            name: "PW".into(),
            regex: "(?i)passw(or)?d *=".into(),
            kind: ContentRuleKind::Content,
        }]);
        let texts: &[&str] = &[
            "Aws_Access_Key_Id = AKIAIOSFODNN7EXAMPLE\n",
            "AWS_SECRET_ACCESS_KEY==wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "-----begin ec private key-----\n",
            "{\"auths\": {\"r\": {\"AUTH\": \"dXNlcjpwYXNz\"}}}\n",
            "x-API-Key = ABCDEFGHIJKLMNOPQRSTUVWX\n",
            "token ghs_0123456789abcdefghijABCDEFGHIJ012345 glpat-abcdefghij0123456789\n",
            "xoxp-1234567890-abc sk_live_0123456789abcdefghijkl\n",
            "id=ASIAQYLPMN5HHHFPZAM2;\npassword = x\n",
            "nothing to see\n",
        ];
        for t in texts {
            let cands = s.candidates(t.as_bytes());
            for (i, r) in s.rules.iter().enumerate() {
                if r.re.is_match(t.as_bytes()) {
                    assert!(cands.contains(&i), "{} hidden for {t:?}", r.name);
                }
            }
            assert_eq!(
                s.scan("/app/x", t.as_bytes()).is_empty(),
                *t == "nothing to see\n",
                "{t:?}"
            );
        }
    }

    #[test]
    fn scanner_is_shareable_across_threads() {
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<SecretScanner>();
    }
}
