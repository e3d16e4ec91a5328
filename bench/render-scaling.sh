#!/usr/bin/env bash
# Render time against the number of namespaces (issue 14's scaling family): N namespaces with
# one ConfigMap each, rendered with the default configuration (a default-deny and an allow-DNS
# policy per namespace). The time should grow about linearly with N.
#
# Usage: bench/render-scaling.sh [N ...]   (default: 1000 4000 16000)
# Prints one line per N: namespaces, input bytes, output documents, seconds (best of 3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 4000 16000)

(cd "$ROOT" && cargo build --release --quiet)
NETFENCE="$ROOT/target/release/netfence"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/netfence-scaling.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

printf '%10s %12s %10s %10s\n' namespaces bytes documents seconds
for n in "${SIZES[@]}"; do
  input="$WORK/ns-$n.yaml"
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ns-%d\ndata:\n  mode: fast\n", i }' > "$input"
  best=""
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$NETFENCE" render < "$input" > "$WORK/out.yaml"
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  docs=$(grep -c '^kind:' "$WORK/out.yaml")
  printf '%10d %12d %10d %10.3f\n' "$n" "$(stat -c %s "$input")" "$docs" "$best"
done
