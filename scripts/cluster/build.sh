#!/usr/bin/env bash
# Build the pinned Kubernetes binaries, etcd, containerd 2 and CRI-O from the Go module proxy.
#
# Kubernetes is not packaged in Debian or npm, but every release is on the Go module proxy:
# k8s.io/kubernetes@vX.Y.Z plus its staging modules published as k8s.io/*@v0.Y.Z. A scratch module
# outside the repo requires the former and replaces each staging module (which kubernetes' own go.mod
# points at ./staging/...) with its published version. All binaries are built by ONE `go build` so
# the shared packages compile once.
#
# Binaries are cached outside the repo, keyed by version; a warm run does nothing.
#   KNETNS_CACHE_DIR   cache root (default /var/cache/kubectl-netns)
#   KNETNS_FORCE_BUILD=1   rebuild even if the cache is complete
#
# containerd and CRI-O are built with `go install PKG@VERSION`: their own go.mod is the build list,
# exactly as upstream builds them (neither has replace directives), with no scratch module.
#
# Usage: build.sh [k8s|etcd|containerd|crio|runtimes|all]...
#   default: k8s and the runtimes, plus etcd when KNETNS_ETCD=built. Each prints its cold build
#   time once, into its cache dir's .complete stamp too.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cluster/versions.sh
. "$SCRIPT_DIR/versions.sh"

CACHE_DIR=${KNETNS_CACHE_DIR:-/var/cache/kubectl-netns}
K8S_OUT="$CACHE_DIR/k8s-$K8S_VERSION"
ETCD_OUT="$CACHE_DIR/etcd-$ETCD_VERSION"
CONTAINERD_OUT="$CACHE_DIR/containerd-$CONTAINERD_VERSION"
CRIO_OUT="$CACHE_DIR/crio-$CRIO_VERSION"
K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

log() { printf '[build] %s\n' "$*" >&2; }
die() { printf '[build] error: %s\n' "$*" >&2; exit 1; }

# go keeps its work files (GBs for Kubernetes) in a temporary directory that it removes only when it
# ends by itself or on SIGINT: a build stopped otherwise (build-ahead.sh --stop, a killed CI job)
# left them in /tmp. So each build's go works in a directory of its own under the cache, removed
# on exit, and a build starting removes those of builds no longer running.
GOTMP_ROOT="$CACHE_DIR/gotmp"
mkdir -p "$GOTMP_ROOT"
for d in "$GOTMP_ROOT"/*; do
  [[ -d "$d" ]] || continue
  kill -0 "${d##*/}" 2>/dev/null || rm -rf "$d"
done
export GOTMPDIR="$GOTMP_ROOT/$$"
mkdir -p "$GOTMPDIR"
trap 'rm -rf "$GOTMPDIR"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    die "Go >= 1.24 is needed to build Kubernetes from the module proxy (https://go.dev/dl/, e.g. unpack to /usr/local/go)"
  fi
}

# complete DIR BIN... : true when every binary exists and the stamp file says the build finished.
complete() {
  local dir=$1; shift
  [[ -f "$dir/.complete" ]] || return 1
  local b
  for b in "$@"; do [[ -x "$dir/$b" ]] || return 1; done
}

