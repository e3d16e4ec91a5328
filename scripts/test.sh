#!/usr/bin/env bash
# The project's test command (README; CI runs it through .ci/run with CI=true):
# installs the real test tools, then format check, clippy with warnings as errors, and every
# test (the unit tests and the one integration-test binary, tests/integration/) built with the
# `ci` profile of Cargo.toml: optimised, without the release profile's LTO (see there why). The
# e2e tests drive the real Helm 3/4, kubectl, kpt and NCA binaries, and build and run the images
# and the Helm plugin archive with podman, kpt, kubectl and Helm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup-tools.sh
# shellcheck source=/dev/null
source .tools/env.sh
# On Linux, cargo builds for the host triple with glibc's crt-static from here on: the netfence
# the tests drive is the static binary the images (FROM scratch) and the plugin archive ship,
# and the tests build those from it (one build, no second compile).
# shellcheck source=scripts/static-env.sh
source scripts/static-env.sh

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo test --profile ci"
cargo test --profile ci
# Each fuzz target for 60 s (scripts/fuzz.sh: seeds from ../shared/corpus and fuzz/regressions,
# libFuzzer's -timeout and -rss_limit_mb as failures). Costs about 4 minutes on 2 cores with the
# nightly build of the targets. Under CI=true a missing cargo-fuzz or nightly fails the run.
echo "== fuzz (60 s per target)"
bash scripts/fuzz.sh "${NETFENCE_FUZZ_SECONDS:-60}"
