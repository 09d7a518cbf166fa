#!/usr/bin/env bash
# Print what of the local cluster is running and healthy. Exit 0 only when all of it is.
#
# Usage: bash scripts/cluster/status.sh        (npm run cluster:status)
set -euo pipefail

# shellcheck source=scripts/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BAD=0
# Administratively up (a bridge without ports reports operstate DOWN, which is fine).
has_link() { ip -o link show dev "$1" 2>/dev/null | grep -qE '<([A-Z_-]+,)*UP[,>]'; }
row() { printf '%-24s %-8s %s\n' "$1" "$2" "${3:-}"; }
check() { # check NAME DETAIL CMD...
  local name=$1 detail=$2; shift 2
  if "$@"; then row "$name" ok "$detail"; else row "$name" DOWN "$detail"; BAD=1; fi
}

main() {
  [[ $EUID -eq 0 ]] || die "needs root (reads pid files and containerd's socket): run it with sudo"
  local c pid
  for c in "${COMPONENTS[@]}"; do
    if pid=$(component_pid "$c"); then
      check "$c" "pid $pid, log $LOG_DIR/$c.log" component_healthy "$c"
    else
      row "$c" DOWN "not running"
      BAD=1
    fi
  done
  check "interface $NODE_IF" "$NODE_IP/$NODE_PREFIX" has_link "$NODE_IF"
  check "bridge $BRIDGE" "$POD_GATEWAY, pods $POD_CIDR" has_link "$BRIDGE"
  if ((BAD == 0)); then
    local version images
    version=$(kubectl_admin get node "$NODE_NAME" -o 'jsonpath={.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}' 2>/dev/null || true)
    check "node $NODE_NAME" "Ready, $version" node_ready
    images=$(ctr_k8s images ls -q 2>/dev/null | grep -c '^kubectl-netns.local/' || true)
    check "images" "$images kubectl-netns.local images in containerd" test "$images" -ge 3
  fi
  echo
  if ((BAD == 0)); then
    echo "healthy: Kubernetes $K8S_VERSION at $APISERVER_URL"
    echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
  else
    echo "not healthy: run npm run cluster:up (logs in $LOG_DIR)"
  fi
  return "$BAD"
}

main "$@"
