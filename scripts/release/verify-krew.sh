#!/usr/bin/env bash
# The release check with the real tools, on the artifacts `npm run release` wrote:
#   1. krew's own validator on netns.yaml as released (-skip-install: its URLs are not live yet),
#      then on a copy whose URLs point at a loopback server of the archives, which makes it
#      download, checksum and install every platform's archive as krew would;
#   2. real krew in a throwaway KREW_ROOT: kubectl krew install --manifest --archive (linux amd64);
#   3. with a PATH of only krew's bin and kubectl's dir (no Node anywhere): `kubectl plugin list`,
#      `kubectl netns version`, and completion through the helper the caveats tell users to copy;
#   4. the README's single-executable route: sha256sum -c SHA256SUMS, tar -xzf into a directory,
#      and kubectl finds the plugin there;
#   5. the linux-arm64 executable under qemu-user, if qemu-aarch64-static and arm64 libraries
#      are installed (they are not required; the step says when it did not run);
#   6. against the local cluster, if it answers /readyz: `kubectl netns exec` in a throwaway
#      namespace and pod, still without Node.
# krew and the validator are built from the Go module proxy into the tools cache (scripts/tools).
#
# Usage: scripts/release/verify-krew.sh [--no-cluster] [RELEASE_DIR]   (default: release/)
# stdout: nothing; stderr: each step, what it checked and how long it took.
# Exit: 0 all checked; 1 a check failed; 2 usage; 3 all but the cluster part passed and the local
# cluster was not available (the cluster part did not run).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=scripts/cluster/versions.sh
. "$REPO/scripts/cluster/versions.sh"
CACHE_DIR=${KNETNS_CACHE_DIR:-/var/cache/kubectl-netns}
KUBECTL=${KUBECTL:-$CACHE_DIR/k8s-$K8S_VERSION/kubectl}
CLUSTER_KUBECONFIG=${KNETNS_KUBECONFIG:-/var/lib/kubectl-netns-cluster/kubeconfig}
DEBUG_IMAGE=kubectl-netns.local/debug:dev
WEB_IMAGE=kubectl-netns.local/web:dev
NODE_BIN="$REPO/node_modules/.bin/node"

log() { printf '[verify-krew] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
step_started=$SECONDS
step() { log "$* (+$((SECONDS - step_started))s)"; }

cluster=yes
release_dir=
for arg in "$@"; do
  case "$arg" in
    --no-cluster) cluster=no ;;
    -*) log "usage: $0 [--no-cluster] [RELEASE_DIR]"; exit 2 ;;
    *) release_dir=$arg ;;
  esac
done
release_dir=$(cd "${release_dir:-$REPO/release}" && pwd)
manifest="$release_dir/netns.yaml"
[[ -f "$manifest" ]] || die "no $manifest: run npm run release first"
[[ -x "$KUBECTL" ]] || die "no kubectl at $KUBECTL (scripts/cluster/build.sh builds it; or set KUBECTL)"
version=$(sed -n 's/^  version: v//p' "$manifest")
archive="$release_dir/kubectl-netns_${version}_linux_amd64.tar.gz"
[[ -f "$archive" ]] || die "no $archive"

tmp=$(mktemp -d /tmp/knetns-verify-krew-XXXXXX)
server_pid=
ns=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  if [[ -n "$ns" ]]; then
    "$KUBECTL" --kubeconfig "$CLUSTER_KUBECONFIG" delete namespace "$ns" --ignore-not-found --wait=false \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- tools -------------------------------------------------------------------------------------
tools=$("$REPO/scripts/tools/build.sh" krew validate-krew-manifest) || die "could not build krew and its validator"
krew=$(sed -n 's/^krew=//p' <<<"$tools")
validator=$(sed -n 's/^validate-krew-manifest=//p' <<<"$tools")
# The validator installs each platform by running `kubectl krew install`: both on its PATH.
mkdir -p "$tmp/tools-bin"
ln -s "$krew" "$tmp/tools-bin/kubectl-krew"
ln -s "$KUBECTL" "$tmp/tools-bin/kubectl"
step "tools: $krew, $validator"

# --- 1. krew's validator ---------------------------------------------------------------------------
# It takes the plugin's name from the file name, so every copy is called netns.yaml.
if ! "$validator" -manifest "$manifest" -skip-install 2>&1 | sed 's/^/  validator: /' >&2; then
  die "validate-krew-manifest rejected $manifest"
fi
step "validator accepts $manifest (-skip-install)"

mkfifo "$tmp/url"
"$NODE_BIN" "$HERE/serve.ts" "$release_dir" >"$tmp/url" &
server_pid=$!
read -r base_url <"$tmp/url"
mkdir "$tmp/local"
sed -E "s#^( +uri: ).*/([^/]+)\$#\\1$base_url/\\2#" "$manifest" >"$tmp/local/netns.yaml"
grep -q "uri: $base_url/" "$tmp/local/netns.yaml" || die "could not point the manifest's URLs at $base_url"
if ! PATH="$tmp/tools-bin:$PATH" KREW_ROOT="$tmp/validator-root" "$validator" -manifest "$tmp/local/netns.yaml" 2>&1 | sed 's/^/  validator: /' >&2; then
  die "validate-krew-manifest could not install every platform's archive"
fi
step "validator downloaded, checksummed and installed all $(grep -c 'uri:' "$manifest") platforms from $base_url"
kill "$server_pid"
server_pid=

# --- 2. krew install ---------------------------------------------------------------------------
export KREW_ROOT="$tmp/krew"
if ! PATH="$tmp/tools-bin:$PATH" "$KUBECTL" krew install --manifest="$manifest" --archive="$archive" </dev/null 2>&1 |
  sed 's/^/  krew: /' >&2; then
  die "kubectl krew install failed"
