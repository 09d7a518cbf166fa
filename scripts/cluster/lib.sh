# shellcheck shell=bash
# shellcheck disable=SC2034  # settings used by the scripts that source this file
# Shared settings and helpers of the local cluster scripts (sourced by up.sh, down.sh, status.sh).
#
# Everything the cluster creates is named or placed so that down.sh can find exactly it and nothing
# else: the knetns-* interfaces, the dirs below, the kubepods and knetns-node* cgroups, the policy
# routing table FORWARD_TABLE, and processes whose pid files are under $PID_DIR.

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
AUDIT_LOG="$LOG_DIR/kube-apiserver-audit.log"   # exec/attach/port-forward requests (up.sh's audit policy)
PID_DIR="$STATE_DIR/pids"
KUBECONFIG_ADMIN="$STATE_DIR/kubeconfig"
CNI_BIN_DIR=/usr/lib/cni
CNI_CACHE_DIR=/var/lib/cni/results             # libcni's fixed cache dir; our files start with $CNI_NETWORK-
NODE_COUNT_FILE="$STATE_DIR/node-count"       # how many nodes the last up.sh made (status.sh reads it)

# Node 1 is this machine's root network namespace, as it always was. Node N >= 2 is a network, mount
# and PID namespace of its own (see node_env and node-init.sh), joined to node 1 by the LAN bridge.
FIRST_NODE_NAME=knetns-node
NODE_IF=knetns-node          # veth end holding node 1's IP (kubelet refuses loopback; no dummy driver)
NODE_PEER_IF=knetns-nodepeer # its peer, a port of the LAN bridge: node 1's "cable" to the other nodes
LAN_BRIDGE=knetns-lan        # the nodes' LAN (10.213.0.0/24), in the root network namespace
CONTROL_PLANE_IP=10.213.0.1  # node 1's IP; the API server listens here
NODE_PREFIX=24
NODE_SUBNET=10.213.0.0/24
CLUSTER_CIDR=10.214.0.0/16   # every node's pod CIDR: node N has 10.214.(N-1).0/24
# IPv6 of dual-stack nodes: node N is fd6b:6e00::N on the LAN, its pods get fd6b:6e01:0:N::/64.
NODE_SUBNET6=fd6b:6e00::/64
CLUSTER_CIDR6=fd6b:6e01::/48
PTP_GATEWAY=169.254.1.1      # the pods' gateway on a ptp node (Calico's); on each host veth, /32
PTP_GATEWAY6=fe80::1         # and its IPv6 twin, link-local like Calico's fe80::ecee:eeff:feee:eeee
BRIDGE=knetns0               # each node's pod bridge (the same name on every node, like cni0)
CNI_NETWORK=knetns
SERVICE_CIDR=10.215.0.0/24
KUBERNETES_SVC_IP=10.215.0.1
# Policy routing table (and rule preference) for what node 1 forwards between its pod bridge and the
# LAN: it holds only the test subnets and an unreachable default, so nothing is forwarded elsewhere.
FORWARD_TABLE=2130
MAX_NODES=8
DEFAULT_NODES=1
APISERVER_PORT=6443
APISERVER_URL="https://$CONTROL_PLANE_IP:$APISERVER_PORT"
ETCD_CLIENT_URL=http://127.0.0.1:12379
ETCD_PEER_URL=http://127.0.0.1:12380
KUBELET_HEALTHZ=http://127.0.0.1:10248/healthz  # in the node's own network namespace
KUBE_PROXY_HEALTHZ_PORT=10256                   # on the node's IP, in its own network namespace
CM_HEALTHZ=https://127.0.0.1:10257/healthz
SCHED_HEALTHZ=https://127.0.0.1:10259/healthz
# Paths kubelet, containerd and libcni use whatever they are told; on node N >= 2 each one is a bind
# mount of the node's own directory (node-init.sh), so two nodes never share them.
# CRI-O's defaults that its config cannot move (containers/image's per-host dirs, its own lock and
# version files) are fixed paths of a CRI-O node too.
FIXED_PATHS=(/var/lib/kubelet/device-plugins /var/log/containers /var/lib/cni /run/containerd /etc/containers
  /var/lib/containers /run/containers /var/lib/crio /run/crio)
