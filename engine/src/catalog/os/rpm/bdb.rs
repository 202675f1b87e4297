//! Berkeley DB hash databases, as rpm ≤ 4.15 (RHEL/CentOS ≤ 8, Amazon Linux 2) keeps
//! `var/lib/rpm/Packages`: the header blobs, read without libdb.
//!
//! Layout (all integers in the byte order of the machine that wrote the file, told by the
//! metadata magic `0x061561` read little- or big-endian):
//! - page 0, hash metadata: `pagesize` u32 at 20, `encrypt_alg` u8 at 24, page type u8 at 25
//!   (8), `last_pgno` u32 at 32;
//! - every page starts with a 26-byte header: `pgno` u32 at 8, `next_pgno` u32 at 16,
//!   `entries` u16 at 20, `hf_offset` u16 at 22, type u8 at 25;
//! - hash pages (type 13, or 2 "unsorted" from RHEL 5) hold `entries` u16 item offsets from
//!   byte 26, key/data alternating; item *i* spans from its offset to item *i−1*'s offset (item
//!   0 to the page end); its first byte is its kind: 1 = inline bytes, 3 = off-page
//!   (`pgno` u32 at 4, total length u32 at 8);
//! - overflow pages (type 7) carry `hf_offset` bytes of the value after the header and chain
//!   through `next_pgno` (0 ends).
//!
//! Every page up to `last_pgno` is scanned (not the bucket structure), so a damaged bucket
//! chain loses nothing else. Pages that do not fit the file, bad item offsets, overflow chains
//! that loop, leave the file, hit a non-overflow page or give the wrong length are skipped
//! with a problem. Encrypted databases and inline duplicates (never written by rpm) are
//! reported, not read. rpm's key-0 record (next header number, stored inline) is skipped.

/// One header blob found, with the hash key (header number) it was stored under.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) key: u32,
    pub(crate) blob: Vec<u8>,
}

/// What a scan gave: blobs, and problems with what had to be skipped.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) records: Vec<Record>,
    pub(crate) problems: Vec<String>,
}

/// A fatal reason with the byte offset at fault.
pub(crate) type Fatal = (u64, String);

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;

/// True when `data` starts like a Berkeley DB hash database in either byte order.
pub(crate) fn sniff(data: &[u8]) -> bool {
    Order::of(data).is_some()
}

#[derive(Debug, Clone, Copy)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn of(data: &[u8]) -> Option<Order> {
        let m: [u8; 4] = data.get(12..16)?.try_into().ok()?;
        if u32::from_le_bytes(m) == HASH_MAGIC {
            Some(Order::Little)
        } else if u32::from_be_bytes(m) == HASH_MAGIC {
            Some(Order::Big)
        } else {
            None
        }
    }
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Order::Little => u16::from_le_bytes(s),
            Order::Big => u16::from_be_bytes(s),
        })
    }
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Order::Little => u32::from_le_bytes(s),
            Order::Big => u32::from_be_bytes(s),
        })
    }
}

/// Reads every header blob of a hash database.
pub(crate) fn read(data: &[u8]) -> Result<Scan, Fatal> {
    let Some(order) = Order::of(data) else {
        return Err((12, "not a Berkeley DB hash database (no hash magic)".into()));
    };
    if data.len() < 512 {
        return Err((
            0,
            format!(
                "{} bytes is shorter than the 512-byte metadata page",
                data.len()
            ),
        ));
    }
    let page_type = data.get(25).copied().unwrap_or(0);
    if page_type != P_HASHMETA {
        return Err((
            25,
            format!("metadata page type is {page_type}, not 8 (hash)"),
        ));
    }
    let page_size = order.u32(data, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err((
            20,
            format!("page size {page_size} is not a power of two in 512..=65536"),
        ));
    }
    if data.get(24).copied().unwrap_or(0) != 0 {
        return Err((
            24,
            "the database is encrypted; encrypted rpm databases are not supported".into(),
        ));
    }
    let last_pgno = order.u32(data, 32).unwrap_or(0) as usize;
    let mut scan = Scan::default();
    let whole_pages = data.len() / page_size;
    if !data.len().is_multiple_of(page_size) {
        scan.problems.push(format!(
            "file ends with a partial page ({} of {page_size} bytes at offset {}): truncated; that page is skipped",
            data.len() % page_size,
            whole_pages * page_size
        ));
    }
    let mut pages = whole_pages;
    if last_pgno + 1 > whole_pages {
        scan.problems.push(format!(
            "metadata says the last page is {last_pgno} but the file holds {whole_pages} whole pages: truncated; records on missing pages are lost"
        ));
    } else {
        pages = last_pgno + 1;
    }
    let db = Db {
        data,
        order,
        page_size,
        pages,
    };
    for pgno in 1..pages {
        let Some(page) = db.page(pgno) else { break };
        let ty = page.get(25).copied().unwrap_or(0);
        if ty != P_HASH && ty != P_HASH_UNSORTED {
            continue;
        }
        db.hash_page(pgno, page, &mut scan);
    }
    Ok(scan)
}

