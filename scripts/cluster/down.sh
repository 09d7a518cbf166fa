#!/usr/bin/env bash
# Tear down the local cluster: every process, container, mount, interface, cgroup and file that
# up.sh (or the components it started) created, and nothing else. The binary cache stays.
#
# Only things that are provably ours are touched: processes from our pid files or whose command
# line names our state dirs, runc containers under our runc root, mounts under our state dirs,
# interfaces named knetns-*/attached to our bridge, the kubepods and knetns-node* cgroups, our CNI
# cache entries, the policy routing table and rules up.sh adds for several nodes. Other tests on
# this machine keep their own `ip netns` namespaces and cgroups; those are never looked at. A second
# run finds nothing and says so.
#
# An extra node (N >= 2) goes first and goes whole: when PID 1 of its PID namespace (node-init.sh)
# exits, the kernel kills every process in it, and its network and mount namespaces (with its pod
# bridge, pod namespaces and every mount its containerd made) vanish with the last of them.
#
# Usage: bash scripts/cluster/down.sh             (npm run cluster:down) everything
#        bash scripts/cluster/down.sh --node N    only extra node N (up.sh uses it to shrink)
set -euo pipefail

# shellcheck source=scripts/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DID=0
did() { DID=1; log "$*"; }

# A process that has exited. Our daemons were orphaned to PID 1, which here is no init system and
# reaps them only now and then, so a zombie counts as gone.
gone() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [[ "${stat%% *}" == Z ]]
}

# stop_pids TIMEOUT PID:NAME...: SIGTERM to all at once, SIGKILL to any left after TIMEOUT seconds.
stop_pids() {
  local timeout=$1; shift
  local entry i left
  for entry in "$@"; do kill -TERM "${entry%%:*}" 2>/dev/null || true; done
  for ((i = 0; i < timeout * 10; i++)); do
    left=0
    for entry in "$@"; do gone "${entry%%:*}" || left=1; done
    ((left)) || break
    sleep 0.1
  done
  for entry in "$@"; do
    if gone "${entry%%:*}"; then
      did "stopped ${entry#*:} (pid ${entry%%:*})"
    else
      kill -KILL "${entry%%:*}" 2>/dev/null || true
      did "killed ${entry#*:} (pid ${entry%%:*})"
    fi
  done
}

