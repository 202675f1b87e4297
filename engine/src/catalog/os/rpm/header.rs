//! rpm header blobs as the rpm databases store them (no lead, no 8-byte header magic):
//!
//! ```text
//! il: u32 BE   number of index entries
//! dl: u32 BE   length of the data store
//! il × { tag: i32 BE, type: u32 BE, offset: i32 BE, count: u32 BE }
//! dl bytes of data store
//! ```
//!
//! The first entry is usually a *region* tag (`HEADERIMMUTABLE` 63, `HEADERSIGNATURES` 62 or
//! `HEADERIMAGE` 61, type BIN, count 16) whose offset points at a 16-byte trailer in the data
//! store; the trailer repeats the tag and carries `-(ril × 16)`, the size of the region's own
//! index. Entries after the region ("dribbles", added at install time) replace region entries
//! with the same tag, so a later entry wins here too.
//!
//! Does: bounds-check everything (il ≤ 65535, dl ≤ 256 MiB like rpm; every entry's data inside
//! the store; counts bounded by the bytes they claim), decode STRING / I18NSTRING (first
//! string) / STRING_ARRAY / INT16 / INT32 values. Does not: verify signatures or digests, or
//! decode types nobody here reads (INT8, INT64, BIN payloads).
//!
//! Invariants: never panics and never allocates more than the blob's own size per value;
//! every failure is a `String` saying what is wrong and where.

/// `RPMTAG_HEADERIMAGE`, `RPMTAG_HEADERSIGNATURES`, `RPMTAG_HEADERIMMUTABLE`.
const REGION_TAGS: [u32; 3] = [61, 62, 63];
/// rpm's `HEADER_TAGS_MAX`.
const MAX_ENTRIES: u32 = 0xffff;
/// rpm's `HEADER_DATA_MAX`.
const MAX_DATA: u32 = 0x0fff_ffff;

/// Tags read by the cataloger.
pub(crate) mod tag {
    pub(crate) const NAME: u32 = 1000;
    pub(crate) const VERSION: u32 = 1001;
    pub(crate) const RELEASE: u32 = 1002;
    pub(crate) const EPOCH: u32 = 1003;
    pub(crate) const VENDOR: u32 = 1011;
    pub(crate) const LICENSE: u32 = 1014;
    pub(crate) const ARCH: u32 = 1022;
    pub(crate) const OLDFILENAMES: u32 = 1027;
    pub(crate) const FILEMODES: u32 = 1030;
    pub(crate) const SOURCERPM: u32 = 1044;
    pub(crate) const DIRINDEXES: u32 = 1116;
    pub(crate) const BASENAMES: u32 = 1117;
    pub(crate) const DIRNAMES: u32 = 1118;
    pub(crate) const MODULARITYLABEL: u32 = 5096;
}

/// rpm's tag value types.
pub(crate) mod ty {
    pub(crate) const INT16: u32 = 3;
    pub(crate) const INT32: u32 = 4;
    pub(crate) const STRING: u32 = 6;
    pub(crate) const BIN: u32 = 7;
    pub(crate) const STRING_ARRAY: u32 = 8;
    pub(crate) const I18NSTRING: u32 = 9;
}

/// One index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) tag: u32,
    pub(crate) ty: u32,
    pub(crate) offset: i32,
    pub(crate) count: u32,
}

/// A parsed header: its index and data store, borrowed from the blob.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
    /// Structural oddities that did not stop decoding (bad region trailer).
    pub(crate) notes: Vec<String>,
}

/// A decoded text value and whether invalid UTF-8 had to be replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text {
    pub(crate) value: String,
    pub(crate) lossy: bool,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses the intro and index of `blob`.