# Node flavours: what runs on each node (docs/local-cluster.md, "Node flavours"). A node's runtime is
# containerd (2.x, built), containerd1 (Debian's 1.6) or crio (CRI-O, built); its CNI is bridge (a
# Linux bridge with the gateway, like flannel's cni0) or ptp (routed: a veth per pod, a /32 route on
# the node, the link-local gateway 169.254.1.1 in the pod, no bridge: Calico's and Cilium's topology);
# "dual" makes its pods dual-stack (IPv4 and IPv6). Node 1 is always containerd[1] and bridge, IPv4.
# KNETNS_NODE<N>=runtime,cni[,dual] overrides node N's default.
DEFAULT_FLAVOURS=(- "containerd,bridge" "crio,bridge,dual" "containerd,ptp,dual")

# node_env N: the settings of node N (1-based), as globals the functions below and in up/down/status
# use. Node 1 keeps the single-node layout (flat in the state dirs); node N >= 2 lives in
# $STATE_DIR/nodes/NAME and $RUN_DIR/nodes/NAME, logs and pid files in $LOG_DIR/NAME and $PID_DIR/NAME.
node_env() {
  local n=$1
  NODE_NUM=$n
  NODE_IP=10.213.0.$n
  POD_CIDR=10.214.$((n - 1)).0/24
  POD_GATEWAY=10.214.$((n - 1)).1
  # A bridge without an address of its own takes the lowest MAC of its ports, so it changes as pods
  # come and go, and pods keep sending to the gateway's old MAC until their ARP entry goes stale
  # (cross-node traffic then stalls for seconds). A set address stays. Locally administered, per node.
  BRIDGE_MAC=$(printf '02:6b:6e:00:%02x:01' "$n")
  if ((n == 1)); then
    NODE_NAME=$FIRST_NODE_NAME
    NODE_STATE=$STATE_DIR
    NODE_RUN=$RUN_DIR
    NODE_CONF_DIR=$CONF_DIR
    NODE_LOG_DIR=$LOG_DIR
    NODE_PID_DIR=$PID_DIR
    NODE_HOST_IF=$NODE_IF
    KUBELET_CGROUP_ROOT=/
    KUBELET_CERT=kubelet
    KUBELET_CLIENT_CERT=kubelet-client
  else
    NODE_NAME=knetns-node$n
    NODE_STATE="$STATE_DIR/nodes/$NODE_NAME"
    NODE_RUN="$RUN_DIR/nodes/$NODE_NAME"
    NODE_CONF_DIR="$NODE_STATE/config"
    NODE_LOG_DIR="$LOG_DIR/$NODE_NAME"
    NODE_PID_DIR="$PID_DIR/$NODE_NAME"
    NODE_HOST_IF=knetns-n$n     # root-namespace end of its veth, a LAN bridge port (eth0 inside)
    KUBELET_CGROUP_ROOT=/$NODE_NAME
    KUBELET_CERT=kubelet-$NODE_NAME
    KUBELET_CLIENT_CERT=kubelet-client-$NODE_NAME
  fi
  CNI_CONF_DIR="$NODE_STATE/cni/net.d"
  CNI_IPAM_DIR="$NODE_STATE/cni/ipam"
  KUBELET_ROOT="$NODE_STATE/kubelet"
  POD_LOGS_DIR="$NODE_STATE/pod-logs"
  CONTAINERD_ROOT="$NODE_STATE/containerd"
  CONTAINERD_STATE="$NODE_RUN/containerd/state"
  CONTAINERD_SOCK="$NODE_RUN/containerd/containerd.sock"
  RUNC_ROOT="$NODE_RUN/runc"
  NODE_ROOTS="$NODE_STATE/fixed"   # node N >= 2: sources of the FIXED_PATHS bind mounts
  CRIO_SOCK="$NODE_RUN/crio/crio.sock"
  CRIO_STORAGE="$NODE_STATE/containers/storage"
  CRIO_RUNROOT="$NODE_RUN/containers/storage"
  NODE_IP6=fd6b:6e00::$n
  POD_CIDR6=fd6b:6e01:0:$n::/64
  node_flavour "$n"
  if [[ "$NODE_RUNTIME" == crio ]]; then
    RUNTIME_COMPONENT=crio
    RUNTIME_SOCK=$CRIO_SOCK
  else
    RUNTIME_COMPONENT=containerd
    RUNTIME_SOCK=$CONTAINERD_SOCK
  fi
  NODE_COMPONENTS=("$RUNTIME_COMPONENT" kubelet kube-proxy)
}

