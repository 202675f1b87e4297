//! NDB, rpm's own package database (`Packages.db`, rpm ≥ 4.16 on SUSE/openSUSE), read
//! without librpm. All integers little-endian.
//!
//! - Header (32 bytes): magic `RpmP` at 0, version u32 at 4 (0), generation at 8, number of
//!   4096-byte slot pages at 12, next package index at 16.
//! - Slots (16 bytes each) fill the slot pages after the header: magic `Slot`, `pkgidx`,
//!   `blkoff`, `blkcnt`; `blkoff` 0 marks a free slot. Blocks are 16 bytes.
//! - Blob at `blkoff × 16`: head (magic `BlbS`, `pkgidx`, timestamp, `bloblen`), the header
//!   blob, zero padding, tail (Adler-32 of head + blob + padding, `bloblen`, magic `BlbE`),
//!   exactly `blkcnt` blocks long.
//!
//! Does: skip (with a problem) slots with a bad magic, blobs outside the file, blobs whose head
//! or tail disagree with their slot, and blobs whose checksum does not match. Does not read
//! the index files (`Index.db`) — the package blobs are all a scan needs — or LZO-compressed
//! blobs (an rpm build option no distro enables).

use super::bdb::{Fatal, Record, Scan};

const HEADER: usize = 32;
const SLOT_PAGE: usize = 4096;
const BLK: usize = 16;
const HEAD: usize = 16;
const TAIL: usize = 12;