pub(crate) fn parse(blob: &[u8]) -> Result<Header<'_>, String> {
    let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
        return Err(format!(
            "header blob is {} bytes, shorter than its 8-byte intro",
            blob.len()
        ));
    };
    if il == 0 || il > MAX_ENTRIES {
        return Err(format!(
            "header claims {il} index entries (allowed 1..={MAX_ENTRIES})"
        ));
    }
    if dl > MAX_DATA {
        return Err(format!(
            "header claims a {dl}-byte data store (over 256 MiB)"
        ));
    }
    let index_end = 8 + il as usize * 16;
    let need = index_end + dl as usize;
    if blob.len() < need {
        return Err(format!(
            "header truncated: {il} entries and {dl} data bytes need {need} bytes, the blob has {}",
            blob.len()
        ));
    }
    let mut entries = Vec::with_capacity(il as usize);
    for i in 0..il as usize {
        let at = 8 + i * 16;
        let (Some(t), Some(ty), Some(off), Some(count)) = (
            be32(blob, at),
            be32(blob, at + 4),
            be32(blob, at + 8),
            be32(blob, at + 12),
        ) else {
            return Err(format!("index entry {i} is cut off"));
        };
        entries.push(Entry {
            tag: t,
            ty,
            offset: off as i32,
            count,
        });
    }
    let data = blob.get(index_end..need).unwrap_or_default();
    let mut h = Header {
        entries,
        data,
        notes: Vec::new(),
    };
    if let Some(note) = h.check_region() {
        h.notes.push(note);
    }
    Ok(h)
}

impl<'a> Header<'a> {
    /// Checks the region tag and its trailer like rpm's `hdrblobVerifyRegion`; a problem is
    /// returned as a note (the entries are still readable one by one).
    fn check_region(&self) -> Option<String> {
        let first = self.entries.first()?;
        if !REGION_TAGS.contains(&first.tag) {
            return None; // legacy header without a region: allowed
        }
        if first.ty != ty::BIN || first.count != 16 {
            return Some(format!(
                "region tag {} has type {} count {} (expected BIN, 16)",
                first.tag, first.ty, first.count
            ));
        }
        let Some(trailer) = usize::try_from(first.offset)
            .ok()
            .and_then(|o| self.data.get(o..o.checked_add(16)?))
        else {
            return Some(format!(
                "region trailer offset {} is outside the {}-byte data store",
                first.offset,
                self.data.len()
            ));
        };
        let (t, tty, toff, tcount) = (
            be32(trailer, 0).unwrap_or(0),
            be32(trailer, 4).unwrap_or(0),
            be32(trailer, 8).unwrap_or(0) as i32,
            be32(trailer, 12).unwrap_or(0),
        );
        let ril_bytes = toff.checked_neg().unwrap_or(-1);
        if t != first.tag || tty != ty::BIN || tcount != 16 {
            return Some(format!(
                "region trailer is tag {t} type {tty} count {tcount} (expected tag {}, BIN, 16)",
                first.tag
            ));
        }
        if ril_bytes <= 0 || ril_bytes % 16 != 0 || ril_bytes as usize / 16 > self.entries.len() {
            return Some(format!(
                "region trailer size {ril_bytes} does not fit {} index entries",
                self.entries.len()
            ));
        }
        None
    }

