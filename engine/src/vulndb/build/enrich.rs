//! Parsers for the enrichment feeds: CISA KEV (JSON catalogue) and FIRST EPSS (CSV, plain or
//! gzipped, with its `#model_version…` comment line). Pure: bytes in, rows out.
//!
//! Invariants: every row has a `CVE-…` key; a feed that yields no rows is an error (an empty or
//! wrong file must not silently clear the enrichment).

use std::io::Read;

use serde::Deserialize;

/// One KEV entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevRow {
    /// `CVE-…`.
    pub cve: String,
    /// `dateAdded`.
    pub date_added: String,
    /// `dueDate`.
    pub due_date: String,
    /// `knownRansomwareCampaignUse` (`Known`/`Unknown`).
    pub ransomware: String,
    /// `vendorProject`.
    pub vendor: String,
    /// `product`.
    pub product: String,
}

/// One EPSS row.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssRow {
    /// `CVE-…`.
    pub cve: String,
    /// Probability 0..1.
    pub score: f64,
    /// Percentile 0..1.
    pub percentile: f64,
}

#[derive(Deserialize)]
struct KevDoc {
    vulnerabilities: Vec<KevEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KevEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    date_added: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
}

/// Parses CISA's `known_exploited_vulnerabilities.json`.
pub fn parse_kev(bytes: &[u8]) -> Result<Vec<KevRow>, String> {
    let doc: KevDoc = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let rows: Vec<KevRow> = doc
        .vulnerabilities
        .into_iter()
        .filter(|v| v.cve_id.starts_with("CVE-"))
        .map(|v| KevRow {
            cve: v.cve_id,
            date_added: v.date_added,
            due_date: v.due_date,
            ransomware: v.known_ransomware_campaign_use,
            vendor: v.vendor_project,
            product: v.product,
        })
        .collect();
    if rows.is_empty() {
        return Err("no CVE entries in `vulnerabilities`".into());
    }
    Ok(rows)
}

/// Parses an EPSS CSV (`cve,epss,percentile`), gunzipping it first if needed.
pub fn parse_epss(bytes: &[u8]) -> Result<Vec<EpssRow>, String> {
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(1 << 30)
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot gunzip: {e}"))?;
        s
    } else {
        String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8 text".to_string())?
    };
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header_seen && cols.first().is_some_and(|c| c.eq_ignore_ascii_case("cve")) {
            header_seen = true;
            continue;
        }
        let [cve, score, pct, ..] = cols[..] else {
            return Err(format!("line {}: expected `cve,epss,percentile`", n + 1));
        };
        if !cve.starts_with("CVE-") {
            return Err(format!("line {}: `{cve}` is not a CVE id", n + 1));
        }
        let parse = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| format!("line {}: `{v}` is not a probability", n + 1))
        };
        rows.push(EpssRow {
            cve: cve.to_string(),
            score: parse(score)?,
            percentile: parse(pct)?,
        });
    }
    if rows.is_empty() {
        return Err("no rows".into());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epss_plain_and_gz() {
        let csv = "#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99961\nCVE-2020-14343,0.0123,0.8\n";
        let rows = parse_epss(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cve, "CVE-2021-44228");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, csv.as_bytes()).unwrap();
        assert_eq!(parse_epss(&gz.finish().unwrap()).unwrap(), rows);
        assert!(parse_epss(b"cve,epss,percentile\nCVE-1,2.5,0.1\n").is_err());
        assert!(parse_epss(b"cve,epss,percentile\n").is_err());
        assert!(parse_epss(b"garbage").is_err());
    }

    #[test]
    fn kev_rejects_wrong_documents() {
        assert!(parse_kev(b"{}").is_err());
        assert!(parse_kev(br#"{"vulnerabilities":[]}"#).is_err());
        let rows = parse_kev(br#"{"vulnerabilities":[{"cveID":"CVE-2021-44228","dateAdded":"2021-12-10","dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known","vendorProject":"Apache","product":"Log4j2"}]}"#).unwrap();
        assert_eq!(rows[0].ransomware, "Known");
    }
}
