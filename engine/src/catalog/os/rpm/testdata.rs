//! Test-only generators that build rpm header blobs and the three rpmdb formats byte by byte
//! from the documented layouts (see each reader's module doc), so tests control every field
//! and can break any of them. SQLite files are written through rusqlite (the page format is
//! SQLite's business, the table layout is rpm's).

use super::header::{tag, ty};

/// One value of a header under construction.
#[derive(Debug, Clone)]
struct Val {
    tag: u32,
    ty: u32,
    count: u32,
    bytes: Vec<u8>,
    align: usize,
}

/// Builds a header blob: a region (`HEADERIMMUTABLE` + trailer) holding the `region` values,
/// then install-time `dribble` values; or, with `raw_entry`, exactly the entries and data
/// given (no region).
#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderBuilder {
    region: Vec<Val>,
    dribble: Vec<Val>,
    raw: Vec<(u32, u32, i32, u32)>,
    /// Data store for raw mode.
    pub(crate) data: Vec<u8>,
}

fn strings_val(tag: u32, ty: u32, items: &[&str]) -> Val {
    let mut bytes = Vec::new();
    for s in items {
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
    }
    Val {
        tag,
        ty,
        count: items.len() as u32,
        bytes,
        align: 1,
    }
}

impl HeaderBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    pub(crate) fn string(mut self, t: u32, s: &str) -> Self {
        self.region.push(strings_val(t, ty::STRING, &[s]));
        self
    }
    pub(crate) fn dribble_string(mut self, t: u32, s: &str) -> Self {
        self.dribble.push(strings_val(t, ty::STRING, &[s]));
        self
    }
    pub(crate) fn string_array(mut self, t: u32, items: &[&str]) -> Self {
        self.region.push(strings_val(t, ty::STRING_ARRAY, items));
        self
    }
    pub(crate) fn int32(mut self, t: u32, v: &[u32]) -> Self {
        self.region.push(Val {
            tag: t,
            ty: ty::INT32,
            count: v.len() as u32,
            bytes: v.iter().flat_map(|x| x.to_be_bytes()).collect(),
            align: 4,
        });
        self
    }
    pub(crate) fn int16(mut self, t: u32, v: &[u16]) -> Self {
        self.region.push(Val {
            tag: t,
            ty: ty::INT16,
            count: v.len() as u32,
            bytes: v.iter().flat_map(|x| x.to_be_bytes()).collect(),
            align: 2,
        });
        self
    }
    pub(crate) fn raw_entry(mut self, t: u32, ty: u32, offset: i32, count: u32) -> Self {
        self.raw.push((t, ty, offset, count));
        self
    }
    pub(crate) fn data_bytes(mut self, b: &[u8]) -> Self {
        self.data.extend_from_slice(b);
        self
    }

    pub(crate) fn build(self) -> Vec<u8> {
        let mut index: Vec<(u32, u32, i32, u32)> = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        if !self.raw.is_empty() {
            index = self.raw;
            data = self.data;
        } else {
            let place = |v: &Val, data: &mut Vec<u8>| -> i32 {
                while !data.len().is_multiple_of(v.align) {
                    data.push(0);
                }
                let off = data.len() as i32;
                data.extend_from_slice(&v.bytes);
                off
            };
            let mut region_entries = Vec::new();
            for v in &self.region {
                region_entries.push((v.tag, v.ty, place(v, &mut data), v.count));
            }
            let ril = region_entries.len() as i32 + 1;
            while !data.len().is_multiple_of(4) {
                data.push(0);
            }
            let trailer_at = data.len() as i32;
            for x in [63u32, ty::BIN, (-(ril * 16)) as u32, 16] {
                data.extend_from_slice(&x.to_be_bytes());
            }
            index.push((63, ty::BIN, trailer_at, 16));
            index.extend(region_entries);
            for v in &self.dribble {
                index.push((v.tag, v.ty, place(v, &mut data), v.count));
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(index.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        for (t, y, o, c) in index {
            out.extend_from_slice(&t.to_be_bytes());
            out.extend_from_slice(&y.to_be_bytes());
            out.extend_from_slice(&o.to_be_bytes());
            out.extend_from_slice(&c.to_be_bytes());
        }
        out.extend_from_slice(&data);
        out
    }
}

/// An installed package as a test writes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct TestPkg {
    pub(crate) name: &'static str,
    pub(crate) epoch: Option<u32>,
    pub(crate) version: &'static str,
    pub(crate) release: &'static str,
    pub(crate) arch: &'static str,
    pub(crate) srpm: &'static str,
    pub(crate) license: &'static str,
    pub(crate) vendor: &'static str,
    pub(crate) modularity: &'static str,
    /// (path, mode): directories have mode 0o040755.
    pub(crate) files: Vec<(&'static str, u16)>,
}

impl TestPkg {
    /// The header blob of this package.
    pub(crate) fn blob(&self) -> Vec<u8> {
        let mut b = HeaderBuilder::new()
            .string(tag::NAME, self.name)
            .string(tag::VERSION, self.version)
            .string(tag::RELEASE, self.release);
        if let Some(e) = self.epoch {
            b = b.int32(tag::EPOCH, &[e]);
        }
        for (t, v) in [
            (tag::ARCH, self.arch),
            (tag::SOURCERPM, self.srpm),
            (tag::LICENSE, self.license),
            (tag::VENDOR, self.vendor),
            (tag::MODULARITYLABEL, self.modularity),
        ] {
            if !v.is_empty() {
                b = b.string(t, v);
            }
        }
        if !self.files.is_empty() {
            let mut dirs: Vec<String> = Vec::new();
            let mut bases = Vec::new();
            let mut idx = Vec::new();
            let mut modes = Vec::new();
            for (path, mode) in &self.files {
                let (d, base) = path.rsplit_once('/').unwrap_or(("", path));
                let d = format!("{d}/");
                let i = match dirs.iter().position(|x| *x == d) {
                    Some(i) => i,
                    None => {
                        dirs.push(d);
                        dirs.len() - 1
                    }
                };
                idx.push(i as u32);
                bases.push(base);
                modes.push(*mode);
            }
            let dir_refs: Vec<&str> = dirs.iter().map(String::as_str).collect();
            b = b
                .string_array(tag::BASENAMES, &bases)
                .int32(tag::DIRINDEXES, &idx)
                .string_array(tag::DIRNAMES, &dir_refs)
                .int16(tag::FILEMODES, &modes);
        }
        b.build()
    }
}

/// The packages of the committed fixtures (a small Rocky Linux 9 install).
pub(crate) fn fixture_packages() -> Vec<TestPkg> {
    vec![
        TestPkg {
            name: "bash",
            version: "5.1.8",
            release: "6.el9_1",
            arch: "x86_64",
            srpm: "bash-5.1.8-6.el9_1.src.rpm",
            license: "GPLv3+",
            vendor: "Rocky Enterprise Software Foundation",
            files: vec![
                ("/usr/bin/bash", 0o100755),
                ("/usr/bin/sh", 0o120777),
                ("/etc/skel", 0o040755),
                ("/etc/skel/.bashrc", 0o100644),
            ],
            ..TestPkg::default()
        },
        TestPkg {
            name: "openssl-libs",
            epoch: Some(1),
            version: "3.0.7",
            release: "25.el9_3",
            arch: "x86_64",
            srpm: "openssl-3.0.7-25.el9_3.src.rpm",
            license: "ASL 2.0",
            vendor: "Rocky Enterprise Software Foundation",
            files: vec![
                ("/usr/lib64/libssl.so.3", 0o120777),
                ("/usr/lib64/libcrypto.so.3", 0o120777),
            ],
            ..TestPkg::default()
        },
        TestPkg {
            name: "nodejs",
            epoch: Some(1),
            version: "18.19.0",
            release: "1.module+el9.3.0+16045+1ee1d7d9",
            arch: "x86_64",
            srpm: "nodejs-18.19.0-1.module+el9.3.0+16045+1ee1d7d9.src.rpm",
            license: "MIT and ASL 2.0 and ISC and BSD",
            vendor: "Rocky Enterprise Software Foundation",
            modularity: "nodejs:18:9030020231122090505:rpm",
            files: vec![("/usr/bin/node", 0o100755)],
        },
        TestPkg {
            name: "python3-requests",
            version: "2.25.1",
            release: "8.el9",
            arch: "noarch",
            srpm: "python-requests-2.25.1-8.el9.src.rpm",
            license: "ASL 2.0",
            vendor: "Rocky Enterprise Software Foundation",
            files: vec![
                (
                    "/usr/lib/python3.9/site-packages/requests-2.25.1-py3.9.egg-info/PKG-INFO",
                    0o100644,
                ),
                (
                    "/usr/lib/python3.9/site-packages/requests/__init__.py",
                    0o100644,
                ),
            ],
            ..TestPkg::default()
        },
        // A signing key: rpm keeps imported keys as pseudo-packages; not software.
        TestPkg {
            name: "gpg-pubkey",
            version: "350d275d",
            release: "6279464b",
            license: "pubkey",
            ..TestPkg::default()
        },
    ]
}

fn put16(b: &mut [u8], at: usize, v: u16, be: bool) {
    let bytes = if be { v.to_be_bytes() } else { v.to_le_bytes() };
    b[at..at + 2].copy_from_slice(&bytes);
}

fn put32(b: &mut [u8], at: usize, v: u32, be: bool) {
    let bytes = if be { v.to_be_bytes() } else { v.to_le_bytes() };
    b[at..at + 4].copy_from_slice(&bytes);
}

/// A Berkeley DB hash database like rpm's `Packages`: metadata page, hash pages of
/// (key, off-page item) pairs — plus rpm's key-0 record stored inline — and one overflow
/// chain per blob.
pub(crate) fn bdb(blobs: &[Vec<u8>], page_size: usize, big_endian: bool) -> Vec<u8> {
    let be = big_endian;
    let chunk = page_size - 26;
    // Items per hash page: each pair takes 2 index slots and a 5-byte key + 12-byte item.
    let per_page = (page_size - 26) / (4 + 5 + 12) - 1;
    let hash_pages = blobs.len().div_ceil(per_page).max(1);
    let mut next_free = 1 + hash_pages;
    let mut chains = Vec::new();
    for blob in blobs {
        let n = blob.len().div_ceil(chunk).max(1);
        chains.push(next_free);
        next_free += n;
    }
    let last_pgno = next_free - 1;
    let mut out = vec![0u8; next_free * page_size];
    // Metadata page.
    put32(&mut out, 12, 0x061561, be);
    put32(&mut out, 16, 9, be);
    put32(&mut out, 20, page_size as u32, be);
    out[25] = 8;
    put32(&mut out, 32, last_pgno as u32, be);
    // Hash pages.
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = vec![(
        [vec![1u8], vec![0, 0, 0, 0]].concat(),
        [vec![1u8], (blobs.len() as u32 + 1).to_le_bytes().to_vec()].concat(),
    )];
    for (i, blob) in blobs.iter().enumerate() {
        let mut key = vec![1u8];
        key.extend_from_slice(&if be {
            (i as u32 + 1).to_be_bytes()
        } else {
            (i as u32 + 1).to_le_bytes()
        });
        let mut item = vec![3u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        put32(&mut item, 4, chains[i] as u32, be);
        put32(&mut item, 8, blob.len() as u32, be);
        pairs.push((key, item));
    }
    for (p, group) in pairs.chunks(per_page).enumerate() {
        let pgno = 1 + p;
        let page = &mut out[pgno * page_size..(pgno + 1) * page_size];
        put32(page, 8, pgno as u32, be);
        page[25] = 13;
        let mut top = page_size;
        let mut slot = 0usize;
        for (k, d) in group {
            for item in [k, d] {
                top -= item.len();
                page[top..top + item.len()].copy_from_slice(item);
                put16(page, 26 + slot * 2, top as u16, be);
                slot += 1;
            }
        }
        put16(page, 20, slot as u16, be);
        put16(page, 22, top as u16, be);
    }
    // Overflow chains.
    for (blob, first) in blobs.iter().zip(&chains) {
        let parts: Vec<&[u8]> = blob.chunks(chunk).collect();
        for (j, part) in parts.iter().enumerate() {
            let pgno = first + j;
            let page = &mut out[pgno * page_size..(pgno + 1) * page_size];
            put32(page, 8, pgno as u32, be);
            put32(page, 12, if j == 0 { 0 } else { pgno as u32 - 1 }, be);
            let next = if j + 1 < parts.len() { pgno + 1 } else { 0 };
            put32(page, 16, next as u32, be);
            put16(page, 20, 1, be);
            put16(page, 22, part.len() as u16, be);
            page[25] = 7;
            page[26..26 + part.len()].copy_from_slice(part);
        }
    }
    out
}

/// Adler-32 (RFC 1950), as NDB uses for its blob trailers.
pub(crate) fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// An NDB `Packages.db`: 32-byte header, one 4096-byte slot page, then one blob per package
/// (head `BlbS`, data, zero padding, tail adler32 + length + `BlbE`) on 16-byte blocks.
pub(crate) fn ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0u8; 4096];
    out[0..4].copy_from_slice(b"RpmP");
    put32(&mut out, 8, 1, false);
    put32(&mut out, 12, 1, false);
    put32(&mut out, 16, blobs.len() as u32 + 1, false);
    for s in (32..4096).step_by(16) {
        out[s..s + 4].copy_from_slice(b"Slot");
    }
    for (i, blob) in blobs.iter().enumerate() {
        let pkgidx = i as u32 + 1;
        let blkoff = out.len() / 16;
        let blkcnt = (16 + blob.len() + 12).div_ceil(16);
        let slot = 32 + i * 16;
        put32(&mut out, slot + 4, pkgidx, false);
        put32(&mut out, slot + 8, blkoff as u32, false);
        put32(&mut out, slot + 12, blkcnt as u32, false);
        let mut b = Vec::new();
        b.extend_from_slice(b"BlbS");
        b.extend_from_slice(&pkgidx.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        b.extend_from_slice(blob);
        b.resize(blkcnt * 16 - 12, 0);
        let adl = adler32(&b);
        b.extend_from_slice(&adl.to_le_bytes());
        b.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        b.extend_from_slice(b"BlbE");
        out.extend_from_slice(&b);
    }
    out
}

/// An `rpmdb.sqlite` with rpm's `Packages(hnum, blob)` table.
pub(crate) fn sqlite(blobs: &[Vec<u8>]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpmdb.sqlite");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
        )
        .unwrap();
        for b in blobs {
            c.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])
                .unwrap();
        }
    }
    std::fs::read(&path).unwrap()
}
