#!/usr/bin/env bash
# Benchmark: `tollgate watch` re-matching N stored SBOMs against a new DB (no image pulls).
#
# Builds an old DB (Debian only) and a full DB (Debian, PyPI, npm) from ../shared/osv-mirror,
# scans each shared test image once with the old DB, then fills a store with N analyses made
# from those package lists with varied versions (each a distinct image digest), and times
# `tollgate watch` against the full DB for several N in one run, printing seconds and peak
# RSS side by side so the ratio (and the flatness of memory) can be read off.
#
# Usage: bench/watch-rescan.sh [N ...]      (default: 1000 10000)
# Needs: a release build (`cargo build --release -p tollgate-cli`), python3 with sqlite3.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${TOLLGATE_BIN:-$here/target/release/tollgate}"
mirror="${OSV_MIRROR:-$here/../shared/osv-mirror}"
images="${TOLLGATE_TESTIMAGES:-/var/tmp/tollgate-testimages}"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
[ -x "$bin" ] || { echo "build first: cargo build --release -p tollgate-cli" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" db build -q --from "$mirror" --ecosystem Debian --out "$work/old.sqlite"
"$bin" db build -q --from "$mirror" --ecosystem Debian --ecosystem PyPI --ecosystem npm --out "$work/full.sqlite"
seeds=()
for img in debian-py-node distroless-like fat; do
  [ -d "$images/$img/oci" ] || continue
  "$bin" scan -q "oci-dir:$images/$img/oci" --db "$work/old.sqlite" --max-db-age 0 --no-policy \
    --store "$work/seed-store" -o "json=$work/$img.json" >/dev/null || true
  seeds+=("$work/$img.json")
done
[ ${#seeds[@]} -gt 0 ] || { echo "no shared test images under $images" >&2; exit 2; }

cat > "$work/cfg.yaml" <<'EOF'
notifications:
  channels:
    # Matches no repository: the run re-matches, decides and records state, but sends nothing.
    - {name: sink, type: webhook, url: "http://127.0.0.1:9/", repositories: ["nowhere.invalid/**"]}
EOF

printf '%8s %10s %12s %14s\n' SBOMs seconds peak_RSS_MiB new_findings
for n in "${sizes[@]}"; do
  store="$work/store-$n"
  rm -rf "$store"
  # Create the schema with the real binary, then fill it.
  "$bin" store list --store "$store" >/dev/null
  python3 - "$store/store.db" "$n" "${seeds[@]}" <<'PY'
import json, sqlite3, sys, hashlib, random
db, n, seeds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
docs = [json.load(open(s)) for s in seeds]
for d in docs:
    # The rescan reads packages, distro and source only: drop file lists (image files and
    # per-package owned files) so the store holds SBOM-sized documents (~0.3 MB each).
    d["inventory"]["files"] = []
    d["inventory"]["retrieved_files"] = {}
    for p in d["inventory"]["packages"]:
        p.pop("files", None)
rng = random.Random(7)
con = sqlite3.connect(db)
cur = con.cursor()
for i in range(n):
    d = json.loads(json.dumps(docs[i % len(docs)]))
    # Vary versions: for a third of the packages, bump or lower the last numeric part.
    for p in d["inventory"]["packages"]:
        if rng.random() < 0.33:
            v = p["version"]
            j = len(v)
            while j > 0 and v[j-1].isdigit(): j -= 1
            if j < len(v):
                p["version"] = v[:j] + str(max(0, int(v[j:]) + rng.choice([-2, -1, 1, 2])))
    digest = "sha256:" + hashlib.sha256(f"bench-{i}".encode()).hexdigest()
    d["inventory"]["source"]["manifest_digest"] = digest
    tag = f"bench.invalid/app{i % 500}:{i}"
    d["inventory"]["source"]["tags"] = [tag]
    doc = json.dumps(d)
    cur.execute("INSERT INTO analyses (digest, image_id, created, recorded, packages, vulnerabilities, document) VALUES (?,?,?,?,?,?,?)",
                (digest, digest, d.get("created", ""), d.get("created", ""), len(d["inventory"]["packages"]), len(d.get("matches", [])), doc))
    cur.execute("INSERT INTO analysis_tags (analysis_id, tag) VALUES (?, ?)", (cur.lastrowid, tag))
con.commit()
PY
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" watch -q --json --db "$work/full.sqlite" \
    --store "$store" --config "$work/cfg.yaml" > "$work/summary.json"
  read -r secs kib < "$work/time"
  new=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["new"])' "$work/summary.json")
  printf '%8s %10s %12s %14s\n' "$n" "$secs" "$((kib / 1024))" "$new"
done
