#!/usr/bin/env bash
# Issue 10's table: for every chart of ../shared/corpus/charts, the workload-to-workload
# connections netfence's default configuration cuts, judged by IBM NCA (not by netfence). It runs
# the integration test `keep_release::` with NETFENCE_KEEP_TABLE set, so the table comes from the
# same judge as the proof (see tests/integration/keep_release.rs for the definitions), and prints
# it as markdown. Columns: workloads; pairs before (connected workload pairs on the input);
# chart-admitted (pairs the chart's own policies admit); cut (pairs that lose a connection) of
# all pairs, of the chart-admitted ones and of the inferred ones; pairs after. The pods of
# prometheus-operator resources (Prometheus, Alertmanager) count as workloads (as StatefulSets).
#
# Usage: bench/corpus-cuts.sh [OLD_NETFENCE]
#   OLD_NETFENCE: an older netfence binary, judged the same way (adds "(old)" columns).
# The test asserts too: the table is written even when it fails, and the script says so.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup-tools.sh >&2
# shellcheck source=/dev/null
source .tools/env.sh
TABLE="$(mktemp "${TMPDIR:-/tmp}/netfence-cuts.XXXXXX")"
trap 'rm -f "$TABLE"' EXIT
if [ $# -gt 0 ]; then
  NETFENCE_BEFORE_BIN="$(realpath "$1")"
  export NETFENCE_BEFORE_BIN
fi
status=0
NETFENCE_KEEP_TABLE="$TABLE" cargo test --profile ci --test integration keep_release::render_keeps >&2 || status=$?
[ -s "$TABLE" ] || { echo "no table written" >&2; exit 1; }
cat "$TABLE"
[ "$status" = 0 ] || echo "note: the keep_release test failed (see above); the table is what NCA measured" >&2
