#!/usr/bin/env bash
# Cost of writing the reports: `tollgate scan` of the shared `fat` image with only the native
# JSON written vs with every format written at once (json, sarif, gitlab, junit, cyclonedx-json
# 1.6 and 1.5, spdx-json, markdown, table), side by side in one hyperfine run (alternating
# commands, warm cache). Reports the ratio all-formats / json-only, i.e. how much of a CI scan
# the reports cost.
#
# Not measured here: trivy's `convert` on a 10k-finding result (trivy has no vulnerability DB
# offline, so it cannot produce a comparable result file), and a 10k+-finding analysis through
# the binary (no subcommand renders a saved analysis yet). The 25,010-result SARIF path is
# exercised by the unit test `sarif_github_default_limit_is_enforced_on_a_large_analysis`.
#
# Needs: a release build (cargo build --release -p tollgate-cli), hyperfine, the shared test
# images. Usage: bench/report-formats.sh [IMAGES_DIR]     env: IMAGE=fat RUNS=10
set -euo pipefail
DIR=${1:-${TOLLGATE_TESTIMAGES:-/var/tmp/tollgate-testimages}}
TG=${TOLLGATE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/tollgate}
IMAGE=${IMAGE:-fat}
RUNS=${RUNS:-10}
OUT=$(mktemp -d -t report-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
[[ -x $TG ]] || { echo "no release build at $TG (cargo build --release -p tollgate-cli)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }
SRC="oci-dir:$DIR/$IMAGE/oci"
[[ -d $DIR/$IMAGE/oci ]] || { echo "no test image at $DIR/$IMAGE/oci" >&2; exit 2; }

one="$TG scan $SRC -q -o json=$OUT/a.json"
all="$TG scan $SRC -q -o json=$OUT/b.json -o sarif=$OUT/b.sarif -o gitlab=$OUT/gl.json -o junit=$OUT/junit.xml -o cyclonedx-json=$OUT/b.cdx.json -o cyclonedx-json@1.5=$OUT/gl.cdx.json -o spdx-json=$OUT/b.spdx.json -o markdown=$OUT/b.md -o table=$OUT/b.txt"

# Exit 1 (gate failed) is a normal outcome for these images.
hyperfine -N -i --warmup 2 --runs "$RUNS" --export-json "$OUT/h.json" \
  -n json-only "$one" -n all-formats "$all" >&2

python3 - "$OUT/h.json" "$OUT" <<'EOF'
import json, os, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
j, a = r["json-only"]["median"], r["all-formats"]["median"]
out = sys.argv[2]
sizes = {f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out)) if f.startswith(("b.", "gl", "junit"))}
print(f"median json-only {j*1000:.0f} ms, all formats {a*1000:.0f} ms, ratio all/json-only {a/j:.3f}")
print("report sizes (bytes):", ", ".join(f"{k}={v}" for k, v in sizes.items()))
EOF