struct Db<'a> {
    data: &'a [u8],
    order: Order,
    page_size: usize,
    pages: usize,
}

impl<'a> Db<'a> {
    fn page(&self, pgno: usize) -> Option<&'a [u8]> {
        if pgno >= self.pages {
            return None;
        }
        let start = pgno.checked_mul(self.page_size)?;
        self.data.get(start..start.checked_add(self.page_size)?)
    }

    fn hash_page(&self, pgno: usize, page: &[u8], scan: &mut Scan) {
        let o = self.order;
        let at = |what: &str| format!("hash page {pgno} (offset {})", pgno * self.page_size) + what;
        let entries = o.u16(page, 20).unwrap_or(0) as usize;
        if PAGE_HEADER + entries * 2 > self.page_size {
            scan.problems.push(at(&format!(
                ": {entries} item offsets do not fit the page; page skipped"
            )));
            return;
        }
        if !entries.is_multiple_of(2) {
            scan.problems.push(at(&format!(
                ": odd item count {entries}; the unpaired item is ignored"
            )));
        }
        let offsets: Vec<usize> = (0..entries)
            .map(|i| o.u16(page, PAGE_HEADER + i * 2).unwrap_or(0) as usize)
            .collect();
        let index_end = PAGE_HEADER + entries * 2;
        // Item i spans [offsets[i], end_i): end_0 is the page end, end_i the previous offset.
        let item = |i: usize| -> Option<&[u8]> {
            let start = *offsets.get(i)?;
            let end = if i == 0 {
                self.page_size
            } else {
                *offsets.get(i - 1)?
            };
            if start < index_end || start >= end {
                return None;
            }
            page.get(start..end)
        };
        for pair in 0..entries / 2 {
            let (k, d) = (pair * 2, pair * 2 + 1);
            let (Some(key), Some(val)) = (item(k), item(d)) else {
                scan.problems.push(at(&format!(
                    ": item pair {pair} has offsets outside the page or overlapping; skipped"
                )));
                continue;
            };
            let key_no = match key.first() {
                Some(&H_KEYDATA) => key.get(1..5).and_then(|k| o.u32(k, 0)).unwrap_or(u32::MAX),
                _ => u32::MAX,
            };
            match val.first().copied() {
                Some(H_KEYDATA) => {
                    // rpm stores header blobs off-page; an inline value is the key-0 counter
                    // or a small header.
                    let bytes = val.get(1..).unwrap_or_default();
                    if key_no != 0 {
                        scan.records.push(Record {
                            key: key_no,
                            blob: bytes.to_vec(),
                        });
                    }
                }
                Some(H_OFFPAGE) => {
                    let (Some(first), Some(len)) = (o.u32(val, 4), o.u32(val, 8)) else {
                        scan.problems.push(at(&format!(
                            ": off-page item of pair {pair} is cut off; skipped"
                        )));
                        continue;
                    };
                    match self.overflow(first as usize, len as usize) {
                        Ok(blob) => scan.records.push(Record { key: key_no, blob }),
                        Err(why) => scan
                            .problems
                            .push(at(&format!(": record {key_no}: {why}; record skipped"))),
                    }
                }
                Some(t @ (H_DUPLICATE | H_OFFDUP)) => scan.problems.push(at(&format!(
                    ": duplicate-set item (kind {t}) is not used by rpm; skipped"
                ))),
                other => scan.problems.push(at(&format!(
                    ": item pair {pair} has unknown kind {}; skipped",
                    other.unwrap_or(0)
                ))),
            }
        }
    }

    /// Follows an overflow chain from `first` collecting `len` bytes.
    fn overflow(&self, first: usize, len: usize) -> Result<Vec<u8>, String> {
        let per_page = self.page_size - PAGE_HEADER;
        // A chain can visit each page once; the file bounds what `len` can be.
        if len > self.pages.saturating_mul(per_page) {
            return Err(format!(
                "claims {len} bytes, more than the whole file could hold"
            ));
        }
        let mut out = Vec::with_capacity(len);
        let mut seen = std::collections::HashSet::new();
        let mut pgno = first;
        loop {
            if pgno == 0 || pgno >= self.pages {
                return Err(format!(
                    "overflow chain points to page {pgno}, outside the file's {} pages",
                    self.pages
                ));
            }
            if !seen.insert(pgno) {
                return Err(format!("overflow chain loops back to page {pgno}"));
            }
            let Some(page) = self.page(pgno) else {
                return Err(format!("overflow page {pgno} is missing"));
            };
            let ty = page.get(25).copied().unwrap_or(0);
            if ty != P_OVERFLOW {
                return Err(format!(
                    "overflow chain reaches page {pgno} of type {ty}, not an overflow page"
                ));
            }
            let used = self.order.u16(page, 22).unwrap_or(0) as usize;
            if used > per_page {
                return Err(format!(
                    "overflow page {pgno} claims {used} bytes, more than a page holds"
                ));
            }
            let want = (len - out.len()).min(used);
            out.extend_from_slice(
                page.get(PAGE_HEADER..PAGE_HEADER + want)
                    .unwrap_or_default(),
            );
            if out.len() >= len {
                return Ok(out);
            }
            let next = self.order.u32(page, 16).unwrap_or(0) as usize;
            if next == 0 {
                return Err(format!(
                    "overflow chain ends after {} of {len} bytes",
                    out.len()
                ));
            }
            pgno = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{TestPkg, bdb, fixture_packages};
    use super::*;

    /// A header spanning several 512-byte pages first, then the fixture packages.
    fn blobs() -> Vec<Vec<u8>> {
        let files: Vec<(&'static str, u16)> = (0..60)
            .map(|i| (&*format!("/usr/share/big/file-{i:03}").leak(), 0o100644))
            .collect();
        let big = TestPkg {
            name: "big",
            version: "1",
            release: "1",
            files,
            ..TestPkg::default()
        };
        std::iter::once(big.blob())
            .chain(fixture_packages().iter().map(|p| p.blob()))
            .collect()
    }

    #[test]
    fn reads_both_byte_orders_and_page_sizes() {
        let want = blobs();
        for (ps, be) in [(4096, false), (4096, true), (512, false), (65536, true)] {
            let scan = read(&bdb(&want, ps, be)).unwrap();
            assert!(scan.problems.is_empty(), "{ps} {be}: {:?}", scan.problems);
            let got: Vec<_> = scan.records.iter().map(|r| r.blob.clone()).collect();
            assert_eq!(got, want, "{ps} {be}");
            assert_eq!(scan.records[0].key, 1);
        }
    }

    #[test]
    fn not_bdb_or_unsupported_is_fatal() {
        assert!(read(b"hello").is_err());
        let mut db = bdb(&blobs(), 4096, false);
        db[24] = 1; // encrypted
        assert!(read(&db).unwrap_err().1.contains("encrypted"));
        let mut db = bdb(&blobs(), 4096, false);
        db[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(read(&db).unwrap_err().1.contains("page size"));
        assert!(read(&db[..300]).is_err());
    }

    #[test]
    fn truncated_file_keeps_what_is_whole() {
        let want = blobs();
        let db = bdb(&want, 512, false);
        // Cut in the middle of the last overflow chain.
        let cut = &db[..db.len() - 700];
        let scan = read(cut).unwrap();
        assert!(
            scan.problems.iter().any(|p| p.contains("partial page")),
            "{:?}",
            scan.problems
        );
        assert!(scan.problems.iter().any(|p| p.contains("truncated")));
        assert!(scan.problems.iter().any(|p| p.contains("record skipped")));
        let got: Vec<_> = scan.records.iter().map(|r| r.blob.clone()).collect();
        assert!(!got.is_empty() && got.len() < want.len(), "{}", got.len());
        assert_eq!(got[..], want[..got.len()]);
    }

    #[test]
    fn overflow_loops_and_bad_pages_are_skipped() {
        let want = blobs();
        let db = bdb(&want, 512, false);
        // The first blob's chain starts at page 2 (one hash page); make its second page
        // point back to the first.
        let mut looped = db.clone();
        looped[3 * 512 + 16..3 * 512 + 20].copy_from_slice(&2u32.to_le_bytes());
        looped[3 * 512 + 22..3 * 512 + 24].copy_from_slice(&10u16.to_le_bytes());
        let scan = read(&looped).unwrap();
        assert!(
            scan.problems.iter().any(|p| p.contains("loops")),
            "{:?}",
            scan.problems
        );
        assert_eq!(scan.records.len(), want.len() - 1);

        // Chain into a non-overflow page, and an out-of-range page.
        let mut wrong = db.clone();
        wrong[2 * 512 + 25] = 13;
        let scan = read(&wrong).unwrap();
        assert!(!scan.problems.is_empty());
        let mut far = db.clone();
        far[2 * 512 + 16..2 * 512 + 20].copy_from_slice(&9999u32.to_le_bytes());
        far[2 * 512 + 22..2 * 512 + 24].copy_from_slice(&10u16.to_le_bytes());
        let scan = read(&far).unwrap();
        assert!(
            scan.problems.iter().any(|p| p.contains("outside")),
            "{:?}",
            scan.problems
        );

        // A hash page with an absurd item count.
        let mut items = db;
        items[512 + 20..512 + 22].copy_from_slice(&60000u16.to_le_bytes());
        let scan = read(&items).unwrap();
        assert!(scan.problems.iter().any(|p| p.contains("do not fit")));
        assert!(scan.records.is_empty());
    }
}