    /// The entry for `tag`; the last one wins (install-time entries replace region ones).
    pub(crate) fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().rev().find(|e| e.tag == tag).copied()
    }

    /// Number of index entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The data store from `e`'s offset on, checked.
    fn tail(&self, e: &Entry) -> Result<&'a [u8], String> {
        usize::try_from(e.offset)
            .ok()
            .and_then(|o| self.data.get(o..))
            .filter(|_| e.offset >= 0)
            .ok_or_else(|| {
                format!(
                    "tag {}: offset {} is outside the {}-byte data store",
                    e.tag,
                    e.offset,
                    self.data.len()
                )
            })
    }

    /// `count` NUL-terminated strings from `e`'s offset.
    fn strings(&self, e: &Entry, count: u32) -> Result<Vec<Text>, String> {
        let mut rest = self.tail(e)?;
        // Each string takes at least one byte, so a count above the bytes left is absurd.
        if count as usize > rest.len() {
            return Err(format!(
                "tag {}: count {count} is more strings than the {} bytes left in the data store",
                e.tag,
                rest.len()
            ));
        }
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                return Err(format!(
                    "tag {}: string {i} has no terminating NUL before the end of the data store",
                    e.tag
                ));
            };
            let (s, after) = rest.split_at(nul);
            rest = after.get(1..).unwrap_or_default();
            let (value, lossy) = match std::str::from_utf8(s) {
                Ok(v) => (v.to_string(), false),
                Err(_) => (String::from_utf8_lossy(s).into_owned(), true),
            };
            out.push(Text { value, lossy });
        }
        Ok(out)
    }

    /// A single string (STRING, or the first of an I18NSTRING / STRING_ARRAY).
    pub(crate) fn string(&self, tag: u32) -> Result<Option<Text>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        match e.ty {
            ty::STRING | ty::I18NSTRING | ty::STRING_ARRAY => {
                if e.count == 0 {
                    return Err(format!("tag {tag}: string with count 0"));
                }
                Ok(self.strings(&e, 1)?.into_iter().next())
            }
            other => Err(format!(
                "tag {tag}: type {other} where a string was expected"
            )),
        }
    }

    /// A STRING_ARRAY value.
    pub(crate) fn string_array(&self, tag: u32) -> Result<Option<Vec<Text>>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        if e.ty != ty::STRING_ARRAY {
            return Err(format!(
                "tag {tag}: type {} where a string array was expected",
                e.ty
            ));
        }
        self.strings(&e, e.count).map(Some)
    }

    /// Fixed-size integers of `width` bytes (2 or 4), big-endian, aligned by rpm.
    fn ints(&self, e: &Entry, width: usize) -> Result<Vec<u32>, String> {
        let rest = self.tail(e)?;
        let len = (e.count as usize)
            .checked_mul(width)
            .filter(|&n| n <= rest.len())
            .ok_or_else(|| {
                format!(
                    "tag {}: count {} × {width} bytes runs past the {}-byte data store",
                    e.tag,
                    e.count,
                    self.data.len()
                )
            })?;
        Ok(rest
            .get(..len)
            .unwrap_or_default()
            .chunks_exact(width)
            .map(|c| match *c {
                [a, b] => u32::from(u16::from_be_bytes([a, b])),
                [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
                _ => 0,
            })
            .collect())
    }

    /// An INT32 array value.
    pub(crate) fn int32_array(&self, tag: u32) -> Result<Option<Vec<u32>>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        if e.ty != ty::INT32 {
            return Err(format!("tag {tag}: type {} where INT32 was expected", e.ty));
        }
        self.ints(&e, 4).map(Some)
    }

    /// An INT16 array value.
    pub(crate) fn int16_array(&self, tag: u32) -> Result<Option<Vec<u32>>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        if e.ty != ty::INT16 {
            return Err(format!("tag {tag}: type {} where INT16 was expected", e.ty));
        }
        self.ints(&e, 2).map(Some)
    }

    /// The first INT32 of `tag`.
    pub(crate) fn int32(&self, tag: u32) -> Result<Option<u32>, String> {
        Ok(self.int32_array(tag)?.and_then(|v| v.into_iter().next()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::HeaderBuilder;
    use super::*;

    #[test]
    fn decodes_strings_ints_and_arrays() {
        let blob = HeaderBuilder::new()
            .string(tag::NAME, "bash")
            .int32(tag::EPOCH, &[2])
            .string_array(tag::BASENAMES, &["bash", "sh"])
            .int16(tag::FILEMODES, &[0o100755, 0o120777])
            .build();
        let h = parse(&blob).unwrap();
        assert!(h.notes.is_empty(), "{:?}", h.notes);
        assert_eq!(h.string(tag::NAME).unwrap().unwrap().value, "bash");
        assert_eq!(h.int32(tag::EPOCH).unwrap(), Some(2));
        let names: Vec<_> = h
            .string_array(tag::BASENAMES)
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|t| t.value)
            .collect();
        assert_eq!(names, ["bash", "sh"]);
        assert_eq!(
            h.int16_array(tag::FILEMODES).unwrap().unwrap(),
            [0o100755, 0o120777]
        );
        assert_eq!(h.string(tag::VERSION).unwrap(), None);
    }

    #[test]
    fn later_entries_replace_region_entries() {
        let blob = HeaderBuilder::new()
            .string(tag::NAME, "old")
            .dribble_string(tag::NAME, "new")
            .build();
        let h = parse(&blob).unwrap();
        assert!(h.notes.is_empty(), "{:?}", h.notes);
        assert_eq!(h.string(tag::NAME).unwrap().unwrap().value, "new");
    }

    #[test]
    fn hostile_blobs_are_errors() {
        assert!(parse(&[0, 0, 0]).is_err());
        // Zero entries, absurd entry count, absurd data length.
        assert!(parse(&[0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(parse(&[0, 1, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(parse(&[0, 0, 0, 1, 0x7f, 0, 0, 0]).is_err());
        // Truncated data store.
        let blob = HeaderBuilder::new().string(tag::NAME, "bash").build();
        assert!(parse(&blob[..blob.len() - 2]).is_err());
        // Offset outside the store, absurd counts, wrong types, missing NUL.
        let mut b = HeaderBuilder::new()
            .raw_entry(tag::NAME, ty::STRING, 5000, 1)
            .raw_entry(tag::BASENAMES, ty::STRING_ARRAY, 0, u32::MAX)
            .raw_entry(tag::DIRINDEXES, ty::INT32, 0, 0x4000_0001)
            .raw_entry(tag::VERSION, ty::INT32, 0, 1)
            .raw_entry(tag::RELEASE, ty::STRING, -4, 1);
        b.data.extend_from_slice(b"abcd");
        let blob = b.build();
        let h = parse(&blob).unwrap();
        assert!(h.string(tag::NAME).unwrap_err().contains("outside"));
        assert!(
            h.string_array(tag::BASENAMES)
                .unwrap_err()
                .contains("count")
        );
        assert!(
            h.int32_array(tag::DIRINDEXES)
                .unwrap_err()
                .contains("runs past")
        );
        assert!(h.string(tag::VERSION).unwrap_err().contains("type 4"));
        assert!(h.string(tag::RELEASE).is_err());
        let blob = HeaderBuilder::new()
            .raw_entry(tag::NAME, ty::STRING, 0, 1)
            .data_bytes(b"no-nul")
            .build();
        assert!(
            parse(&blob)
                .unwrap()
                .string(tag::NAME)
                .unwrap_err()
                .contains("NUL")
        );
    }

    #[test]
    fn non_utf8_is_flagged_not_fatal() {
        let blob = HeaderBuilder::new()
            .raw_entry(tag::LICENSE, ty::STRING, 0, 1)
            .data_bytes(b"GPL \xe9t\xe9\0")
            .build();
        let t = parse(&blob).unwrap().string(tag::LICENSE).unwrap().unwrap();
        assert!(t.lossy);
        assert!(t.value.starts_with("GPL "));
    }

    #[test]
    fn bad_region_trailer_is_a_note() {
        let mut blob = HeaderBuilder::new().string(tag::NAME, "x").build();
        // The trailer is the last 16 bytes of the data store: corrupt its tag.
        let n = blob.len();
        blob[n - 16..n - 12].copy_from_slice(&99u32.to_be_bytes());
        let h = parse(&blob).unwrap();
        assert_eq!(h.notes.len(), 1, "{:?}", h.notes);
        assert_eq!(h.string(tag::NAME).unwrap().unwrap().value, "x");
        assert!(h.len() >= 2);
    }
}