/// True when `data` starts with the NDB magic.
pub(crate) fn sniff(data: &[u8]) -> bool {
    data.starts_with(b"RpmP")
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

/// Reads every package blob.
pub(crate) fn read(data: &[u8]) -> Result<Scan, Fatal> {
    if !sniff(data) {
        return Err((0, "not an NDB package database (no `RpmP` magic)".into()));
    }
    if data.len() < HEADER {
        return Err((
            0,
            format!("{} bytes is shorter than the 32-byte header", data.len()),
        ));
    }
    let version = le32(data, 4);
    if version != 0 {
        return Err((
            4,
            format!("NDB version {version} is not supported (only 0)"),
        ));
    }
    let slot_pages = le32(data, 12) as usize;
    if slot_pages == 0 {
        return Err((12, "header says there are no slot pages".into()));
    }
    let mut scan = Scan::default();
    let slots_end = slot_pages.saturating_mul(SLOT_PAGE);
    if slots_end > data.len() {
        scan.problems.push(format!(
            "header says {slot_pages} slot pages ({slots_end} bytes) but the file has {} bytes: truncated; slots past the end are lost",
            data.len()
        ));
    }
    let slots_end = slots_end.min(data.len() - data.len() % BLK);
    let mut bad_magic = 0usize;
    let mut first_bad = 0usize;
    for at in (HEADER..slots_end).step_by(BLK) {
        if data.get(at..at + 4) != Some(b"Slot".as_slice()) {
            if bad_magic == 0 {
                first_bad = at;
            }
            bad_magic += 1;
            continue;
        }
        let (pkgidx, blkoff, blkcnt) =
            (le32(data, at + 4), le32(data, at + 8), le32(data, at + 12));
        if blkoff == 0 {
            continue;
        }
        match blob(data, pkgidx, blkoff as usize, blkcnt as usize, slots_end) {
            Ok(b) => scan.records.push(Record {
                key: pkgidx,
                blob: b.to_vec(),
            }),
            Err(why) => scan.problems.push(format!(
                "package {pkgidx} (slot at offset {at}, blob at offset {}): {why}; skipped",
                u64::from(blkoff) * BLK as u64
            )),
        }
    }
    if bad_magic > 0 {
        scan.problems.push(format!(
            "{bad_magic} slot(s) without the `Slot` magic, the first at offset {first_bad}; skipped"
        ));
    }
    Ok(scan)
}

fn blob(
    data: &[u8],
    pkgidx: u32,
    blkoff: usize,
    blkcnt: usize,
    slots_end: usize,
) -> Result<&[u8], String> {
    let start = blkoff.checked_mul(BLK).ok_or("block offset overflows")?;
    let len = blkcnt.checked_mul(BLK).ok_or("block count overflows")?;
    let end = start.checked_add(len).ok_or("blob end overflows")?;
    if start < slots_end {
        return Err("blob starts inside the slot pages".into());
    }
    let Some(region) = data.get(start..end) else {
        return Err(format!(
            "{len}-byte blob runs past the end of the {}-byte file (truncated)",
            data.len()
        ));
    };
    if len < HEAD + TAIL {
        return Err(format!(
            "{blkcnt} block(s) cannot hold a blob head and tail"
        ));
    }
    if region.get(..4) != Some(b"BlbS".as_slice()) {
        return Err("no `BlbS` blob magic".into());
    }
    if le32(region, 4) != pkgidx {
        return Err(format!(
            "blob belongs to package {}, not {pkgidx}",
            le32(region, 4)
        ));
    }
    let bloblen = le32(region, 12) as usize;
    if (HEAD + bloblen + TAIL).div_ceil(BLK) != blkcnt {
        return Err(format!(
            "blob length {bloblen} does not match the slot's {blkcnt} blocks"
        ));
    }
    let tail = region.get(len - TAIL..).unwrap_or_default();
    if tail.get(8..12) != Some(b"BlbE".as_slice()) || le32(tail, 4) as usize != bloblen {
        return Err("blob tail is missing or disagrees with the head".into());
    }
    let sum = adler32(region.get(..len - TAIL).unwrap_or_default());
    if sum != le32(tail, 0) {
        return Err(format!(
            "checksum mismatch (stored {:#010x}, computed {sum:#010x})",
            le32(tail, 0)
        ));
    }
    Ok(region.get(HEAD..HEAD + bloblen).unwrap_or_default())
}

/// Adler-32 (RFC 1950).
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest n with 255·n·(n+1)/2 + (n+1)·(MOD−1) < 2^32.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{self, fixture_packages, ndb};
    use super::*;

    fn blobs() -> Vec<Vec<u8>> {
        fixture_packages().iter().map(|p| p.blob()).collect()
    }

    #[test]
    fn reads_all_blobs() {
        let want = blobs();
        let scan = read(&ndb(&want)).unwrap();
        assert!(scan.problems.is_empty(), "{:?}", scan.problems);
        let got: Vec<_> = scan.records.iter().map(|r| r.blob.clone()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn adler_matches_the_simple_definition() {
        let data: Vec<u8> = (0..20000u32).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(adler32(&data), testdata::adler32(&data));
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn damaged_blobs_and_slots_are_skipped() {
        let want = blobs();
        let db = ndb(&want);
        // Flip a byte inside the first blob: checksum mismatch.
        let mut flipped = db.clone();
        flipped[4096 + 40] ^= 0xff;
        let scan = read(&flipped).unwrap();
        assert_eq!(scan.records.len(), want.len() - 1);
        assert!(scan.problems[0].contains("checksum"), "{:?}", scan.problems);
        // A slot pointing past the end, and a slot with a bad magic.
        let mut slots = db.clone();
        slots[32 + 8..32 + 12].copy_from_slice(&0x0fff_ffffu32.to_le_bytes());
        slots[48..52].copy_from_slice(b"XXXX");
        let scan = read(&slots).unwrap();
        assert_eq!(scan.records.len(), want.len() - 2);
        assert_eq!(scan.problems.len(), 2, "{:?}", scan.problems);
        // Truncated file.
        let scan = read(&db[..db.len() - 20]).unwrap();
        assert_eq!(scan.records.len(), want.len() - 1);
        assert!(scan.problems[0].contains("truncated"));
        // Not NDB / wrong version.
        assert!(read(b"RpmP").is_err());
        let mut v = db;
        v[4] = 1;
        assert!(read(&v).is_err());
    }
}
