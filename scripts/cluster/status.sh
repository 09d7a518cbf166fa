#!/usr/bin/env bash
# Print what of the local cluster is running and healthy: the control plane, then each node. Exit 0
# only when all of it is, for as many nodes as the last up.sh made.
#
# Usage: bash scripts/cluster/status.sh        (npm run cluster:status)
set -euo pipefail

# shellcheck source=scripts/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BAD=0
# Administratively up (a bridge without ports reports operstate DOWN, which is fine).
# has_link CMD...: CMD (ip -o link show dev X, maybe in a node) shows an interface that is up.
# (Read whole, then matched: grep -q could exit before ip has written, and pipefail would count it.)
has_link() {
  local out
  out=$("$@" 2>/dev/null) || return 1
  [[ "$out" =~ \<([A-Z_-]+,)*UP[,\>] ]]
}
row() { printf '  %-24s %-8s %s\n' "$1" "$2" "${3:-}"; }
check() { # check NAME DETAIL CMD...
  local name=$1 detail=$2; shift 2
  if "$@"; then row "$name" ok "$detail"; else row "$name" DOWN "$detail"; BAD=1; fi
}
component() { # component NAME: its pid and health
  local c=$1 pid logf
  if is_node_component "$c"; then logf="$NODE_LOG_DIR/$c.log"; else logf="$LOG_DIR/$c.log"; fi
  if pid=$(component_pid "$c"); then
    check "$c" "pid $pid, log $logf" component_healthy "$c"
  else
    row "$c" DOWN "not running"
    BAD=1
  fi
}
link_in_node() { has_link in_node ip -o link show dev "$1"; }
# NAME's pods' namespaces are visible only from its own PID namespace: say how to get in.
namespaces_of() {
  local init=$1 ns
  ns=$(stat -L -c %i "/proc/$init/ns/net" "/proc/$init/ns/mnt" "/proc/$init/ns/pid" 2>/dev/null | paste -sd/) || return 1
  echo "net/mnt/pid $ns; enter with: nsenter -t $init -a"
}

node_status() {
  local n=$1 init version images node_ok=1 before=$BAD
  node_env "$n"
  echo "node $NODE_NAME ($NODE_FLAVOUR, $NODE_IP, pods $POD_CIDR$( ((NODE_DUAL)) && echo " $POD_CIDR6"))"
  if ((n > 1)); then
    if init=$(node_init_pid); then
      row "namespaces" ok "init pid $init, $(namespaces_of "$init")"
    else
      row "namespaces" DOWN "not running"
      BAD=1
    fi
  fi
  for c in "${NODE_COMPONENTS[@]}"; do component "$c"; done
  if ((n == 1)); then
    check "interface $NODE_IF" "$NODE_IP/$NODE_PREFIX, port ${NODE_PEER_IF} on $LAN_BRIDGE" has_link ip -o link show dev "$NODE_IF"
    check "bridge $BRIDGE" "$POD_GATEWAY, pods $POD_CIDR" has_link ip -o link show dev "$BRIDGE"
  else
    check "interface eth0" "$NODE_IP/$NODE_PREFIX, peer $NODE_HOST_IF on $LAN_BRIDGE" link_in_node eth0
    if [[ "$NODE_CNI" == bridge ]]; then
      check "bridge $BRIDGE" "$POD_GATEWAY, pods $POD_CIDR (in the node's network namespace)" link_in_node "$BRIDGE"
    else
      row "no bridge" ok "ptp: a veth per pod, gateway $PTP_GATEWAY on each host end"
    fi
  fi
  ((BAD == before)) || node_ok=0
  if ((node_ok)) && apiserver_healthy; then
    version=$(kubectl_admin get node "$NODE_NAME" -o 'jsonpath={.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}' 2>/dev/null || true)
    check "Ready" "$version" node_ready
    if [[ "$NODE_RUNTIME" == crio ]]; then
      images=$(jq -r '.[].names[]?' "$CRIO_STORAGE/overlay-images/images.json" 2>/dev/null | grep -c '^kubectl-netns.local/' || true)
    else
      images=$(ctr_k8s images ls -q 2>/dev/null | grep -c '^kubectl-netns.local/' || true)
    fi
    check "images" "$images kubectl-netns.local images in its $RUNTIME_COMPONENT" test "$images" -ge 3
  fi
}

main() {
  [[ $EUID -eq 0 ]] || die "needs root (reads pid files and containerd's socket): run it with sudo"
  local c n count
  count=$(configured_nodes)
  echo "control plane"
  for c in "${CONTROL_PLANE[@]}"; do component "$c"; done
  check "bridge $LAN_BRIDGE" "the nodes' LAN, $NODE_SUBNET" has_link ip -o link show dev "$LAN_BRIDGE"
  check "forwarding" "node 1 forwards only what arrives on $BRIDGE or $NODE_IF, by table $FORWARD_TABLE" test -n "$(ip rule show pref "$FORWARD_TABLE")"
  for ((n = 1; n <= count; n++)); do node_status "$n"; done
  # Nodes beyond the configured count should not exist: show them, as a problem.
  for n in $(present_extra_nodes); do
    ((n > count)) || continue
    node_status "$n"
    echo "  (node $n is beyond the $count node(s) up.sh made)"
    BAD=1
  done
  node_env 1
  echo
  if ((BAD == 0)); then
    echo "healthy: Kubernetes $K8S_VERSION at $APISERVER_URL, $count node(s)"
    echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
    # The public default debug image is not reachable from this cluster; the locally built one is.
    echo "export KUBECTL_NETNS_IMAGE=kubectl-netns.local/debug:dev"
  else
    echo "not healthy: run npm run cluster:up (logs in $LOG_DIR)"
  fi
  return "$BAD"
}

main "$@"