build_k8s() {
  # One build of a release at a time: a second (test-oldest's, while build-ahead.sh's runs) waits
  # for the first and then finds it cached.
  mkdir -p "$CACHE_DIR"
  exec {k8s_lock}>"$CACHE_DIR/.k8s-$K8S_VERSION.lock"
  if ! flock -n "$k8s_lock"; then
    log "kubernetes $K8S_VERSION: waiting for the build already under way (log: $CACHE_DIR/build-ahead.log)"
    flock "$k8s_lock"
  fi
  if [[ "${KNETNS_FORCE_BUILD:-0}" != 1 ]] && complete "$K8S_OUT" "${K8S_BINS[@]}"; then
    log "kubernetes $K8S_VERSION: cached in $K8S_OUT"
    return 0
  fi
  local go; go=$(find_go)
  local start=$SECONDS
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local staging="v0.${K8S_VERSION#v1.}"   # v1.34.4 -> v0.34.4
  local work="$CACHE_DIR/build/k8s-$K8S_VERSION"
  log "kubernetes $K8S_VERSION: cold build in $work (this takes many minutes on 2 cores)"
  rm -rf "$work" "$K8S_OUT.tmp"
  mkdir -p "$work" "$K8S_OUT.tmp"
  cd "$work"

  # kubernetes' go.mod, fetched (and checksum-verified) by the go command itself.
  local kmod
  kmod=$("$go" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r '.GoMod // empty')
  [[ -n "$kmod" && -f "$kmod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"

  # Same go/godebug language settings as upstream, so defaults (GODEBUG) match a release build.
  local gover godebug
  gover=$("$go" mod edit -json "$kmod" | jq -r '.Go')
  godebug=$(grep -E '^godebug ' "$kmod" || true)
  {
    echo "module knetns.local/k8s-build"
    echo
    echo "go $gover"
    [[ -n "$godebug" ]] && { echo; echo "$godebug"; }
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    # Every ./staging/src/k8s.io/X replace becomes k8s.io/X => k8s.io/X v0.Y.Z; any other replace is
    # copied as is (there are none in recent releases).
    "$go" mod edit -json "$kmod" | jq -r --arg v "$staging" '
      .Replace[] |
      if (.New.Path | startswith("./staging/")) then "\t\(.Old.Path) => \(.Old.Path) \($v)"
      else "\t\(.Old.Path)\(if .Old.Version then " " + .Old.Version else "" end) => \(.New.Path)\(if .New.Version then " " + .New.Version else "" end)"
      end'
    echo ")"
  } > go.mod
  log "replaced $(grep -c '=>' go.mod) k8s.io staging modules with $staging"

  local pkgs=() b
  for b in "${K8S_BINS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  # go get resolves the whole build list and records go.sum for exactly these packages.
  "$go" get "${pkgs[@]/%/@$K8S_VERSION}" >/dev/null

  local ldflags="-s -w"
  local pkg
  # kubectl version / kubelet node status read component-base; client-go's copy is set like upstream does.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  CGO_ENABLED=0 "$go" build -trimpath -ldflags "$ldflags" -o "$K8S_OUT.tmp/" "${pkgs[@]}"
  "$K8S_OUT.tmp/kubectl" version --client >/dev/null || die "built kubectl does not run"
  rm -rf "$K8S_OUT"
  mv "$K8S_OUT.tmp" "$K8S_OUT"
  echo "$K8S_VERSION built in $((SECONDS - start))s with $("$go" env GOVERSION)" > "$K8S_OUT/.complete"
  log "kubernetes $K8S_VERSION: cold build took $((SECONDS - start))s -> $K8S_OUT"
}

build_etcd() {
  if [[ "${KNETNS_FORCE_BUILD:-0}" != 1 ]] && complete "$ETCD_OUT" etcd; then
    log "etcd $ETCD_VERSION: cached in $ETCD_OUT"
    return 0
  fi
  local go; go=$(find_go)
  local start=$SECONDS
  local work="$CACHE_DIR/build/etcd-$ETCD_VERSION"
  log "etcd $ETCD_VERSION: cold build in $work"
  rm -rf "$work" "$ETCD_OUT.tmp"
  mkdir -p "$work" "$ETCD_OUT.tmp"
  cd "$work"
  local emod
  emod=$("$go" mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | jq -r '.GoMod // empty')
  [[ -n "$emod" && -f "$emod" ]] || die "could not download go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  printf 'module knetns.local/etcd-build\n\ngo %s\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$("$go" mod edit -json "$emod" | jq -r '.Go')" "$ETCD_VERSION" > go.mod
  "$go" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
  # The server module's main package is the etcd binary (etcdmain); its version is compiled in.
  CGO_ENABLED=0 "$go" build -trimpath -ldflags "-s -w" -o "$ETCD_OUT.tmp/etcd" go.etcd.io/etcd/server/v3
  "$ETCD_OUT.tmp/etcd" --version >/dev/null || die "built etcd does not run"
  rm -rf "$ETCD_OUT"
  mv "$ETCD_OUT.tmp" "$ETCD_OUT"
  echo "$ETCD_VERSION built in $((SECONDS - start))s" > "$ETCD_OUT/.complete"
  log "etcd $ETCD_VERSION: cold build took $((SECONDS - start))s -> $ETCD_OUT"
}

# containerd 2: the daemon, its runc shim and ctr, in one `go install`. No cgo: the snapshotters that
# need it (btrfs) are not built, the shim is built without it upstream too. The version ldflag makes
# the CRI report "containerd://2.4.2" (upstream's Makefile sets it from git).
build_containerd() {
  if [[ "${KNETNS_FORCE_BUILD:-0}" != 1 ]] && complete "$CONTAINERD_OUT" containerd containerd-shim-runc-v2 ctr; then
    log "containerd $CONTAINERD_VERSION: cached in $CONTAINERD_OUT"
    return 0
  fi
  local go; go=$(find_go)
  local start=$SECONDS mod=github.com/containerd/containerd/v2
  log "containerd $CONTAINERD_VERSION: cold build"
  rm -rf "$CONTAINERD_OUT.tmp"
  mkdir -p "$CONTAINERD_OUT.tmp"
  local pkgs=() b
  for b in containerd containerd-shim-runc-v2 ctr; do pkgs+=("$mod/cmd/$b@$CONTAINERD_VERSION"); done
  (cd "$CACHE_DIR" && CGO_ENABLED=0 GOBIN="$CONTAINERD_OUT.tmp" GOFLAGS=-mod=mod "$go" install -trimpath \
    -tags "urfave_cli_no_docs no_btrfs" \
    -ldflags "-s -w -X $mod/version.Version=${CONTAINERD_VERSION#v} -X $mod/version.Revision=$CONTAINERD_VERSION" "${pkgs[@]}")
  "$CONTAINERD_OUT.tmp/containerd" --version >/dev/null || die "built containerd does not run"
  rm -rf "$CONTAINERD_OUT"
  mv "$CONTAINERD_OUT.tmp" "$CONTAINERD_OUT"
  echo "$CONTAINERD_VERSION built in $((SECONDS - start))s with $("$go" env GOVERSION)" > "$CONTAINERD_OUT/.complete"
  log "containerd $CONTAINERD_VERSION: cold build took $((SECONDS - start))s -> $CONTAINERD_OUT"
}

# CRI-O: crio (cgo for libseccomp, as upstream builds it with the seccomp tag) and pinns, its small
# static C helper that pins a pod's namespaces, compiled from the same module's source with gcc.
# The tags are upstream's Makefile's on a machine without btrfs, gpgme or libsubid headers.
build_crio() {
  if [[ "${KNETNS_FORCE_BUILD:-0}" != 1 ]] && complete "$CRIO_OUT" crio pinns; then
    log "cri-o $CRIO_VERSION: cached in $CRIO_OUT"
    return 0
  fi
  local go; go=$(find_go)
  local start=$SECONDS mod=github.com/cri-o/cri-o
  log "cri-o $CRIO_VERSION: cold build"
  rm -rf "$CRIO_OUT.tmp"
  mkdir -p "$CRIO_OUT.tmp"
  local tags="containers_image_ostree_stub containers_image_openpgp exclude_graphdriver_btrfs btrfs_noversion"
  pkg-config --exists libseccomp 2>/dev/null && tags+=" seccomp"
  # Not `go install PKG@VERSION`: that asks the proxy for the module's version list (deprecations),
  # which it refuses for cri-o. A scratch module that requires exactly this version has the same
  # build list (cri-o's go.mod, no replace directives).
  local work="$CACHE_DIR/build/crio-$CRIO_VERSION" src
  rm -rf "$work"
  mkdir -p "$work"
  src=$("$go" mod download -json "$mod@$CRIO_VERSION" | jq -r '.Dir // empty')
  [[ -d "$src/pinns/src" ]] || die "could not download $mod@$CRIO_VERSION (or it has no pinns source)"
  printf 'module knetns.local/crio-build\n\ngo %s\n\nrequire %s %s\n' \
    "$("$go" mod edit -json "$src/go.mod" | jq -r '.Go')" "$mod" "$CRIO_VERSION" > "$work/go.mod"
  (cd "$work" && "$go" get "$mod/cmd/crio@$CRIO_VERSION" >/dev/null &&
    CGO_ENABLED=1 "$go" build -trimpath -tags "$tags" -o "$CRIO_OUT.tmp/crio" \
      -ldflags "-s -w -X $mod/internal/version.buildDate=1970-01-01T00:00:00Z" "$mod/cmd/crio")
  gcc -std=c99 -Os -O3 -Wall -Wextra -static -o "$CRIO_OUT.tmp/pinns" "$src"/pinns/src/*.c
  strip -s "$CRIO_OUT.tmp/pinns"
  "$CRIO_OUT.tmp/crio" --version >/dev/null || die "built crio does not run"
  rm -rf "$CRIO_OUT"
  mv "$CRIO_OUT.tmp" "$CRIO_OUT"
  echo "$CRIO_VERSION built in $((SECONDS - start))s with $("$go" env GOVERSION) (tags: $tags)" > "$CRIO_OUT/.complete"
  log "cri-o $CRIO_VERSION: cold build took $((SECONDS - start))s -> $CRIO_OUT"
}

(($#)) || set -- default
for what in "$@"; do
  case "$what" in
    k8s) build_k8s ;;
    etcd) build_etcd ;;
    containerd) build_containerd ;;
    crio) build_crio ;;
    runtimes) build_containerd; build_crio ;;
    all) build_k8s; build_etcd; build_containerd; build_crio ;;
    default) build_k8s; if [[ "$ETCD_SOURCE" == built ]]; then build_etcd; fi; build_containerd; build_crio ;;
    *) die "usage: build.sh [k8s|etcd|containerd|crio|runtimes|all]..." ;;
  esac
done