# stop_components TIMEOUT NAME...: stop these components together, by their pid files.
stop_components() {
  local timeout=$1; shift
  local name pid targets=()
  for name in "$@"; do
    if pid=$(component_pid "$name"); then targets+=("$pid:$name"); fi
    rm -f "$(pid_file "$name")"
  done
  ((${#targets[@]} == 0)) || stop_pids "$timeout" "${targets[@]}"
}

# strays [NODE_STATE NODE_RUN N]: our processes without a pid file (a lost pid file, a shim
# outliving containerd): the binary is one of the cluster's and its command line names our state
# dir or run dir (by default the whole cluster's; given a node's, only that node's); or it is an
# extra node's init (or the unshare holding it): all of them, or only node N's.
strays() {
  local state=${1:-$STATE_DIR} run=${2:-$RUN_DIR} init="/scripts/cluster/node-init.sh ${3:-}"
  local p exe cmd
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
    case "${exe##*/}" in
      etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | kube-proxy | containerd | containerd-shim* | crio | conmon)
        if [[ "$cmd" == *"$state/"* || "$cmd" == *"$run/"* ]]; then echo "${p#/proc/}"; fi ;;
      bash | unshare)
        if [[ "$cmd" == *"$init"* ]]; then echo "${p#/proc/}"; fi ;;
    esac
  done
}

# Every container runc started for our containerd (its runc root is ours alone).
kill_containers() {
  [[ -d "$RUNC_ROOT" ]] || return 0
  local nsroot id
  for nsroot in "$RUNC_ROOT"/*/; do
    [[ -d "$nsroot" ]] || continue
    while read -r id; do
      [[ -n "$id" ]] || continue
      runc --root "$nsroot" kill --all "$id" KILL 2>/dev/null || true
      runc --root "$nsroot" delete --force "$id" 2>/dev/null || true
      did "removed container ${id:0:12}"
    done < <(runc --root "$nsroot" list -q 2>/dev/null)
  done
}

# kill_pod_processes [CGROUP]: processes left in the kubepods cgroups (by default node 1's /kubepods,
# else under a node's cgroup root /knetns-nodeN) are pod processes, ours by construction.
kill_pod_processes() {
  local top=${1:-/kubepods} procs pid
  [[ -d "/sys/fs/cgroup/pids$top" ]] || [[ -d "/sys/fs/cgroup/memory$top" ]] || return 0
  for _ in 1 2 3; do
    procs=$(find "/sys/fs/cgroup/pids$top" "/sys/fs/cgroup/memory$top" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    [[ -n "$procs" ]] || return 0
    for pid in $procs; do kill -KILL "$pid" 2>/dev/null && did "killed pod process $pid"; done
    sleep 0.3
  done
}

unmount_ours() {
  local mp
  # Deepest first; mountinfo field 5 is the mount point.
  while read -r mp; do
    umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
    did "unmounted $mp"
  done < <(awk -v a="$STATE_DIR/" -v b="$RUN_DIR/" 'index($5, a) == 1 || index($5, b) == 1 || $5 == substr(a, 1, length(a) - 1) || $5 == substr(b, 1, length(b) - 1) { print length($5), $5 }' /proc/self/mountinfo |
    sort -rn | cut -d' ' -f2- | uniq)
}

remove_interfaces() {
  local ifc
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    # Host ends of pod veths still attached (their netns is gone or going).
    while read -r ifc; do
      [[ -n "$ifc" ]] || continue
      ip link del "$ifc" 2>/dev/null && did "deleted interface $ifc"
    done < <(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1)
    ip link del "$BRIDGE" && did "deleted bridge $BRIDGE"
  fi
  if ip link show "$NODE_IF" >/dev/null 2>&1; then
    ip link del "$NODE_IF" && did "deleted veth pair $NODE_IF/$NODE_PEER_IF"
  fi
  if ip link show "$LAN_BRIDGE" >/dev/null 2>&1; then
    # Outer ends of extra nodes' veths (normally gone with their network namespaces already).
    while read -r ifc; do
      [[ "$ifc" == knetns-* ]] || continue
      ip link del "$ifc" 2>/dev/null && did "deleted interface $ifc"
    done < <(ip -o link show master "$LAN_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1)
    ip link del "$LAN_BRIDGE" && did "deleted bridge $LAN_BRIDGE"
  fi
}

# Node 1's forwarding between its pod bridge and the LAN (several nodes only): the rules and table.
remove_routing() {
  if [[ -n "$(ip rule show pref "$FORWARD_TABLE" 2>/dev/null)" || -n "$(ip route show table "$FORWARD_TABLE" 2>/dev/null)" ]]; then
    remove_forwarding
    did "removed routing table $FORWARD_TABLE and its rules"
  fi
}

# stop_extra_node N: node N (>= 2), whole: processes, cgroups, its veth, the routes to its pods on
# the other nodes, and its files.
stop_extra_node() {
  node_env "$1"
  local name=$NODE_NAME cidr=$POD_CIDR host_if=$NODE_HOST_IF cgroup=${KUBELET_CGROUP_ROOT#/}
  local state=$NODE_STATE run=$NODE_RUN logs=$NODE_LOG_DIR pids=$NODE_PID_DIR
  local init pid m targets=()
  # kubelet first, so it restarts nothing; then PID 1 of the node: when it exits, the kernel kills
  # every other process of the node's PID namespace (containerd, its shims, every container), and
  # the exit completes only once they are all gone.
  stop_components 15 kube-proxy kubelet
  if init=$(node_init_pid); then stop_pids 15 "$init:$name's init (pid 1 of its PID namespace)"; fi
  rm -f "$pids/init.pid"
  stop_components 5 containerd crio
  for pid in $(strays "$state" "$run" "$1 "); do targets+=("$pid:$(readlink "/proc/$pid/exe" 2>/dev/null || echo process)"); done
  ((${#targets[@]} == 0)) || stop_pids 5 "${targets[@]}"
  kill_pod_processes "/$cgroup"
  remove_cgroups "$cgroup"
  if ip link show "$host_if" >/dev/null 2>&1; then ip link del "$host_if" 2>/dev/null && did "deleted interface $host_if"; fi
  # Routes to its pods: node 1's (main table and forwarding table), and the other extra nodes'.
  ip route del "$cidr" 2>/dev/null && did "removed route to $cidr"
  ip route del "$cidr" table "$FORWARD_TABLE" 2>/dev/null || true
  for m in $(present_extra_nodes); do
    ((m == $1)) && continue
    node_env "$m"
    in_node ip route del "$cidr" 2>/dev/null || true
  done
  node_env 1
  local d
  for d in "$state" "$run" "$logs" "$pids"; do
    if [[ -d "$d" ]]; then rm -rf "$d"; did "removed $d"; fi
  done
  rmdir "$STATE_DIR/nodes" "$RUN_DIR/nodes" 2>/dev/null || true
}

# iptables: up.sh configures no masquerade and kubelet makes no util chains; kube-proxy's KUBE-*
# chains (node 1's are in this machine's namespace; an extra node's vanish with it) and any CNI-*
# chain whose rules name our network go, with the jumps to them.
remove_iptables() {
  command -v iptables-save >/dev/null 2>&1 || return 0
  local table chain
  while iptables -t raw -D PREROUTING -i "$LAN_BRIDGE" -j NOTRACK 2>/dev/null; do did "removed the NOTRACK rule of $LAN_BRIDGE"; done
  for table in nat filter mangle; do
    while read -r chain; do
      [[ -n "$chain" ]] || continue
      while read -r rule; do
        # shellcheck disable=SC2086  # a saved rule is a list of words
        iptables -t "$table" -D ${rule#-A } 2>/dev/null || true
      done < <(iptables -t "$table" -S 2>/dev/null | grep -E "^-A [^ ]+ .*-j $chain( |$)" || true)
      iptables -t "$table" -F "$chain" 2>/dev/null || true
      iptables -t "$table" -X "$chain" 2>/dev/null && did "removed iptables chain $table/$chain"
    done < <(iptables -t "$table" -S 2>/dev/null | awk -v n="\"$CNI_NETWORK\"" '
      ($1 == "-A" && $2 ~ /^CNI-/ && index($0, n)) || ($1 == "-N" && $2 ~ /^KUBE-/) { print $2 }' | sort -u)
  done
}

# remove_cgroups [NAME]: node 1's kubepods cgroups, or those of an extra node's cgroup root NAME.
remove_cgroups() {
  local name=${1:-kubepods} root dir
  for root in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
    [[ -d "$root" ]] || continue
    # Deepest first; a cgroup dir is removed with rmdir, never rm. A cgroup whose last process
    # has just died can be busy for a moment: retry.
    for _ in 1 2 3 4 5; do
      while read -r dir; do rmdir "$dir" 2>/dev/null || true; done < <(find "$root" -depth -type d)
      [[ -d "$root" ]] || break
      sleep 0.3
    done
    if [[ -d "$root" ]]; then log "warning: could not remove $root (processes left?)"; else did "removed cgroup $root"; fi
  done
}

# Ids of the pod sandboxes our containerd made (its CRI keeps a dir per sandbox).
sandbox_ids() {
  local d
  for d in "$CONTAINERD_ROOT"/io.containerd.{grpc.v1.cri,cri.v1.runtime}/sandboxes/* "$CONTAINERD_STATE"/io.containerd.{grpc.v1.cri,cri.v1.runtime}/sandboxes/*; do
    [[ -d "$d" ]] && echo "${d##*/}"
  done | sort -u
}

