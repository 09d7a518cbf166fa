# shellcheck shell=bash
# shellcheck disable=SC2034  # settings used by the scripts that source this file
# Shared settings and helpers of the local cluster scripts (sourced by up.sh, down.sh, status.sh).
#
# Everything the cluster creates is named or placed so that down.sh can find exactly it and nothing
# else: the knetns-* interfaces, the dirs below, the kubepods cgroups, and processes whose pid files
# are under $PID_DIR.

CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$CLUSTER_DIR/../.." && pwd)
# shellcheck source=scripts/cluster/versions.sh
. "$CLUSTER_DIR/versions.sh"

CACHE_DIR=${KNETNS_CACHE_DIR:-/var/cache/kubectl-netns}
K8S_BIN="$CACHE_DIR/k8s-$K8S_VERSION"
if [[ "$ETCD_SOURCE" == built ]]; then ETCD_BIN="$CACHE_DIR/etcd-$ETCD_VERSION/etcd"; else ETCD_BIN=/usr/bin/etcd; fi

STATE_DIR=/var/lib/kubectl-netns-cluster      # persistent state: pki, etcd data, kubelet root, logs
RUN_DIR=/run/kubectl-netns                    # runtime state: containerd socket/state, runc root
PKI_DIR="$STATE_DIR/pki"
CONF_DIR="$STATE_DIR/config"
LOG_DIR="$STATE_DIR/logs"
PID_DIR="$STATE_DIR/pids"
KUBECONFIG_ADMIN="$STATE_DIR/kubeconfig"
CNI_CONF_DIR="$STATE_DIR/cni/net.d"
CNI_IPAM_DIR="$STATE_DIR/cni/ipam"
CNI_BIN_DIR=/usr/lib/cni
KUBELET_ROOT="$STATE_DIR/kubelet"
CONTAINERD_ROOT="$STATE_DIR/containerd"
CONTAINERD_STATE="$RUN_DIR/containerd/state"
CONTAINERD_SOCK="$RUN_DIR/containerd/containerd.sock"
RUNC_ROOT="$RUN_DIR/runc"
CNI_CACHE_DIR=/var/lib/cni/results             # libcni's fixed cache dir; our files start with $CNI_NETWORK-

NODE_NAME=knetns-node
NODE_IF=knetns-node          # veth end holding the node IP (kubelet refuses loopback; no dummy driver)
NODE_PEER_IF=knetns-nodepeer # its peer, also in the root namespace, only there to keep the link up
NODE_IP=10.213.0.1
NODE_PREFIX=24
NODE_SUBNET=10.213.0.0/24
BRIDGE=knetns0
CNI_NETWORK=knetns
POD_CIDR=10.214.0.0/24
POD_GATEWAY=10.214.0.1
SERVICE_CIDR=10.215.0.0/24
KUBERNETES_SVC_IP=10.215.0.1
APISERVER_PORT=6443
APISERVER_URL="https://$NODE_IP:$APISERVER_PORT"
ETCD_CLIENT_URL=http://127.0.0.1:12379
ETCD_PEER_URL=http://127.0.0.1:12380
KUBELET_HEALTHZ=http://127.0.0.1:10248/healthz
CM_HEALTHZ=https://127.0.0.1:10257/healthz
SCHED_HEALTHZ=https://127.0.0.1:10259/healthz

IMAGE_PAUSE=kubectl-netns.local/pause:dev
# Components in start order; down stops them in reverse.
COMPONENTS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

kubectl_admin() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --cache-dir "$STATE_DIR/kube-cache" "$@"; }
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

# Executable of a component, as started by up.sh (used to check a pid really is ours).
component_bin() {
  case "$1" in
    etcd) echo "$ETCD_BIN" ;;
    containerd) command -v containerd || echo /usr/bin/containerd ;;
    *) echo "$K8S_BIN/$1" ;;
  esac
}

# Pid of a running component, or nothing: the pid file must name a live process whose executable
# is the component's binary (a reused pid fails this check).
component_pid() {
  local name=$1 pid exe
  [[ -f "$PID_DIR/$name.pid" ]] || return 1
  pid=$(<"$PID_DIR/$name.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "$exe" == "$(readlink -f "$(component_bin "$name")")" ]] || return 1
  echo "$pid"
}

# HTTP(S) health endpoint answers 200 "ok".
http_ok() {
  local body
  body=$(curl -fsS --max-time 3 -k "$@" 2>/dev/null) || return 1
  [[ "$body" == ok || "$body" == *'"health":"true"'* ]]
}

etcd_healthy() { http_ok "$ETCD_CLIENT_URL/health"; }
containerd_healthy() { [[ -S "$CONTAINERD_SOCK" ]] && ctr --address "$CONTAINERD_SOCK" --timeout 3s version >/dev/null 2>&1; }
apiserver_healthy() { [[ -f "$KUBECONFIG_ADMIN" ]] && [[ "$(kubectl_admin get --raw /readyz --request-timeout=3s 2>/dev/null)" == ok ]]; }
controller_manager_healthy() { http_ok "$CM_HEALTHZ"; }
scheduler_healthy() { http_ok "$SCHED_HEALTHZ"; }
kubelet_healthy() { http_ok "$KUBELET_HEALTHZ"; }
node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" --request-timeout=3s \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

component_healthy() {
  case "$1" in
    etcd) etcd_healthy ;;
    containerd) containerd_healthy ;;
    kube-apiserver) apiserver_healthy ;;
    kube-controller-manager) controller_manager_healthy ;;
    kube-scheduler) scheduler_healthy ;;
    kubelet) kubelet_healthy ;;
  esac
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.5 s; says what it gave up on.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}
