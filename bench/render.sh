#!/usr/bin/env bash
# Benchmark of `netfence render` (release build), in one run:
#   1. ../shared/corpus/charts/kube-prometheus-stack-crds.yaml (5.2 MB): netfence against an identity
#      `kubectl kustomize` build of the same file; bar: netfence at least 20x faster.
#   2. ../shared/corpus/stress/stress-concat.yaml.gz (42.7 MB decompressed, 9,978 documents):
#      netfence throughput and peak RSS; bars: >= 30 MB/s and peak RSS < 1.5x the input size.
#      With --with-kustomize-stress, kustomize is also timed once on it (takes ~8 minutes).
#
# Usage: bench/render.sh [--with-kustomize-stress] [--runs N] [--strict]
#   --strict  exit 1 when a bar is missed (default: report only; timings depend on the machine's load)
# Tools: hyperfine if installed (else best-of-N loops), GNU time (/usr/bin/time -v, Debian package
# `time`), kubectl from .tools/bin (scripts/setup-tools.sh) or /usr/bin.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${NETFENCE_SHARED:-$ROOT/../shared}"
CRDS="$SHARED/corpus/charts/kube-prometheus-stack-crds.yaml"
STRESS_GZ="$SHARED/corpus/stress/stress-concat.yaml.gz"
RUNS=10
WITH_KUSTOMIZE_STRESS=0
STRICT=0
while [ $# -gt 0 ]; do
  case "$1" in
    --with-kustomize-stress) WITH_KUSTOMIZE_STRESS=1 ;;
    --runs) RUNS="$2"; shift ;;
    --strict) STRICT=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "bench: $*" >&2; exit 2; }
[ -f "$CRDS" ] || die "missing $CRDS (set NETFENCE_SHARED to the shared folder)"
[ -f "$STRESS_GZ" ] || die "missing $STRESS_GZ"

if [ -x "$ROOT/.tools/bin/kubectl" ]; then KUBECTL="$ROOT/.tools/bin/kubectl"; else KUBECTL="$(command -v kubectl || true)"; fi
[ -n "$KUBECTL" ] || die "kubectl not found (run scripts/setup-tools.sh or install kubectl)"
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; }
  fi
  [ -x /usr/bin/time ] || die "GNU time is needed for peak RSS: apt-get install time"
fi
HYPERFINE="$(command -v hyperfine || true)"

echo "== building the release binary"
(cd "$ROOT" && cargo build --release --quiet)
NETFENCE="$ROOT/target/release/netfence"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/netfence-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/kz-crds" "$WORK/kz-stress"
cp "$CRDS" "$WORK/kz-crds/input.yaml"
printf 'resources:\n- input.yaml\n' > "$WORK/kz-crds/kustomization.yaml"
zcat "$STRESS_GZ" > "$WORK/kz-stress/input.yaml"
printf 'resources:\n- input.yaml\n' > "$WORK/kz-stress/kustomization.yaml"
STRESS="$WORK/kz-stress/input.yaml"
CRDS_BYTES=$(stat -c %s "$CRDS")
STRESS_BYTES=$(stat -c %s "$STRESS")

# Sanity: netfence must succeed on both inputs.
"$NETFENCE" -n bench < "$CRDS" > /dev/null || die "netfence failed on $CRDS"
"$NETFENCE" -n bench < "$STRESS" > /dev/null || die "netfence failed on the stress corpus"

# mean_seconds NAME COMMAND: mean and min wall time of COMMAND (a shell command line).
# Prints "mean min" in seconds.
time_cmd() {
  local name="$1" cmd="$2" runs="$3"
  if [ -n "$HYPERFINE" ]; then
    "$HYPERFINE" --style none --warmup 1 --runs "$runs" --export-csv "$WORK/$name.csv" "$cmd" > /dev/null 2>&1 \
      || die "hyperfine failed on: $cmd"
    # command,mean,stddev,median,user,system,min,max
    tail -n 1 "$WORK/$name.csv" | awk -F, '{ printf "%.4f %.4f\n", $(NF-6), $(NF-1) }'
  else
    local i t sum=0 min=""
    bash -c "$cmd" > /dev/null 2>&1 || true # warm-up
    for i in $(seq "$runs"); do
      local s e
      s=$(date +%s%N); bash -c "$cmd" > /dev/null 2>&1; e=$(date +%s%N)
      t=$(( e - s ))
      sum=$(( sum + t ))
      if [ -z "$min" ] || [ "$t" -lt "$min" ]; then min=$t; fi
    done
    awk -v s="$sum" -v n="$runs" -v m="$min" 'BEGIN { printf "%.4f %.4f\n", s / n / 1e9, m / 1e9 }'
  fi
}

# peak_rss_kib COMMAND: maximum resident set size (KiB) reported by GNU time; best (lowest) of 3.
peak_rss_kib() {
  local best="" i r
  for i in 1 2 3; do
    /usr/bin/time -v bash -c "exec $1" > /dev/null 2> "$WORK/time.txt" || die "failed: $1"
    r=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/time.txt")
    if [ -z "$best" ] || [ "$r" -lt "$best" ]; then best=$r; fi
  done
  echo "$best"
}

