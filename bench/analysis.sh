#!/usr/bin/env bash
# Benchmark of the analysis (release build) against IBM network-config-analyzer (NCA), in one run:
#   1. ../shared/corpus/stress/stress-concat.yaml.gz (42.7 MB, 9,978 documents, 259 namespaces):
#      `netfence matrix` (namespace level) and `netfence matrix --level workload -o connlist`,
#      against `nca --connectivity` (NCA has no namespace level; it always computes the workload map).
#   2. The largest real chart of ../shared/corpus/charts (kube-prometheus-stack-crds.yaml, 5.2 MB)
#      and the largest one with its own NetworkPolicies (argo-cd-ha-np.yaml, 2.0 MB): the workload
#      level, `netfence matrix --level workload -o connlist` against `nca --connectivity`.
#   3. How netfence's cost grows: the generated families of bench/analysis_families.py at 1x, 2x,
#      4x and 8x their base size (rich: one namespace, N workloads and N matchExpressions
#      policies, `matrix -o connlist` and `verify`; namespaces: N namespaces, the namespace
#      matrix; cluster: N workloads in N/25 namespaces with N+2N/25 NetworkPolicies, 3
#      AdminNetworkPolicies and a BaselineAdminNetworkPolicy, `matrix -o connlist`, the
#      namespace matrix and `check`), one run each: wall and CPU time, peak RSS, and the growth
#      against the previous size (2.0 is linear).
# Reported: wall time (mean of N runs for netfence, one run for NCA), peak RSS, and the ratio.
#
# NCA cannot read the corpus as it is (see nca_input below), so both tools get the same
# NCA-readable copy of each input, with the same connectivity: the script checks that nothing
# but ConfigMaps, PrometheusRules and CRDs is dropped, and that netfence's result on the copy
# equals its result on the original.
#
# Usage: bench/analysis.sh [--runs N] [--nca-timeout SECONDS] [--nca-memory-gib GIB] [--skip-nca-stress]
#                         [--scaling-only] [--scale-base K]
#   --scaling-only runs part 3 alone (no NCA needed); --scale-base multiplies the base sizes
#   (default 1: rich 1000, namespaces 500, cluster 1000, so 8x is 8000 workloads).
#   NCA runs once per input, capped at --nca-timeout (default 3600 s) and --nca-memory-gib (16).
# Tools: NCA from scripts/setup-tools.sh (.tools/nca), GNU time (/usr/bin/time -v), python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${NETFENCE_SHARED:-$ROOT/../shared}"
STRESS_GZ="$SHARED/corpus/stress/stress-concat.yaml.gz"
CHARTS="$SHARED/corpus/charts"
RUNS=5
NCA_TIMEOUT=3600
NCA_MEMORY_GIB=16
SKIP_NCA_STRESS=0
SCALING_ONLY=0
SCALE_BASE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift ;;
    --nca-timeout) NCA_TIMEOUT="$2"; shift ;;
    --nca-memory-gib) NCA_MEMORY_GIB="$2"; shift ;;
    --skip-nca-stress) SKIP_NCA_STRESS=1 ;;
    --scaling-only) SCALING_ONLY=1 ;;
    --scale-base) SCALE_BASE="$2"; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "bench: $*" >&2; exit 2; }
[ -x /usr/bin/time ] || die "GNU time is needed for peak RSS: apt-get install time"
command -v python3 > /dev/null || die "python3 is needed for the generated families"
NCA="${NETFENCE_NCA:-$ROOT/.tools/nca/bin/nca}"
if [ "$SCALING_ONLY" = 0 ]; then
  [ -f "$STRESS_GZ" ] || die "missing $STRESS_GZ (set NETFENCE_SHARED to the shared folder)"
  [ -x "$NCA" ] || die "NCA not found at $NCA (run scripts/setup-tools.sh)"
  NCA_PYTHON="$(dirname "$NCA")/python3" # NCA's venv has PyYAML
  [ -x "$NCA_PYTHON" ] || die "no python3 beside $NCA"
fi

