#!/usr/bin/env bash
# Tear down the local cluster: every process, container, mount, interface, cgroup and file that
# up.sh (or the components it started) created, and nothing else. The binary cache stays.
#
# Only things that are provably ours are touched: processes from our pid files or whose command
# line names our state dirs, runc containers under our runc root, mounts under our state dirs,
# interfaces named knetns-*/attached to our bridge, the kubepods cgroups, our CNI cache entries.
# Other tests on this machine keep their own `ip netns` namespaces and cgroups; those are never
# looked at. A second run finds nothing and says so.
#
# Usage: bash scripts/cluster/down.sh        (npm run cluster:down)
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
    rm -f "$PID_DIR/$name.pid"
  done
  ((${#targets[@]} == 0)) || stop_pids "$timeout" "${targets[@]}"
}

# Our processes without a pid file (a lost pid file, a shim outliving containerd): the binary is one
# of the cluster's and its command line names our state dir, run dir or containerd socket.
strays() {
  local p exe cmd
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case "${exe##*/}" in
      etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | containerd | containerd-shim*) ;;
      *) continue ;;
    esac
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
    if [[ "$cmd" == *"$STATE_DIR/"* || "$cmd" == *"$RUN_DIR/"* ]]; then echo "${p#/proc/}"; fi
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

# Processes left in the kubepods cgroups are pod processes, ours by construction.
kill_pod_processes() {
  local procs pid
  [[ -d /sys/fs/cgroup/pids/kubepods ]] || [[ -d /sys/fs/cgroup/memory/kubepods ]] || return 0
  for _ in 1 2 3; do
    procs=$(find /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
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
}

# iptables: up.sh configures no masquerade and kubelet makes no util chains, so normally there is
# nothing. Remove any CNI-* chain whose rules name our network, and the jumps to it.
remove_iptables() {
  command -v iptables-save >/dev/null 2>&1 || return 0
  local table chain
  for table in nat filter mangle; do
    while read -r chain; do
      [[ -n "$chain" ]] || continue
      while read -r rule; do
        # shellcheck disable=SC2086  # a saved rule is a list of words
        iptables -t "$table" -D ${rule#-A } 2>/dev/null || true
      done < <(iptables -t "$table" -S 2>/dev/null | grep -E "^-A [^ ]+ .*-j $chain( |$)" || true)
      iptables -t "$table" -F "$chain" 2>/dev/null || true
      iptables -t "$table" -X "$chain" 2>/dev/null && did "removed iptables chain $table/$chain"
    done < <(iptables -t "$table" -S 2>/dev/null | awk -v n="\"$CNI_NETWORK\"" '$1 == "-A" && $2 ~ /^CNI-/ && index($0, n) { print $2 }' | sort -u)
  done
}

remove_cgroups() {
  local root dir
  for root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
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
  for d in "$CONTAINERD_ROOT/io.containerd.grpc.v1.cri/sandboxes"/* "$CONTAINERD_STATE/io.containerd.grpc.v1.cri/sandboxes"/*; do
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
  local start=$SECONDS pid targets=()
  # kubelet first, so nothing restarts the containers we stop; then the containers; then the rest.
  stop_components 15 kubelet
  kill_containers
  stop_components 15 kube-scheduler kube-controller-manager kube-apiserver containerd
  stop_components 15 etcd
  for pid in $(strays); do targets+=("$pid:$(readlink "/proc/$pid/exe" 2>/dev/null || echo process)"); done
  ((${#targets[@]} == 0)) || stop_pids 5 "${targets[@]}"
  kill_pod_processes
  unmount_ours
  remove_interfaces
  remove_iptables
  remove_cgroups
  remove_files
  if ((DID)); then log "cluster is down ($((SECONDS - start))s)"; else log "nothing to do: the cluster is not running"; fi
}

main "$@"
