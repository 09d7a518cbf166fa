#!/usr/bin/env bash
# PID 1 of an extra node (node N >= 2) of the local cluster. up.sh starts it with
#   unshare --net --mount --pid --uts --ipc --fork --kill-child --mount-proc --propagation private \
#     bash node-init.sh N
# so the node has network, mount, PID, UTS and IPC namespaces of its own, like a separate machine: a
# hostPID pod on it sees only its own processes, a hostNetwork one its own interfaces and hostname,
# and PID 1 (this script) holds the node's namespaces, which is where the on-node agent looks.
#
# It makes the node's mount namespace look like a node's: the fixed paths kubelet, containerd and
# libcni use whatever they are told (FIXED_PATHS) become bind mounts of the node's own directories,
# and / becomes shared (kubelet needs mount propagation), all without touching the root mount
# namespace. Then it waits, reaping the orphans a PID 1 inherits (containerd's shims), until it is
# told to stop; when it exits the kernel kills every process of the node.
#
# Usage: node-init.sh N        (started by up.sh, never by hand)
set -euo pipefail

# shellcheck source=scripts/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if ! [[ "${1:-}" =~ ^[0-9]+$ ]] || (($1 < 2)); then die "usage: node-init.sh N (N >= 2)"; fi
node_env "$1"
[[ $$ == 1 ]] || die "node-init.sh must be PID 1 of a new PID namespace (started by up.sh)"

# The mount namespace was copied from the machine's, with every runtime mount node 1 (and any other
# node) had made by then: container root filesystems, pod volumes, and the nsfs bind mounts that
# keep pod network namespaces alive. A separate machine has none of them, and a kept nsfs mount
# would pin another node's pod namespace here for as long as this node runs, the very leak the
# node forensics exist to find. So they go first (deepest first), before this node mounts anything.
drop_inherited_mounts() {
  local line mp fstype
  while IFS= read -r line; do
    mp=${line#* * * * }
    mp=${mp%% *}
    mp=$(printf '%b' "${mp//\\/\\0}") # mountinfo escapes space, tab, newline and \ as \NNN
    fstype=${line#* - }
    fstype=${fstype%% *}
    case "$mp" in
      "$RUN_DIR"/* | "$STATE_DIR"/* | /run/netns/* | /var/run/netns/* | /run/containerd/* | /var/lib/kubelet/* | /run/docker/*) ;;
      *) [[ "$fstype" == nsfs ]] || continue ;;
    esac
    umount -l "$mp" 2>/dev/null || true
  done < <(tac /proc/self/mountinfo)
}

drop_inherited_mounts
hostname "$NODE_NAME"
for p in "${FIXED_PATHS[@]}"; do
  mkdir -p "$NODE_ROOTS$p" "$p"
  mount --bind "$NODE_ROOTS$p" "$p"
done
mount --make-rshared /
touch "$NODE_RUN/init.ready"

trap 'exit 0' TERM INT
# bash reaps every child, its own and adopted ones, whenever `wait` is interrupted by SIGCHLD.
while :; do
  sleep 3600 &
  wait $! || true
done