fi
[[ -x "$KREW_ROOT/bin/kubectl-netns" ]] || die "krew did not link $KREW_ROOT/bin/kubectl-netns"
step "kubectl krew install --manifest=netns.yaml --archive=$(basename "$archive") (KREW_ROOT=$KREW_ROOT)"

# --- 3. no Node on PATH ----------------------------------------------------------------------------
bare_path="$KREW_ROOT/bin:$(dirname "$KUBECTL")"
bare() { env -i HOME="$tmp" PATH="$bare_path" KUBECONFIG="$CLUSTER_KUBECONFIG" "$@"; }
if bare /bin/sh -c 'command -v node' >/dev/null; then die "node is on the bare PATH $bare_path"; fi
plugins=$(bare kubectl plugin list 2>/dev/null) || die "kubectl plugin list failed"
grep -qx "$KREW_ROOT/bin/kubectl-netns" <<<"$plugins" || die "kubectl plugin list does not show it: $plugins"
got=$(bare kubectl netns version) || die "kubectl netns version failed"
[[ "$got" =~ ^kubectl-netns\ v$version\ \(commit\ [0-9a-f]{12}(-dirty)?\)$ ]] || die "kubectl netns version said: $got"
step "no node on PATH; kubectl plugin list finds it; kubectl netns version: $got"

cp "$KREW_ROOT/store/netns/v$version/kubectl_complete-netns" "$KREW_ROOT/bin/"
got=$(bare kubectl __complete netns ex 2>/dev/null) || die "kubectl __complete netns failed"
[[ "$got" == $'exec\n:4' ]] || die "completion of 'kubectl netns ex' gave: $got"
step "completion through the copied helper: kubectl netns ex<TAB> -> exec"

# --- 4. single executable, unpacked by hand ------------------------------------------------------
(cd "$release_dir" && sha256sum --quiet -c --ignore-missing SHA256SUMS) || die "sha256sum -c SHA256SUMS failed"
mkdir "$tmp/manual"
tar -xzf "$archive" -C "$tmp/manual" kubectl-netns kubectl_complete-netns
manual() { env -i HOME="$tmp" PATH="$tmp/manual:$(dirname "$KUBECTL")" "$@"; }
plugins=$(manual kubectl plugin list 2>/dev/null) || die "kubectl plugin list failed"
grep -qx "$tmp/manual/kubectl-netns" <<<"$plugins" || die "kubectl plugin list does not show it: $plugins"
got=$(manual kubectl netns version) || die "kubectl netns version failed"
[[ "$(manual kubectl __complete netns ex 2>/dev/null)" == $'exec\n:4' ]] || die "completion of the unpacked helper failed"
step "SHA256SUMS checks out; unpacked by hand: kubectl plugin list finds it, completion works: $got"

# --- 5. linux-arm64 under emulation (optional) ------------------------------------------------------
arm64_libs=/usr/aarch64-linux-gnu
arm64_archive="$release_dir/kubectl-netns_${version}_linux_arm64.tar.gz"
if [[ ! -f "$arm64_archive" ]]; then
  log "linux-arm64 under emulation NOT RUN (no linux_arm64 archive in this release)"
elif command -v qemu-aarch64-static >/dev/null && [[ -e "$arm64_libs/lib/ld-linux-aarch64.so.1" ]]; then
  mkdir "$tmp/arm64"
  tar -xzf "$arm64_archive" -C "$tmp/arm64" kubectl-netns
  got=$(qemu-aarch64-static -L "$arm64_libs" "$tmp/arm64/kubectl-netns" version -o json) ||
    die "the linux-arm64 executable failed under qemu"
  grep -q '"platform": "linux/arm64"' <<<"$got" || die "the linux-arm64 executable says: $got"
  step "linux-arm64 executable under qemu-aarch64-static: version -o json says platform linux/arm64"
else
  log "linux-arm64 under emulation NOT RUN (apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross)"
fi

# --- 6. the local cluster ------------------------------------------------------------------------------
if [[ "$cluster" == no ]]; then
  log "cluster part skipped (--no-cluster)"
  exit 0
fi
ready=$("$KUBECTL" --kubeconfig "$CLUSTER_KUBECONFIG" get --raw /readyz --request-timeout=5s 2>/dev/null || true)
if [[ "$ready" != ok ]]; then
  log "cluster part NOT RUN: the local cluster does not answer /readyz (start it: sudo npm run cluster:up)"
  exit 3
fi
k() { "$KUBECTL" --kubeconfig "$CLUSTER_KUBECONFIG" "$@"; }
ns="knetns-krew-$$"
k create namespace "$ns" >/dev/null
k label namespace "$ns" app.kubernetes.io/part-of=kubectl-netns-e2e >/dev/null
k run web -n "$ns" --image "$WEB_IMAGE" --image-pull-policy IfNotPresent --restart Never >/dev/null
k wait -n "$ns" --for=condition=Ready pod/web --timeout=90s >/dev/null || die "pod $ns/web did not become Ready"
step "namespace $ns with pod web ($WEB_IMAGE) Ready"
out=$(bare kubectl netns exec web -n "$ns" --image "$DEBUG_IMAGE" -- cat /proc/net/dev) ||
  die "kubectl netns exec failed"
grep -q 'eth0:' <<<"$out" || die "kubectl netns exec printed no eth0: $out"
step "kubectl netns exec web -- cat /proc/net/dev (no node on PATH): the pod's eth0 is there"
k delete namespace "$ns" --wait=false >/dev/null
ns=
step "all checks passed"
