# shellcheck shell=bash
# Sourced (not run) by scripts/build-static.sh and scripts/test.sh:
#   source scripts/static-env.sh [TRIPLE]
# Makes every following `cargo build/test` in this shell build for TRIPLE (default: the host)
# with glibc's crt-static on Linux, i.e. a static binary that runs on any Linux and in an
# empty (FROM scratch) image. netfence does no name lookups, so glibc's static-NSS caveat does
# not apply. The target is given explicitly so that the flag reaches only the target's
# artifacts: proc-macros and build scripts cannot be linked statically.
#
# Sets NETFENCE_TARGET_DIR: where cargo then puts the profiles (target/<TRIPLE>). On other
# systems (macOS) nothing changes and NETFENCE_TARGET_DIR is `target`: there binaries link the
# system libraries dynamically, as the platform requires.
netfence_triple="${1:-$(rustc -vV | sed -n 's/^host: //p')}"
case "$netfence_triple" in
  *-linux-gnu*)
    export CARGO_BUILD_TARGET="$netfence_triple"
    netfence_var="CARGO_TARGET_$(printf '%s' "$netfence_triple" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
    export "$netfence_var=-C target-feature=+crt-static"
    NETFENCE_TARGET_DIR="target/$netfence_triple"
    unset netfence_var
    ;;
  *)
    NETFENCE_TARGET_DIR=target
    ;;
esac
export NETFENCE_TARGET_DIR