FAILED=0
verdict() { if [ "$1" = 1 ]; then echo "PASS"; else FAILED=1; echo "FAIL"; fi; }

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
  "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "netfence $("$NETFENCE" --version | awk '{ print $2 }'), $("$KUBECTL" version --client 2>/dev/null | tr '\n' ' ')"
if [ -n "$HYPERFINE" ]; then TIMER="$("$HYPERFINE" --version)"; else TIMER="best-of-N shell loop"; fi
echo "timing: $TIMER, $RUNS runs (kustomize: at most 5); peak RSS: GNU time -v, lowest of 3 runs"

echo
echo "== 1. kube-prometheus-stack-crds.yaml ($CRDS_BYTES bytes): netfence vs kubectl kustomize"
read -r NF_MEAN NF_MIN < <(time_cmd nf-crds "$NETFENCE -n bench < $WORK/kz-crds/input.yaml > /dev/null" "$RUNS")
KZ_RUNS=$(( RUNS < 5 ? RUNS : 5 ))
read -r KZ_MEAN KZ_MIN < <(time_cmd kz-crds "$KUBECTL kustomize $WORK/kz-crds > /dev/null" "$KZ_RUNS")
NF_RSS=$(peak_rss_kib "$NETFENCE -n bench < $WORK/kz-crds/input.yaml")
KZ_RSS=$(peak_rss_kib "$KUBECTL kustomize $WORK/kz-crds")
RATIO=$(awk -v a="$KZ_MEAN" -v b="$NF_MEAN" 'BEGIN { printf "%.1f", a / b }')
RATIO_MIN=$(awk -v a="$KZ_MIN" -v b="$NF_MIN" 'BEGIN { printf "%.1f", a / b }')
printf '%-22s mean %8.3f s  best %8.3f s  peak RSS %7.1f MiB\n' "netfence render" "$NF_MEAN" "$NF_MIN" "$(awk -v k="$NF_RSS" 'BEGIN { print k / 1024 }')"
printf '%-22s mean %8.3f s  best %8.3f s  peak RSS %7.1f MiB\n' "kubectl kustomize" "$KZ_MEAN" "$KZ_MIN" "$(awk -v k="$KZ_RSS" 'BEGIN { print k / 1024 }')"
echo "netfence is ${RATIO}x faster (means; ${RATIO_MIN}x on best runs); bar >= 20x: $(verdict "$(awk -v r="$RATIO" 'BEGIN { print (r >= 20) }')")"

echo
echo "== 2. stress-concat.yaml ($STRESS_BYTES bytes, $(grep -c '^---' "$STRESS") '---' separators): netfence throughput and memory"
read -r ST_MEAN ST_MIN < <(time_cmd nf-stress "$NETFENCE -n bench < $STRESS > /dev/null" "$RUNS")
ST_RSS=$(peak_rss_kib "$NETFENCE -n bench < $STRESS")
MBPS=$(awk -v b="$STRESS_BYTES" -v t="$ST_MEAN" 'BEGIN { printf "%.1f", b / 1e6 / t }')
MBPS_BEST=$(awk -v b="$STRESS_BYTES" -v t="$ST_MIN" 'BEGIN { printf "%.1f", b / 1e6 / t }')
RSS_RATIO=$(awk -v k="$ST_RSS" -v b="$STRESS_BYTES" 'BEGIN { printf "%.2f", k * 1024 / b }')
printf '%-22s mean %8.3f s  best %8.3f s  peak RSS %7.1f MiB\n' "netfence render" "$ST_MEAN" "$ST_MIN" "$(awk -v k="$ST_RSS" 'BEGIN { print k / 1024 }')"
echo "throughput ${MBPS} MB/s (mean; ${MBPS_BEST} MB/s best); bar >= 30 MB/s: $(verdict "$(awk -v r="$MBPS" 'BEGIN { print (r >= 30) }')")"
echo "peak RSS ${RSS_RATIO}x the input; bar < 1.5x: $(verdict "$(awk -v r="$RSS_RATIO" 'BEGIN { print (r < 1.5) }')")"

if [ "$WITH_KUSTOMIZE_STRESS" = 1 ]; then
  echo
  echo "== 2b. kubectl kustomize on stress-concat.yaml (once)"
  /usr/bin/time -v "$KUBECTL" kustomize "$WORK/kz-stress" > /dev/null 2> "$WORK/kz-stress-time.txt" || die "kustomize failed on the stress corpus"
  KZS_WALL=$(awk -F'): ' '/Elapsed \(wall clock\)/ { print $2 }' "$WORK/kz-stress-time.txt")
  KZS_RSS=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/kz-stress-time.txt")
  KZS_SECS=$(echo "$KZS_WALL" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  printf '%-22s wall %s (%.1f s)  peak RSS %7.1f MiB; netfence is %.0fx faster\n' "kubectl kustomize" "$KZS_WALL" "$KZS_SECS" \
    "$(awk -v k="$KZS_RSS" 'BEGIN { print k / 1024 }')" "$(awk -v a="$KZS_SECS" -v b="$ST_MEAN" 'BEGIN { print a / b }')"
fi

if [ "$STRICT" = 1 ] && [ "$FAILED" = 1 ]; then exit 1; fi
exit 0