remove_files() {
  local f id
  # libcni's cache is shared: our network's entries are named $CNI_NETWORK-<sandbox>-eth0; the
  # loopback ones cni-loopback-<sandbox>-lo, for sandboxes of our containerd only.
  for f in "$CNI_CACHE_DIR/$CNI_NETWORK"-*; do
    [[ -e "$f" ]] || continue
    rm -f "$f"
    did "removed CNI cache ${f##*/}"
  done
  for id in $(sandbox_ids); do
    f="$CNI_CACHE_DIR/cni-loopback-$id-lo"
    [[ -e "$f" ]] || continue
    rm -f "$f"
    did "removed CNI cache ${f##*/}"
  done
  # kubelet's device-plugin socket path is fixed; drop the socket it left.
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock
  # kubelet links each container's log into /var/log/containers: drop the links into our pod logs.
  for f in /var/log/containers/*.log; do
    [[ -L "$f" && "$(readlink "$f")" == "$STATE_DIR/"* ]] || continue
    rm -f "$f"
    did "removed log link ${f##*/}"
  done
  # Directories outside our state dirs that up.sh saw appear; removed only when empty.
  if [[ -f "$STATE_DIR/created-dirs" ]]; then
    while read -r f; do
      if [[ -d "$f" ]] && rmdir "$f" 2>/dev/null; then did "removed $f"; fi
    done < <(sort -r "$STATE_DIR/created-dirs")
  fi
  if [[ -d "$STATE_DIR" ]]; then rm -rf "$STATE_DIR"; did "removed $STATE_DIR"; fi
  if [[ -d "$RUN_DIR" ]]; then rm -rf "$RUN_DIR"; did "removed $RUN_DIR"; fi
}

main() {
  [[ $EUID -eq 0 ]] || die "needs root: run it with sudo"
  local start=$SECONDS pid n targets=()
  if [[ "${1:-}" == --node ]]; then
    if ! [[ "${2:-}" =~ ^[0-9]+$ ]] || (($2 < 2)); then die "usage: down.sh [--node N] (N >= 2: node 1 holds the control plane)"; fi
    node_env "$2"
    local name=$NODE_NAME
    stop_extra_node "$2"
    if apiserver_healthy && kubectl_admin delete node "$name" --ignore-not-found --wait=false >/dev/null 2>&1; then
      did "deleted node $name from the API"
    fi
    if ((DID)); then log "node $name is down ($((SECONDS - start))s)"; else log "nothing to do: node $name is not running"; fi
    return 0
  fi
  [[ $# -eq 0 ]] || die "usage: down.sh [--node N]"
  # Extra nodes first, whole. Then on node 1: kubelet first, so nothing restarts the containers we
  # stop; then the containers; then the rest.
  for n in $(present_extra_nodes); do stop_extra_node "$n"; done
  stop_components 15 kube-proxy kubelet
  kill_containers
  stop_components 15 kube-scheduler kube-controller-manager kube-apiserver containerd
  stop_components 15 etcd
  for pid in $(strays); do targets+=("$pid:$(readlink "/proc/$pid/exe" 2>/dev/null || echo process)"); done
  ((${#targets[@]} == 0)) || stop_pids 5 "${targets[@]}"
  kill_pod_processes
  unmount_ours
  remove_routing
  remove_interfaces
  remove_iptables
  remove_cgroups
  remove_files
  if ((DID)); then log "cluster is down ($((SECONDS - start))s)"; else log "nothing to do: the cluster is not running"; fi
}

main "$@"