echo "== building the release binary"
(cd "$ROOT" && cargo build --release --quiet)
NETFENCE="$ROOT/target/release/netfence"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/netfence-bench-analysis.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# nca_input IN OUT: IN as NCA 2.1.0 can read it, with the same connectivity. NCA skips a whole
# file containing `{{` ("templated yaml": Grafana dashboards, PrometheusRules), fails on the `=`
# keys of some CRDs (PyYAML's value tag), on Ingresses with `pathType: null` (the API server
# rejects them; netfence ignores them) and on `policyTypes: [Egress, Ingress]` (it wants that
# order). So the copy holds only what connectivity depends on (Namespaces, workloads, Pods,
# NetworkPolicies, Services, valid Ingresses and Routes; `kind: List` items taken out of their
# List), with policyTypes in order. The caller checks that netfence's result is unchanged.
# With a third argument, only objects whose namespace matches that regex (or that have none).
nca_input() {
  "$NCA_PYTHON" - "$1" "$2" "${3:-}" <<'PY'
import re, sys, yaml
KEEP = {"Namespace", "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
        "ReplicationController", "NetworkPolicy", "Service", "Ingress", "Route"}
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
text = open(sys.argv[1], encoding="utf-8").read()
kept, counts = [], {"documents": 0, "invalid Ingresses": 0, "policyTypes reordered": 0}
only = re.compile(sys.argv[3]) if sys.argv[3] else None
def take(obj):
    if not isinstance(obj, dict) or obj.get("kind") not in KEEP:
        return
    meta = obj.get("metadata") or {}
    namespace = meta.get("name") if obj["kind"] == "Namespace" else meta.get("namespace")
    if only and namespace and not only.search(namespace):
        return
    spec = obj.get("spec") or {}
    if obj["kind"] == "Ingress" and any(p.get("pathType") is None for r in spec.get("rules") or []
                                        for p in ((r.get("http") or {}).get("paths") or [])):
        counts["invalid Ingresses"] += 1
        return
    if obj["kind"] == "NetworkPolicy" and spec.get("policyTypes") == ["Egress", "Ingress"]:
        spec["policyTypes"] = ["Ingress", "Egress"]
        counts["policyTypes reordered"] += 1
    kept.append(obj)
for d in re.split(r"(?m)^---[ \t]*$", text):
    counts["documents"] += 1
    kind = re.search(r"(?m)^kind:\s*(\S+)", d)
    if not kind or not (kind.group(1) in KEEP or kind.group(1).endswith("List")):
        continue
    obj = yaml.load(d, Loader=Loader)
    for item in (obj.get("items") or []) if kind.group(1).endswith("List") else [obj]:
        take(item)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    yaml.dump_all(kept, out, Dumper=Dumper, sort_keys=False)
print(f"{len(kept)} objects of {counts['documents']} documents;",
      f"{counts['invalid Ingresses']} invalid Ingresses dropped; {counts['policyTypes reordered']} policyTypes reordered")
PY
}

# mean_seconds RUNS COMMAND: mean wall time of a shell command over RUNS runs (after a warm-up).
mean_seconds() {
  local runs=$1 cmd=$2 i s e sum=0
  bash -c "$cmd" > /dev/null 2>&1 || die "failed: $cmd"
  for i in $(seq "$runs"); do
    s=$(date +%s%N); bash -c "$cmd" > /dev/null 2>&1; e=$(date +%s%N)
    sum=$(( sum + e - s ))
  done
  awk -v s="$sum" -v n="$runs" 'BEGIN { printf "%.3f", s / n / 1e9 }'
}

# once COMMAND: "seconds peak-MiB status" of one run under GNU time, a timeout and a memory cap
# (NCA needs more than this machine's 24 GiB on the stress corpus; without the cap the kernel's
# OOM killer ends it, or something else).
once() {
  local status=0
  timeout "$NCA_TIMEOUT" /usr/bin/time -v bash -c "ulimit -v $((NCA_MEMORY_GIB * 1048576)); exec $1" \
    > "$WORK/out.txt" 2> "$WORK/time.txt" || status=$?
  local wall rss
  wall=$(awk -F'): ' '/Elapsed \(wall clock\)/ { print $2 }' "$WORK/time.txt" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.3f", s }')
  rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); printf "%.1f", $2 / 1024 }' "$WORK/time.txt")
  echo "${wall:-$NCA_TIMEOUT} ${rss:-0} $status"
}

peak_mib() { once "$1" | awk '{ print $2 }'; }

row() { printf '  %-44s %9s s  %9s MiB  %s\n' "$1" "$2" "$3" "${4:-}"; }