# node_flavour N: NODE_RUNTIME, NODE_CNI and NODE_DUAL (1 for dual-stack) of node N, and the one-word
# NODE_FLAVOUR naming them (e.g. crio-bridge-dual), checked.
node_flavour() {
  local n=$1 var="KNETNS_NODE$1" spec
  spec=${!var:-${DEFAULT_FLAVOURS[n]:-containerd,bridge}}
  IFS=, read -r NODE_RUNTIME NODE_CNI NODE_DUAL <<<"$spec"
  case "$NODE_RUNTIME" in containerd | containerd1 | crio) ;; *) die "$var: runtime must be containerd, containerd1 or crio, got '$NODE_RUNTIME'" ;; esac
  case "$NODE_CNI" in bridge | ptp) ;; *) die "$var: CNI must be bridge or ptp, got '$NODE_CNI'" ;; esac
  case "$NODE_DUAL" in '') NODE_DUAL=0 ;; dual) NODE_DUAL=1 ;; *) die "$var: the third word can only be 'dual', got '$NODE_DUAL'" ;; esac
  if ((n == 1)) && [[ "$NODE_RUNTIME" == crio || "$NODE_CNI" == ptp || "$NODE_DUAL" == 1 ]]; then
    die "$var: node 1 is this machine's root namespaces: no CRI-O (its fixed paths), no ptp (it would forward on every pod veth) and no IPv6 (forwarding is machine-wide), got '$spec'"
  fi
  NODE_FLAVOUR="$NODE_RUNTIME-$NODE_CNI"
  ((NODE_DUAL == 0)) || NODE_FLAVOUR+=-dual
}
node_env 1
IMAGE_PAUSE=kubectl-netns.local/pause:dev
# The control plane, in start order (node 1 also runs its NODE_COMPONENTS, as every node does).
CONTROL_PLANE=(etcd kube-apiserver kube-controller-manager kube-scheduler)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

kubectl_admin() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --cache-dir "$STATE_DIR/kube-cache" "$@"; }
# ctr: containerd 2's own when it is built (it speaks to 1.6 as well), else Debian's.
set_ctr() {
  CTR="$CACHE_DIR/containerd-$CONTAINERD_VERSION/ctr"
  [[ -x "$CTR" ]] || CTR=$(command -v ctr || echo ctr)
}
set_ctr
ctr_k8s() { "$CTR" --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }


is_node_component() { [[ "$1" == containerd || "$1" == crio || "$1" == kubelet || "$1" == kube-proxy ]]; }

# Executable of a component, as started by up.sh (used to check a pid really is ours).
component_bin() {
  case "$1" in
    etcd) echo "$ETCD_BIN" ;;
    containerd)
      if [[ "$NODE_RUNTIME" == containerd1 ]]; then command -v containerd || echo /usr/bin/containerd
      else echo "$CACHE_DIR/containerd-$CONTAINERD_VERSION/containerd"; fi ;;
    crio) echo "$CACHE_DIR/crio-$CRIO_VERSION/crio" ;;
    *) echo "$K8S_BIN/$1" ;;
  esac
}

# Pid file of a component: the control plane's in $PID_DIR, a node's own in its NODE_PID_DIR.
pid_file() {
  if is_node_component "$1"; then echo "$NODE_PID_DIR/$1.pid"; else echo "$PID_DIR/$1.pid"; fi
}

