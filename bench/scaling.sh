#!/usr/bin/env bash
# How netfence's cost grows with its input (issue 14): time and peak memory (GNU time -v) at 1x,
# 2x, 4x and 8x a base size, and the growth against the previous size (2.0 is linear).
#
# render (release build, default configuration unless said):
#   namespaces  N namespaces with one ConfigMap each (a default-deny and allow-DNS pair each);
#   policies    one namespace, N NetworkPolicies restricting egress without DNS (each gets the rule);
#   workloads   N Deployments with Services in N/50 namespaces, `workloadPolicies.enabled: true`
#               (a policy per workload).
# analysis: bench/analysis.sh --scaling-only (bench/analysis_families.py: one namespace with N
#   workloads of rich labels and N matchExpressions policies, `matrix -o connlist` and `verify`;
#   N namespaces, the namespace matrix; a cluster of N workloads with admin policies).
#
# Usage: bench/scaling.sh [--base N] [--render-only | --analysis-only]
#   --base: the 1x size of the render families (default 2000; the analysis families take
#   bench/analysis.sh's own bases, scaled by --base/2000 rounded down, at least 1).
# NETFENCE=path/to/netfence uses that binary for the render part instead of building the release
# one. Figures are for a quiet machine; the script needs bash, awk, python3 and /usr/bin/time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE=2000
PARTS=(render analysis)
while (($#)); do
  case "$1" in
    --base) BASE="$2"; shift ;;
    --render-only) PARTS=(render) ;;
    --analysis-only) PARTS=(analysis) ;;
    *) echo "usage: bench/scaling.sh [--base N] [--render-only | --analysis-only]" >&2; exit 2 ;;
  esac
  shift
done
[[ -x /usr/bin/time ]] || { echo "bench/scaling.sh: needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/netfence-scaling.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# gen FAMILY N FILE: writes the render family's input of size N.
gen() {
  local family=$1 n=$2 file=$3
  case "$family" in
    namespaces)
      awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ns-%d\ndata:\n  mode: fast\n", i }' >"$file" ;;
    policies)
      awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p-%d\n  namespace: shop\nspec:\n  podSelector:\n    matchLabels:\n      app: a-%d\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - podSelector:\n        matchLabels:\n          app: db-%d\n    ports:\n    - port: 5432\n", i, i, i }' >"$file" ;;
    workloads)
      awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) { ns = int(i / 50); printf "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w-%d\n  namespace: ns-%d\nspec:\n  selector:\n    matchLabels: {app: w-%d}\n  template:\n    metadata:\n      labels: {app: w-%d, tier: t-%d}\n    spec:\n      containers:\n      - name: c\n        image: x\n        ports: [{name: http, containerPort: 8080}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: w-%d\n  namespace: ns-%d\nspec:\n  selector: {app: w-%d}\n  ports: [{port: 80, targetPort: http}]\n", i, ns, i, i, i % 7, i, ns, i } }' >"$file" ;;
  esac
}

# measure COMMAND...: "seconds peak-MiB" of one run under GNU time (stdout discarded).
measure() {
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || {
    echo "FAILED: $* ($(tail -1 "$WORK/stderr"))" >&2
    echo "nan nan"
    return
  }
  awk '{ printf "%.3f %.1f\n", $1, $2 / 1024 }' "$WORK/time"
}

if [[ " ${PARTS[*]} " == *" render "* ]]; then
  if [[ -z ${NETFENCE:-} ]]; then
    (cd "$ROOT" && env -u CARGO_BUILD_TARGET cargo build --release --quiet)
    NETFENCE="$ROOT/target/release/netfence"
  fi
  printf 'networkPolicy:\n  workloadPolicies:\n    enabled: true\n' >"$WORK/workloads.yaml"
  printf '%-11s %6s %8s %10s %9s %9s %7s\n' family scale N 'input MB' seconds 'peak MiB' growth
  for family in namespaces policies workloads; do
    prev=""
    for scale in 1 2 4 8; do
      n=$((BASE * scale))
      gen "$family" "$n" "$WORK/in.yaml"
      args=(render -n default)
      [[ $family == workloads ]] && args+=(-f "$WORK/workloads.yaml")
      read -r secs mib < <(measure "$NETFENCE" "${args[@]}" <"$WORK/in.yaml")
      growth="-"
      [[ -n $prev && $secs != nan ]] && growth=$(awk -v a="$secs" -v b="$prev" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
      prev=$secs
      mb=$(awk -v b="$(stat -c %s "$WORK/in.yaml")" 'BEGIN { printf "%.1f", b / 1e6 }')
      printf '%-11s %5sx %8d %10s %9s %9s %7s\n' "$family" "$scale" "$n" "$mb" "$secs" "$mib" "$growth"
    done
  done
fi

if [[ " ${PARTS[*]} " == *" analysis "* ]]; then
  k=$((BASE / 2000))
  ((k >= 1)) || k=1
  bash "$ROOT/bench/analysis.sh" --scaling-only --scale-base "$k"
fi