# compare NAME FILE ARGS...: netfence `matrix ARGS` for each ARGS (mean of RUNS, peak RSS) and
# NCA's connectivity map (one run) on the same FILE, with the ratios.
compare() {
  local name=$1 file=$2
  shift 2
  local dir="$WORK/$name"
  mkdir -p "$dir"
  cp "$file" "$dir/input.yaml"
  local arglist=("$@") means=() rsses=() args
  for args in "$@"; do
    local mean rss
    mean=$(mean_seconds "$RUNS" "$NETFENCE matrix $args $dir/input.yaml")
    rss=$(peak_mib "$NETFENCE matrix $args $dir/input.yaml")
    row "netfence matrix ${args:---level namespace}" "$mean" "$rss" "(mean of $RUNS)"
    means+=("$mean") rsses+=("$rss")
  done
  [ "$WITH_NCA" = 1 ] || return 0
  local nca_s nca_rss status
  read -r nca_s nca_rss status < <(once "$NCA --connectivity -r $dir -o txt_no_fw_rules")
  if grep -q "Skipping templated yaml\|Parse Error" "$WORK/time.txt" "$WORK/out.txt"; then
    die "NCA could not read $name: $(grep -h "Skipping\|Parse Error" "$WORK/time.txt" "$WORK/out.txt" | head -n 1)"
  fi
  local note
  note="(one run; $(grep -c ' => ' "$WORK/out.txt") connection lines)"
  if [ "$status" = 124 ]; then
    note="(stopped after ${NCA_TIMEOUT} s: at least this)"
  elif [ "$status" != 0 ] && grep -q '^Error: *$' "$WORK/time.txt" "$WORK/out.txt"; then
    # NCA reports a MemoryError as "Error: " with no message.
    note="(out of memory at the ${NCA_MEMORY_GIB} GiB cap, no result: at least this)"
  elif [ "$status" != 0 ]; then
    note="(failed, exit $status: $(grep -v '^\s' "$WORK/time.txt" | grep -iv warning | head -n 1))"
  fi
  row "nca --connectivity" "$nca_s" "$nca_rss" "$note"
  local i least=""
  [ "$status" = 0 ] || least="at least "
  for i in "${!means[@]}"; do
    args=${arglist[$i]}
    echo "  => NCA takes ${least}$(awk -v a="$nca_s" -v b="${means[$i]}" 'BEGIN { printf "%.0f", a / b }')x the time and" \
      "$(awk -v a="$nca_rss" -v b="${rsses[$i]}" 'BEGIN { printf "%.1f", a / b }')x the memory of netfence matrix ${args:---level namespace}"
  done
}

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
  "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$SCALING_ONLY" = 0 ]; then
  echo "netfence $("$NETFENCE" --version | awk '{ print $2 }'), $("$NCA" --version 2>&1 | head -n 1)"
else
  echo "netfence $("$NETFENCE" --version | awk '{ print $2 }')"
fi


# measure COMMAND: "wall-s cpu-s peak-MiB" of one run under GNU time (the exit status of
# `verify` and `check` is a verdict, not a failure).
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/measure.txt" bash -c "$1" > "$WORK/measure-out.txt" 2> /dev/null || true
  # GNU time writes "Command exited with non-zero status N" first for a verdict exit.
  tail -n 1 "$WORK/measure.txt" | awk '{ printf "%.2f %.2f %.1f\n", $1, $2 + $3, $4 / 1024 }'
}