# Pid of a running component (of the current node_env for containerd and kubelet), or nothing: the
# pid file must name a live process whose executable is the component's binary (a reused pid fails
# this check). Pids are as the root PID namespace sees them, on every node.
component_pid() {
  local name=$1 pid exe file
  file=$(pid_file "$name")
  [[ -f "$file" ]] || return 1
  pid=$(<"$file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "$exe" == "$(readlink -f "$(component_bin "$name")")" ]] || return 1
  echo "$pid"
}

# Pid of node N's init (PID 1 of its PID namespace, the holder of its network and mount namespaces),
# for the current node_env; nothing for node 1 or when it is not running.
node_init_pid() {
  local pid cmd
  ((NODE_NUM > 1)) && [[ -f "$NODE_PID_DIR/init.pid" ]] || return 1
  pid=$(<"$NODE_PID_DIR/init.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *"/node-init.sh $NODE_NUM "* ]] || return 1
  echo "$pid"
}

# in_node_mnt CMD...: run CMD in the current node's network and mount namespaces.
in_node_mnt() {
  if ((NODE_NUM == 1)); then "$@"; return; fi
  local init
  init=$(node_init_pid) || return 1
  nsenter -t "$init" -n -m -- "$@"
}

# in_node CMD...: run CMD in the current node's network namespace (node 1: the root one).
in_node() {
  if ((NODE_NUM == 1)); then "$@"; return; fi
  local init
  init=$(node_init_pid) || return 1
  nsenter -t "$init" -n -- "$@"
}

# The extra nodes (numbers >= 2) that have any state on this machine, sorted.
present_extra_nodes() {
  local d n
  for d in "$STATE_DIR"/nodes/knetns-node* "$PID_DIR"/knetns-node* "$RUN_DIR"/nodes/knetns-node*; do
    [[ -d "$d" ]] || continue
    n=${d##*/knetns-node}
    [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 2)) && echo "$n"
  done | sort -nu
}

# How many nodes the last up.sh made (1 when it never recorded it).
configured_nodes() {
  local n=1
  [[ -f "$NODE_COUNT_FILE" ]] && n=$(<"$NODE_COUNT_FILE")
  [[ "$n" =~ ^[0-9]+$ ]] || n=1
  echo "$n"
}

# HTTP(S) health endpoint answers 200 "ok" (curl run by the caller's prefix, e.g. in_node).
http_ok() {
  local body
  body=$("$@" 2>/dev/null) || return 1
  [[ "$body" == ok || "$body" == *'"health":"true"'* ]]
}
curl_get() { curl -fsS --max-time 3 -k "$@"; }

etcd_healthy() { http_ok curl_get "$ETCD_CLIENT_URL/health"; }
containerd_healthy() { [[ -S "$CONTAINERD_SOCK" ]] && "$CTR" --address "$CONTAINERD_SOCK" --timeout 3s version >/dev/null 2>&1; }
# CRI-O answers plain HTTP on its CRI socket too (what `crio status info` asks).
crio_healthy() { [[ -S "$CRIO_SOCK" ]] && curl -fsS --max-time 3 --unix-socket "$CRIO_SOCK" http://crio/info >/dev/null 2>&1; }
apiserver_healthy() { [[ -f "$KUBECONFIG_ADMIN" ]] && [[ "$(kubectl_admin get --raw /readyz --request-timeout=3s 2>/dev/null)" == ok ]]; }
controller_manager_healthy() { http_ok curl_get "$CM_HEALTHZ"; }
scheduler_healthy() { http_ok curl_get "$SCHED_HEALTHZ"; }
# kubelet's healthz listens on loopback in the node's own network namespace.
kubelet_healthy() { http_ok in_node curl -fsS --max-time 3 "$KUBELET_HEALTHZ"; }
# kube-proxy's healthz answers 200 with JSON once its rules are synced.
kube_proxy_healthy() { in_node curl -fsS --max-time 3 -o /dev/null "http://$NODE_IP:$KUBE_PROXY_HEALTHZ_PORT/healthz" 2>/dev/null; }
node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" --request-timeout=3s \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

component_healthy() {
  case "$1" in
    etcd) etcd_healthy ;;
    containerd) containerd_healthy ;;
    crio) crio_healthy ;;
    kube-apiserver) apiserver_healthy ;;
    kube-controller-manager) controller_manager_healthy ;;
    kube-scheduler) scheduler_healthy ;;
    kubelet) kubelet_healthy ;;
    kube-proxy) kube_proxy_healthy ;;
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

# Back to a single node's routing: node 1 forwards nothing (see cluster_routes in up.sh).
remove_forwarding() {
  local m
  while ip rule del pref "$FORWARD_TABLE" 2>/dev/null; do :; done
  ip route flush table "$FORWARD_TABLE" 2>/dev/null || true
  for m in "$BRIDGE" "$NODE_IF"; do
    if [[ -f "/proc/sys/net/ipv4/conf/$m/forwarding" ]]; then echo 0 > "/proc/sys/net/ipv4/conf/$m/forwarding"; fi
  done
}
