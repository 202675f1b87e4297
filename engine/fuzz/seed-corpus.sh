#!/usr/bin/env bash
# Writes the seed corpus for the `layer_reader` fuzz target into corpus/layer_reader:
# small tar layers (whiteouts, opaque dirs, hard links, symlinks, devices, long names, PAX
# headers, `..` names), each also gzip- and zstd-compressed. Generated, never committed.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/layer_reader
mkdir -p "$out"
python3 - "$out" <<'PY'
import io, sys, tarfile, gzip, os
out = sys.argv[1]
def add(t, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
seeds = {}
for fmt_name, fmt in [("gnu", tarfile.GNU_FORMAT), ("pax", tarfile.PAX_FORMAT), ("ustar", tarfile.USTAR_FORMAT)]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        add(t, "etc", type=tarfile.DIRTYPE, mode=0o755)
        add(t, "etc/os-release", b"ID=debian\n")
        add(t, "etc/.wh.shadow")
        add(t, "var/.wh..wh..opq")
        add(t, "usr/bin/su", b"\x7fELF\x02\x01", mode=0o4755)
        add(t, "usr/bin/su2", type=tarfile.LNKTYPE, linkname="usr/bin/su")
        add(t, "bin", type=tarfile.SYMTYPE, linkname="usr/bin")
        add(t, "loop", type=tarfile.SYMTYPE, linkname="loop")
        add(t, "dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        add(t, "app/.env", b"A=1\nSECRET=2\n")
        add(t, "app/p.json", b"{}")
        if fmt != tarfile.USTAR_FORMAT:
            add(t, "deep/" + "d" * 120 + "/long-name.json", b"{}")
    seeds[fmt_name] = buf.getvalue()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
    add(t, "../escape", b"x")
seeds["dotdot"] = buf.getvalue()
for name, data in seeds.items():
    open(os.path.join(out, name + ".tar"), "wb").write(data)
    open(os.path.join(out, name + ".tar.gz"), "wb").write(gzip.compress(data))
PY
if command -v zstd >/dev/null; then
  for f in "$out"/*.tar; do zstd -q -f "$f" -o "$f.zst"; done
fi
ls "$out" | wc -l
