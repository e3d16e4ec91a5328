#!/usr/bin/env bash
# Coverage-guided fuzzing of netfence (fuzz/, cargo-fuzz + libFuzzer on nightly Rust).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 60 s each of render, krm, analysis)
#
# Builds the seed corpus first: every file of ../shared/corpus under 64 kB (as is for render and
# analysis, wrapped into a ResourceList for krm) plus the inputs kept in fuzz/regressions/<target>
# (the interesting ones fuzzing found; the integration tests replay them). The corpus grows in
# fuzz/corpus/<target> (not committed). Each run is bounded: -max_total_time=SECONDS,
# -timeout=10 (seconds per input) and -rss_limit_mb=1024, so a slow or memory-hungry input is a
# failure like a panic; the failing input is saved in fuzz/artifacts/<target>/. No sanitizer:
# netfence is safe Rust (the one unsafe block, cli::stdout_closed, is not on these paths), and
# without one the build and every execution are several times faster. 16 codegen units and an
# unoptimised k8s-openapi (fuzz/Cargo.toml) keep the cold build short: with cargo-fuzz's default
# of one unit it took 9.6 CPU-minutes (41 minutes on a loaded 2-core machine).
#
# Needs cargo-fuzz (scripts/setup-tools.sh installs it into .tools/cargo-fuzz) and a nightly
# toolchain (`rustup toolchain install nightly`). Under CI=true a missing one is a failure;
# otherwise the run is skipped with a SKIP line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(render krm analysis)

export PATH="$PWD/.tools/cargo-fuzz/bin:$PATH"
missing=""
command -v cargo-fuzz >/dev/null || missing="cargo-fuzz (run scripts/setup-tools.sh)"
cargo +nightly --version >/dev/null 2>&1 || missing="${missing:+$missing, }the nightly toolchain (rustup toolchain install nightly)"
if [[ -n $missing ]]; then
  if [[ ${CI:-} == true ]]; then
    echo "fuzz: ERROR (CI=true): missing $missing" >&2
    exit 1
  fi
  echo "fuzz: SKIP: missing $missing" >&2
  exit 0
fi

bash scripts/fuzz-seeds.sh
for target in "${targets[@]}"; do
  echo "== fuzz $target (${seconds}s)" >&2
  # The static-build variables of scripts/test.sh must not reach the sanitizer build.
  env -u CARGO_BUILD_TARGET -u CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS \
    -u CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS \
    nice cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer none --codegen-units 16 "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1
done
