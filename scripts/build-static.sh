#!/usr/bin/env bash
# Builds the release binary of netfence, static on Linux (glibc crt-static, see static-env.sh),
# and prints its path. Used by build-image.sh and package-helm-plugin.sh when no binary is
# given, and by the release workflow (with --target for cross builds).
#
# Usage: bash scripts/build-static.sh [--target TRIPLE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
triple=
if [[ ${1:-} == --target ]]; then
  triple=${2:?--target needs a triple}
fi
# shellcheck source=scripts/static-env.sh
source scripts/static-env.sh ${triple:+"$triple"}
cargo build --release --locked --bin netfence >&2
bin="$PWD/$NETFENCE_TARGET_DIR/release/netfence"
"$bin" --version >&2 || true # cross builds cannot run here
echo "$bin"
