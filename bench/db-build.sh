#!/usr/bin/env bash
# Times `tollgate db build` on the whole shared OSV mirror with the release binary: wall time,
# peak RSS and DB file size, then `db check` (integrity + checksum) and `db status` for scale.
# Usage: bash bench/db-build.sh [MIRROR_DIR]   (default ../shared/osv-mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
mirror="${1:-../shared/osv-mirror}"
if [ ! -f "$mirror/PyPI/all.zip" ]; then
  echo "skipping: no OSV mirror at $mirror" >&2
  exit 0
fi
cargo build --release -q -p tollgate-cli
bin=target/release/tollgate
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== db build --from $mirror (all default ecosystems + KEV)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" db build --from "$mirror" --out "$out/db.sqlite" -q
ls -l "$out/db.sqlite" | awk '{printf "size %.1f MB\n", $5/1e6}'
echo "== db check (integrity + content checksum)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" db check --db "$out/db.sqlite" -q
echo "== db status"
/usr/bin/time -f "wall %e s" "$bin" db status --db "$out/db.sqlite" > /dev/null
echo "targets (issue 4): build <= 30 s"