# scaling FAMILY BASE LABEL COMMAND...: the family at 1x, 2x, 4x, 8x BASE; COMMAND with
# {input} (and {intent} for rich's verify) replaced.
scaling() {
  local family=$1 base=$2 label=$3 cmd=$4 k n input prev="" wall cpu rss growth
  printf '  %-62s %7s %7s %9s %7s %s\n' "$label" "N" "wall s" "CPU s" "peak MiB" "growth"
  for k in 1 2 4 8; do
    n=$((base * k * SCALE_BASE))
    input="$WORK/$family-$n.yaml"
    [ -f "$input" ] || python3 "$ROOT/bench/analysis_families.py" "$family" "$n" > "$input"
    [ "$family" != rich ] || [ -f "$WORK/intent-$n.yaml" ] ||
      python3 "$ROOT/bench/analysis_families.py" rich-intent "$n" > "$WORK/intent-$n.yaml"
    local run=${cmd//\{input\}/$input}
    run=${run//\{intent\}/$WORK/intent-$n.yaml}
    read -r wall cpu rss < <(measure "$run")
    growth=""
    [ -z "$prev" ] || growth="$(awk -v a="$cpu" -v b="$prev" 'BEGIN { if (b > 0) printf "x%.2f", a / b }')"
    printf '  %-62s %7s %7s %9s %7s %s\n' "" "$n" "$wall" "$cpu" "$rss" "$growth"
    prev=$cpu
  done
}

run_scaling() {
  echo
  echo "== 3. scaling: generated families at 1x, 2x, 4x, 8x (one run each; growth: CPU time against the previous size)"
  scaling rich 1000 "rich: matrix --level workload -o connlist" "$NETFENCE matrix --level workload -o connlist {input}"
  scaling rich 1000 "rich: verify --expect (N allow entries)" "$NETFENCE verify --expect {intent} {input}"
  scaling namespaces 500 "namespaces: matrix (namespace level; output grows with N^2)" "$NETFENCE matrix {input}"
  scaling namespaces 500 "namespaces: matrix -o json (namespace level)" "$NETFENCE matrix -o json {input}"
  scaling cluster 1000 "cluster: matrix --level workload -o connlist" "$NETFENCE matrix --level workload -o connlist {input}"
  scaling cluster 1000 "cluster: matrix (namespace level)" "$NETFENCE matrix {input}"
  scaling cluster 1000 "cluster: check" "$NETFENCE check {input}"
}

if [ "$SCALING_ONLY" = 1 ]; then
  run_scaling
  exit 0
fi

zcat "$STRESS_GZ" > "$WORK/stress-full.yaml"
WITH_NCA=$((1 - SKIP_NCA_STRESS))
echo
echo "== 1. stress corpus, NCA-readable copy ($(nca_input "$WORK/stress-full.yaml" "$WORK/stress.yaml"))"
# Sanity: the copy has the same connectivity for netfence.
cmp -s <("$NETFENCE" matrix "$WORK/stress-full.yaml" 2> /dev/null) <("$NETFENCE" matrix "$WORK/stress.yaml" 2> /dev/null) ||
  die "the namespace matrix of the NCA-readable copy differs from the original's"
echo "  original: $(stat -c %s "$WORK/stress-full.yaml") bytes, namespace matrix" \
  "$(mean_seconds "$RUNS" "$NETFENCE matrix $WORK/stress-full.yaml") s (mean of $RUNS)," \
  "$(peak_mib "$NETFENCE matrix $WORK/stress-full.yaml") MiB peak; copy: $(stat -c %s "$WORK/stress.yaml") bytes"
compare stress "$WORK/stress.yaml" "" "--level workload -o connlist"

WITH_NCA=1
echo
echo "== 1b. one of the stress corpus' eight copies (namespaces *-t00NN), NCA-readable" \
  "($(nca_input "$WORK/stress-full.yaml" "$WORK/stress-copy0.yaml" '-t00[0-9][0-9]$'))"
compare stress-copy0 "$WORK/stress-copy0.yaml" "" "--level workload -o connlist"

echo
echo "== 1c. that copy without its five kube-prometheus-stack renders (namespaces monitoring-t0014..18)," \
  "which NCA can finish ($(nca_input "$WORK/stress-full.yaml" "$WORK/stress-copy0-nokps.yaml" '^(?!monitoring-t001[4-8]$).*-t00[0-9][0-9]$'))"
compare stress-copy0-nokps "$WORK/stress-copy0-nokps.yaml" "" "--level workload -o connlist"

for chart in kube-prometheus-stack-crds argo-cd-ha-np; do
  echo
  echo "== 2. $chart.yaml, NCA-readable copy ($(nca_input "$CHARTS/$chart.yaml" "$WORK/$chart.yaml"))"
  cmp -s <("$NETFENCE" matrix --level workload -o connlist "$CHARTS/$chart.yaml" 2> /dev/null) \
    <("$NETFENCE" matrix --level workload -o connlist "$WORK/$chart.yaml" 2> /dev/null) ||
    die "the connlist of the NCA-readable copy of $chart differs from the original's"
  compare "$chart" "$WORK/$chart.yaml" "--level workload -o connlist"
done

run_scaling
