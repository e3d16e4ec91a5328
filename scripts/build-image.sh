#!/usr/bin/env bash
# Builds the two netfence images FROM scratch, with podman or docker (whichever is present;
# CONTAINER_ENGINE=podman|docker chooses):
#
#   localhost/netfence:dev              the KRM function (kustomize `container:`, kpt --image):
#                                       /usr/local/bin/netfence as entrypoint, user 65534
#                                       (nobody, in /etc/passwd: kpt and kustomize run
#                                       functions with --user nobody)
#   localhost/netfence-argocd-cmp:dev   the Argo CD CMP sidecar: netfence, helm and kubectl
#                                       (kustomize apps) in /usr/local/bin, plugin.yaml at
#                                       /home/argocd/cmp-server/config/plugin.yaml, user 999,
#                                       CA certificates for `helm dependency build`
#
# The images are a staged root file system copied into an empty image by the Containerfiles
# functions/kustomize/Containerfile and functions/argocd/Containerfile, one directory per
# platform (`linux-amd64/`, `linux-arm64/`). The release workflow stages both platforms with
# --stage-only and builds the same Containerfiles multi-arch with docker buildx.
#
# Usage: bash scripts/build-image.sh [options]
#   --binary PATH     a static netfence binary (default: scripts/build-static.sh builds one)
#   --helm PATH       the helm binary for the sidecar (default: $NETFENCE_HELM4 or
#                     .tools/bin/helm4, the npm layer scripts/setup-tools.sh installs)
#   --kubectl PATH    the kubectl binary for the sidecar (default: $NETFENCE_KUBECTL or
#                     .tools/bin/kubectl, same layer)
#   --tag TAG         image tag (default: dev)
#   --arch ARCH       platform directory to stage, linux-ARCH (default: the host's)
#   --stage-only DIR  stage DIR/krm and DIR/argocd for ARCH and stop (no engine needed)
#   --only krm|argocd build one of the two images
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

binary='' helm='' kubectl='' tag=dev stage_only='' only=''
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
while (($#)); do
  case "$1" in
    --binary) binary=$2 ;;
    --helm) helm=$2 ;;
    --kubectl) kubectl=$2 ;;
    --tag) tag=$2 ;;
    --arch) arch=$2 ;;
    --stage-only) stage_only=$2 ;;
    --only) only=$2 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build-image: unknown argument $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift 2
done
log() { echo "build-image: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
source_url="${NETFENCE_SOURCE_URL:-https://github.com/netfence/netfence}"

[[ -n $binary ]] || binary="$(bash scripts/build-static.sh)"
[[ -x $binary ]] || die "no netfence binary at $binary"
# FROM scratch has no libraries: refuse a dynamically linked binary.
if command -v ldd >/dev/null && ldd "$binary" 2>&1 | grep -q '=>'; then
  die "$binary is dynamically linked; build it with scripts/build-static.sh"
fi
want_argocd=true
[[ $only == krm ]] && want_argocd=false
if $want_argocd; then
  helm="${helm:-${NETFENCE_HELM4:-$REPO/.tools/bin/helm4}}"
  kubectl="${kubectl:-${NETFENCE_KUBECTL:-$REPO/.tools/bin/kubectl}}"
  [[ -x $helm ]] || die "no helm binary at $helm (run scripts/setup-tools.sh or pass --helm)"
  [[ -x $kubectl ]] || die "no kubectl binary at $kubectl (run scripts/setup-tools.sh or pass --kubectl)"
fi

# stage_krm DIR / stage_argocd DIR: the root file system of each image, under DIR/linux-ARCH.
install_bin() { # install_bin SRC DEST: copy, stripped when the host's strip understands it
  mkdir -p "$(dirname "$2")"
  strip -o "$2" "$1" 2>/dev/null || cp "$1" "$2"
  chmod 0755 "$2"
}
passwd_files() { # passwd_files ROOT: the users the images run as
  mkdir -p "$1/etc"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'argocd:x:999:999:argocd:/home/argocd:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' >"$1/etc/passwd"
  printf '%s\n' 'root:x:0:' 'argocd:x:999:' 'nogroup:x:65534:' >"$1/etc/group"
  mkdir -p "$1/tmp"
  chmod 1777 "$1/tmp"
}
# Only this platform's directory is replaced: the release stages amd64 and arm64 side by side.
stage_krm() {
  local root=$1/linux-$arch
  rm -rf "$root" && mkdir -p "$root"
  passwd_files "$root"
  install_bin "$binary" "$root/usr/local/bin/netfence"
}
stage_argocd() {
  local root=$1/linux-$arch
  rm -rf "$root" && mkdir -p "$root"
  passwd_files "$root"
  install_bin "$binary" "$root/usr/local/bin/netfence"
  install_bin "$helm" "$root/usr/local/bin/helm"
  install_bin "$kubectl" "$root/usr/local/bin/kubectl"
  mkdir -p "$root/home/argocd/cmp-server/config" "$root/etc/ssl/certs"
  cp functions/argocd/plugin.yaml "$root/home/argocd/cmp-server/config/plugin.yaml"
  if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  else
    log "WARNING: no /etc/ssl/certs/ca-certificates.crt: the sidecar cannot fetch chart dependencies over HTTPS"
  fi
}

stage="${stage_only:-$REPO/target/image-context}"
[[ $only == argocd ]] || stage_krm "$stage/krm"
$want_argocd && stage_argocd "$stage/argocd"
if [[ -n $stage_only ]]; then
  log "staged $stage/{krm,argocd}/linux-$arch"
  exit 0
fi

engine="${CONTAINER_ENGINE:-}"
if [[ -z $engine ]]; then
  if command -v podman >/dev/null; then engine=podman; elif command -v docker >/dev/null; then engine=docker; fi
fi
[[ -n $engine ]] || die "neither podman nor docker found (scripts/setup-tools.sh installs podman)"
# The sandbox configuration written by setup-tools.sh, unless the caller chose one.
if [[ $engine == podman && -z ${CONTAINERS_CONF:-} && -f $REPO/.tools/containers.conf ]]; then
  export CONTAINERS_CONF=$REPO/.tools/containers.conf
fi

build() { # build CONTAINERFILE CONTEXT IMAGE
  local start=$SECONDS
  "$engine" build --quiet \
    --build-arg TARGETOS=linux --build-arg "TARGETARCH=$arch" \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE=$source_url" \
    -f "$1" -t "$3" "$2" >/dev/null
  local size
  size="$("$engine" image inspect --format '{{.Size}}' "$3")"
  log "built $3 with $engine in $((SECONDS - start)) s: $((size / 1000000)) MB ($size bytes)"
}
[[ $only == argocd ]] || build functions/kustomize/Containerfile "$stage/krm" "localhost/netfence:$tag"
$want_argocd && build functions/argocd/Containerfile "$stage/argocd" "localhost/netfence-argocd-cmp:$tag"
exit 0
