#!/usr/bin/env bash
# The project's test command (README; CI runs it through .ci/run with CI=true):
# installs the real test tools, then format check, clippy with warnings as errors, and every
# test in release mode (the e2e tests drive the real Helm 3/4, kubectl, kpt and NCA binaries).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup-tools.sh
# shellcheck source=/dev/null
source .tools/env.sh

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo test --release"
cargo test --release
