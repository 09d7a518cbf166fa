#!/usr/bin/env bash
# Bring up (or confirm) the local Kubernetes cluster: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, and on each node containerd, kubelet and kube-proxy, all real, all on this machine.
#
# Node 1 (knetns-node) is the machine's root network namespace, as with a single node. Each extra
# node N (knetns-nodeN) has its own network, mount, PID, UTS and IPC namespaces (node-init.sh is its PID 1),
# its own containerd (root, state, socket, runc root) and kubelet (root dir, cgroup root), node IP
# 10.213.0.N on a veth into the nodes' LAN bridge, and pod CIDR 10.214.(N-1).0/24 on its own bridge.
#
# Idempotent: a component already running is left alone; when everything is healthy this returns in
# seconds. It makes exactly the nodes asked for: extra nodes beyond that are removed. Asked for
# nothing, a running cluster keeps the nodes it has (so `npm run demo` never removes node 2), and
# one made from nothing has one node.
# Networking stays on this machine: no masquerade, no default route in pods or nodes. Node 1
# forwards only what arrives on its pod bridge or the LAN (per-interface forwarding, through a
# routing table that holds only the test subnets); net.ipv4.ip_forward stays 0.
#
# Usage: bash scripts/cluster/up.sh [--nodes N] [--k8s-version vX.Y.Z]   (npm run cluster:up [-- ...])
#   --nodes N, or KNETNS_NODES=N: how many nodes (1..8; default: as many as run now, else 1)
#   --k8s-version V, or KNETNS_K8S_VERSION=V: the Kubernetes release (default: K8S_NEWEST in
#     versions.sh); a cluster running another one is taken down first
#   KNETNS_NODE<N>=runtime,cni[,dual]: node N's flavour (lib.sh, DEFAULT_FLAVOURS); a node running
#     another flavour is made anew
set -euo pipefail

START=$SECONDS
# shellcheck source=scripts/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODES=${KNETNS_NODES:-}
if [[ -z "$NODES" ]]; then
  NODES=$DEFAULT_NODES
  [[ -r "$NODE_COUNT_FILE" ]] && NODES=$(<"$NODE_COUNT_FILE")
fi
parse_args() {
  while (($#)); do
    case "$1" in
      --nodes) [[ $# -ge 2 ]] || die "--nodes needs a number"; NODES=$2; shift 2 ;;
      --nodes=*) NODES=${1#--nodes=}; shift ;;
      --k8s-version) [[ $# -ge 2 ]] || die "--k8s-version needs a version"; set_k8s_version "$2"; shift 2 ;;
      --k8s-version=*) set_k8s_version "${1#--k8s-version=}"; shift ;;
      -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
      *) die "unknown argument '$1' (usage: up.sh [--nodes N] [--k8s-version vX.Y.Z])" ;;
    esac
  done
  if ! [[ "$NODES" =~ ^[0-9]+$ ]] || ((NODES < 1 || NODES > MAX_NODES)); then
    die "--nodes must be 1..$MAX_NODES, got '$NODES'"
  fi
}

# set_k8s_version V: the release to run (build.sh and down.sh, started from here, inherit it).
set_k8s_version() {
  [[ "$1" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "--k8s-version takes a release like $K8S_NEWEST, got '$1'"
  K8S_VERSION=$1
  K8S_BIN="$CACHE_DIR/k8s-$K8S_VERSION"
  export KNETNS_K8S_VERSION=$1
}

# ---------------------------------------------------------------------------------------------------
# Prerequisites
check_prereqs() {
  [[ "$(uname -s)" == Linux ]] || die "needs Linux (kubelet, containerd, network namespaces)"
  [[ $EUID -eq 0 ]] || die "needs root (mounts, interfaces, cgroups): run it with sudo"
  local missing=() cmd
  for cmd in runc openssl curl ip mount nsenter unshare gcc ldd tcpdump ss jq; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  [[ "$ETCD_SOURCE" == built || -x "$ETCD_BIN" ]] || missing+=(etcd-server)
  for cmd in bridge ptp host-local loopback; do
    [[ -x "$CNI_BIN_DIR/$cmd" ]] || missing+=("cni:$cmd")
  done
  local n
  for ((n = 1; n <= NODES; n++)); do
    node_env "$n"
    case "$NODE_RUNTIME" in
      containerd1) for cmd in containerd ctr; do command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd"); done ;;
      crio) for cmd in conmon skopeo; do command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd"); done ;;
    esac
  done
  node_env 1
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: install them with: sudo bash scripts/install-deps.sh"
  NODE=$(command -v node || true)
  if [[ -x "$REPO_DIR/node_modules/.bin/node" ]]; then NODE="$REPO_DIR/node_modules/.bin/node"; fi
  [[ -n "$NODE" ]] || die "missing node (>= 22): run npm ci in $REPO_DIR"
  [[ -d "$REPO_DIR/node_modules/tar-stream" ]] || die "missing npm packages: run npm ci in $REPO_DIR"
  [[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] || die "no cgroup hierarchy under /sys/fs/cgroup"
}

# Kubernetes, etcd and the runtimes the nodes need: built once from the Go module proxy, then cached.
ensure_binaries() {
  local parts=(k8s) n
  [[ "$ETCD_SOURCE" != built ]] || parts+=(etcd)
  for ((n = 1; n <= NODES; n++)); do
    node_env "$n"
    case "$NODE_RUNTIME" in
      containerd) [[ " ${parts[*]} " == *" containerd "* ]] || parts+=(containerd) ;;
      crio) [[ " ${parts[*]} " == *" crio "* ]] || parts+=(crio) ;;
    esac
  done
  node_env 1
  bash "$CLUSTER_DIR/build.sh" "${parts[@]}"
}

# A cluster of another Kubernetes release, or a node of another flavour, is not changed in place:
# it goes (down.sh, with the release it runs) and up.sh makes it anew.
replace_mismatches() {
  local running n f
  running=$(cat "$STATE_DIR/k8s-version" 2>/dev/null || true)
  if [[ -n "$running" && "$running" != "$K8S_VERSION" ]]; then
    log "the cluster runs Kubernetes $running, $K8S_VERSION was asked for: taking it down first"
    KNETNS_K8S_VERSION=$running bash "$CLUSTER_DIR/down.sh"
    return 0
  fi
  node_env 1
  f=$(cat "$NODE_STATE/flavour" 2>/dev/null || true)
  if [[ -n "$f" && "$f" != "$NODE_FLAVOUR" ]]; then
    log "node 1 runs $f, $NODE_FLAVOUR was asked for: taking the cluster down first"
    bash "$CLUSTER_DIR/down.sh"
    return 0
  fi
  for n in $(present_extra_nodes); do
    ((n <= NODES)) || continue
    node_env "$n"
    f=$(cat "$NODE_STATE/flavour" 2>/dev/null || true)
    if [[ "$f" != "$NODE_FLAVOUR" ]]; then
      log "$NODE_NAME runs ${f:-an unknown flavour}, $NODE_FLAVOUR was asked for: making it anew"
      node_env 1
      bash "$CLUSTER_DIR/down.sh" --node "$n"
    fi
  done
  node_env 1
}

# ---------------------------------------------------------------------------------------------------
# Host setup
host_setup() {
  # kubelet mounts volumes with propagation and refuses a private root mount.
  mount --make-rshared /
  mkdir -p "$STATE_DIR" "$PKI_DIR" "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$STATE_DIR/etcd"
  chmod 700 "$PKI_DIR" "$STATE_DIR/etcd"
  # Paths outside our state dirs that the components create at fixed places: kubelet's device-plugin
  # socket dir and container-log symlink dir, libcni's cache dir, containerd 1.6 shims' socket dir.
  # Remember the ones that do not exist yet, so down.sh removes exactly those (and only when empty).
  local d
  for d in /var/lib/kubelet /var/lib/kubelet/device-plugins /var/log/containers /var/lib/cni "$CNI_CACHE_DIR" \
    /run/containerd /run/containerd/s /var/lib/containers /run/containers /var/lib/crio /run/crio; do
    if [[ ! -e "$d" ]] && ! grep -qxF "$d" "$STATE_DIR/created-dirs" 2>/dev/null; then
      echo "$d" >> "$STATE_DIR/created-dirs"
    fi
  done
}

# The current node's own directories (node_env).
node_dirs() {
  mkdir -p "$NODE_STATE" "$NODE_RUN" "$NODE_CONF_DIR" "$NODE_LOG_DIR" "$NODE_PID_DIR" "$CNI_CONF_DIR" \
    "$CNI_IPAM_DIR" "$KUBELET_ROOT" "$POD_LOGS_DIR"
  if [[ "$NODE_RUNTIME" == crio ]]; then
    mkdir -p "$NODE_RUN/crio" "$NODE_STATE/crio" "$CRIO_STORAGE" "$CRIO_RUNROOT"
  else
    mkdir -p "$CONTAINERD_ROOT" "$CONTAINERD_STATE" "$RUNC_ROOT"
  fi
  echo "$NODE_FLAVOUR" > "$NODE_STATE/flavour"
}

# Node 1's network and the nodes' LAN, in the root network namespace.
network_setup() {
  # Node 1's IP: on one end of a veth pair whose other end is node 1's port on the LAN bridge,
  # where every other node's veth is plugged in too.
  if ! ip link show "$NODE_IF" >/dev/null 2>&1; then
    ip link add "$NODE_IF" type veth peer name "$NODE_PEER_IF"
  fi
  if ! ip link show "$LAN_BRIDGE" >/dev/null 2>&1; then
    ip link add "$LAN_BRIDGE" type bridge
  fi
  # A switch, nothing more: without this the bridge device itself answers ARP for 10.213.0.1 (every
  # local address, as Linux does on any interface), and nodes then send node 1's traffic to it,
  # where it is neither delivered to knetns-node nor forwarded.
  ip link set "$LAN_BRIDGE" arp off
  if [[ -f "/proc/sys/net/ipv6/conf/$LAN_BRIDGE/disable_ipv6" ]]; then echo 1 > "/proc/sys/net/ipv6/conf/$LAN_BRIDGE/disable_ipv6"; fi
  ip link set "$LAN_BRIDGE" up
  # A switch keeps no connection state. This one is in node 1's network namespace, where
  # bridge-nf-call-iptables hands bridged frames to conntrack: a connection node 1 had translated
  # (a Service's DNAT) was tracked a second time on its way across, and that second entry clashed
  # with the first and got a new source port. Frames the LAN bridges skip conntrack.
  iptables -t raw -C PREROUTING -i "$LAN_BRIDGE" -j NOTRACK 2>/dev/null ||
    iptables -t raw -I PREROUTING -i "$LAN_BRIDGE" -j NOTRACK
  ip link set "$NODE_PEER_IF" master "$LAN_BRIDGE" up
  ip addr replace "$CONTROL_PLANE_IP/$NODE_PREFIX" dev "$NODE_IF"
  ip link set "$NODE_IF" up
  # The pod bridge, with the pods' gateway address. We create it (not the CNI bridge plugin with
  # isGateway) because that plugin would switch on net.ipv4.ip_forward for the whole machine.
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip link set "$BRIDGE" address "$BRIDGE_MAC"
  ip addr replace "$POD_GATEWAY/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  write_cni_config
}

# The current node's CNI config. Pods get an address from the node's POD_CIDR (and POD_CIDR6 on a
# dual-stack node) and routes to the node subnet, to the other nodes' pods and to the Service IPs
# (kube-proxy translates them on the node) only, and no default route: a pod cannot send anything
# off this machine; nothing is masqueraded.
#  bridge: the bridge plugin on the node's bridge, which holds the gateway (set by us: the plugin's
#    isGateway would switch on forwarding machine-wide).
#  ptp: a veth per pod with no bridge; the plugin puts the gateway on each host veth as a /32 (and
#    the pod's /32 route next to it). The gateway is link-local, 169.254.1.1 (fe80::1), as Calico's;
#    the plugin adds IPAM routes through the gateway before its own on-link route to it, so the
#    IPv4 routes must come from the IPAM subnet: 10.212.0.0/14 spans the node LAN, every node's pods
#    and the services, and the range inside it is the node's own /24. (IPv6 next hops that are
#    link-local are always on-link, so IPv6 takes plain routes.) The plugin names host veths
#    veth<random>; it has no option for Calico's cali<hash> names.
write_cni_config() {
  local ranges routes plugin gw6=${POD_CIDR6%/64}1
  if [[ "$NODE_CNI" == ptp ]]; then
    ranges="[{ \"subnet\": \"10.212.0.0/14\", \"rangeStart\": \"${POD_CIDR%.0/24}.2\", \"rangeEnd\": \"${POD_CIDR%.0/24}.254\", \"gateway\": \"$PTP_GATEWAY\" }]"
    routes=''
    if ((NODE_DUAL)); then
      ranges+=", [{ \"subnet\": \"$POD_CIDR6\", \"gateway\": \"$PTP_GATEWAY6\" }]"
      routes="{ \"dst\": \"$NODE_SUBNET6\" }, { \"dst\": \"$CLUSTER_CIDR6\" }"
    fi
    plugin="\"type\": \"ptp\", \"ipMasq\": false, \"mtu\": 1500"
  else
    ranges="[{ \"subnet\": \"$POD_CIDR\", \"gateway\": \"$POD_GATEWAY\" }]"
    routes="{ \"dst\": \"$NODE_SUBNET\", \"gw\": \"$POD_GATEWAY\" }, { \"dst\": \"$CLUSTER_CIDR\", \"gw\": \"$POD_GATEWAY\" }, { \"dst\": \"$SERVICE_CIDR\", \"gw\": \"$POD_GATEWAY\" }"
    if ((NODE_DUAL)); then
      ranges+=", [{ \"subnet\": \"$POD_CIDR6\", \"gateway\": \"$gw6\" }]"
      routes+=", { \"dst\": \"$NODE_SUBNET6\", \"gw\": \"$gw6\" }, { \"dst\": \"$CLUSTER_CIDR6\", \"gw\": \"$gw6\" }"
    fi
    plugin="\"type\": \"bridge\", \"bridge\": \"$BRIDGE\", \"isGateway\": false, \"isDefaultGateway\": false, \"ipMasq\": false, \"hairpinMode\": true"
  fi
  rm -f "$CNI_CONF_DIR"/*.conflist
  cat > "$CNI_CONF_DIR/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      $plugin,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CNI_IPAM_DIR",
        "ranges": [$ranges],
        "routes": [$routes]
      }
    }
  ]
}
EOF
  jq -e . "$CNI_CONF_DIR/10-$CNI_NETWORK.conflist" >/dev/null || die "bad CNI config $CNI_CONF_DIR/10-$CNI_NETWORK.conflist"
}

# ---------------------------------------------------------------------------------------------------
# Extra nodes (N >= 2): namespaces, cgroups and network
#
# The node's cgroup root (kubelet's cgroupRoot), in every cgroup v1 hierarchy, so its kubepods tree
# never meets node 1's /kubepods (or another node's). kubelet refuses a cgroupRoot that is missing.
node_cgroups() {
  local h dir f
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    # cgroup v2 only (untested here): one directory, with the controllers kubelet uses delegated.
    mkdir -p "/sys/fs/cgroup$KUBELET_CGROUP_ROOT"
    echo "+cpu +cpuset +memory +pids" > "/sys/fs/cgroup$KUBELET_CGROUP_ROOT/cgroup.subtree_control" 2>/dev/null || true
    return 0
  fi
  for h in /sys/fs/cgroup/*; do
    # Real hierarchies only: not the cpu -> cpu,cpuacct style symlinks, not the v2 one of a hybrid.
    [[ -d "$h" && ! -L "$h" && -f "$h/cgroup.procs" && "${h##*/}" != unified ]] || continue
    dir="$h$KUBELET_CGROUP_ROOT"
    mkdir -p "$dir"
    # A new cpuset is empty (no cpus, no mems) and takes no task until it inherits its parent's.
    for f in cpuset.cpus cpuset.mems; do
      if [[ -f "$dir/$f" && -z "$(<"$dir/$f")" ]]; then cat "$h/$f" > "$dir/$f"; fi
    done
  done
}

# child_of PID: the (first) child process of PID, waiting a few seconds for it to appear.
child_of() {
  local parent=$1 i pid
  for ((i = 0; i < 50; i++)); do
    # /proc/PID/stat: "PID (COMM) STATE PPID ..."; COMM may hold spaces, so split after the last ')'.
    pid=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$parent" '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); if (f[2] == p) { print $1; exit } }')
    if [[ -n "$pid" ]]; then echo "$pid"; return 0; fi
    sleep 0.1
  done
  return 1
}

# The node's PID 1 (node-init.sh) in new network, mount, PID, UTS and IPC namespaces. unshare stays
# in the root PID namespace as its parent; --kill-child takes the node down should unshare be killed.
start_node_init() {
  node_init_pid >/dev/null && return 0
  rm -f "$NODE_RUN/init.ready"
  printf '\n===== init start %s =====\n' "$(date -Is)" >> "$NODE_LOG_DIR/init.log"
  setsid nohup unshare --net --mount --pid --uts --ipc --fork --kill-child --mount-proc --propagation private \
    bash "$CLUSTER_DIR/node-init.sh" "$NODE_NUM" >> "$NODE_LOG_DIR/init.log" 2>&1 < /dev/null &
  local holder=$! init
  init=$(child_of "$holder") || { tail -n 20 "$NODE_LOG_DIR/init.log" >&2; die "$NODE_NAME: its init did not start"; }
  echo "$init" > "$NODE_PID_DIR/init.pid"
  wait_for 10 "$NODE_NAME's mounts" test -f "$NODE_RUN/init.ready" ||
    { tail -n 20 "$NODE_LOG_DIR/init.log" >&2; die "$NODE_NAME: its init failed (log: $NODE_LOG_DIR/init.log)"; }
  log "started $NODE_NAME's namespaces (init pid $init)"
}

# The node's network namespace: eth0 (the inner end of a veth whose outer end is a LAN bridge port)
# with the node IP, loopback, and the node's own pod bridge. IP forwarding is switched on in the
# node's own namespace only: it routes between its pods and the LAN, like any node.
node_network() {
  local init
  init=$(node_init_pid) || die "$NODE_NAME is not running"
  if ! in_node ip link show eth0 >/dev/null 2>&1; then
    ip link del "$NODE_HOST_IF" 2>/dev/null || true # a leftover of an earlier run of this node
    ip link add "$NODE_HOST_IF" type veth peer name eth0 netns "$init"
  fi
  ip link set "$NODE_HOST_IF" master "$LAN_BRIDGE" up
  in_node ip link set lo up
  in_node ip addr replace "$NODE_IP/$NODE_PREFIX" dev eth0
  in_node ip link set eth0 up
  if [[ "$NODE_CNI" == bridge ]]; then
    if ! in_node ip link show "$BRIDGE" >/dev/null 2>&1; then
      in_node ip link add "$BRIDGE" type bridge
    fi
    in_node ip link set "$BRIDGE" address "$BRIDGE_MAC"
    in_node ip addr replace "$POD_GATEWAY/24" dev "$BRIDGE"
    in_node ip link set "$BRIDGE" up
  fi
  in_node sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  if ((NODE_DUAL)); then
    # IPv6 forwarding is a switch of the whole namespace: this node's own, not the machine's.
    in_node sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'
    in_node ip -6 addr replace "$NODE_IP6/64" dev eth0 nodad
    if [[ "$NODE_CNI" == bridge ]]; then
      in_node ip -6 addr replace "${POD_CIDR6%/64}1/64" dev "$BRIDGE" nodad
    fi
  fi
  write_cni_config
}

# Routes between the nodes' pod networks, for COUNT nodes. Only our test subnets get routes; no node
# has a default route. Node 1 is the root namespace: it has to forward between its pod bridge and
# the LAN (more than one node), and from its pod bridge back into it (a Service IP that kube-proxy
# translates to a pod on the same node). That is switched on for exactly those two interfaces
# (net.ipv4.conf.IF.forwarding; net.ipv4.ip_forward stays 0, so nothing arriving on any other
# interface is ever forwarded), and what arrives on them is routed by a table of its own that holds
# only the test subnets and an unreachable default, so even a pod that adds a default route cannot
# get a packet forwarded off this machine.
cluster_routes() {
  local count=$1 n m table=$FORWARD_TABLE
  local -a cidrs=() ips=()
  for ((n = 1; n <= count; n++)); do
    node_env "$n"
    cidrs[n]=$POD_CIDR
    ips[n]=$NODE_IP
  done
  node_env 1
  for ((n = 2; n <= count; n++)); do
    ip route replace "${cidrs[n]}" via "${ips[n]}" dev "$NODE_IF"
  done
  # Also with one node: a Service IP that kube-proxy translates to a pod on the same bridge is
  # routed back out of that bridge, which is forwarding too.
  ip route replace "${cidrs[1]}" dev "$BRIDGE" table "$table"
  ip route replace "$NODE_SUBNET" dev "$NODE_IF" table "$table"
  for ((n = 2; n <= count; n++)); do
    ip route replace "${cidrs[n]}" via "${ips[n]}" dev "$NODE_IF" table "$table"
  done
  ip route replace unreachable default table "$table"
  local rules
  rules=$(ip rule show pref "$table") # not piped into grep -q: with pipefail, ip's SIGPIPE would count
  for m in "$BRIDGE" "$NODE_IF"; do
    [[ "$rules" == *"iif $m "* ]] || ip rule add pref "$table" iif "$m" lookup "$table"
    echo 1 > "/proc/sys/net/ipv4/conf/$m/forwarding"
  done
  local -a duals=() cidrs6=() ips6=()
  for ((n = 2; n <= count; n++)); do
    node_env "$n"
    duals[n]=$NODE_DUAL
    cidrs6[n]=$POD_CIDR6
    ips6[n]=$NODE_IP6
  done
  for ((n = 2; n <= count; n++)); do
    node_env "$n"
    for ((m = 1; m <= count; m++)); do
      ((m == n)) || in_node ip route replace "${cidrs[m]}" via "${ips[m]}" dev eth0
      # IPv6 only among the dual-stack nodes (node 1 has none).
      if ((m != n && m >= 2 && duals[n] && duals[m])); then
        in_node ip -6 route replace "${cidrs6[m]}" via "${ips6[m]}" dev eth0
      fi
    done
  done
  node_env 1
}

# ---------------------------------------------------------------------------------------------------
# Certificates (openssl, EC P-256) and kubeconfigs
cert() { # cert NAME SUBJECT EKU [SAN]
  local name=$1 subj=$2 eku=$3 san=${4:-}
  [[ -s "$PKI_DIR/$name.crt" && -s "$PKI_DIR/$name.key" ]] && return 0
  local ext="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    if [[ -n "$san" ]]; then echo "subjectAltName=$san"; fi
  } > "$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
    -keyout "$PKI_DIR/$name.key" -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

kubeconfig() { # kubeconfig FILE CERTNAME USER
  local file=$1 certname=$2 user=$3
  [[ -s "$file" ]] && return 0
  local k=("$K8S_BIN/kubectl" --kubeconfig "$file.tmp")
  rm -f "$file.tmp"
  "${k[@]}" config set-cluster knetns --server "$APISERVER_URL" --certificate-authority "$PKI_DIR/ca.crt" --embed-certs >/dev/null
  "${k[@]}" config set-credentials "$user" --client-certificate "$PKI_DIR/$certname.crt" \
    --client-key "$PKI_DIR/$certname.key" --embed-certs >/dev/null
  "${k[@]}" config set-context knetns --cluster knetns --user "$user" >/dev/null
  "${k[@]}" config use-context knetns >/dev/null
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

pki_setup() {
  if [[ ! -s "$PKI_DIR/ca.crt" || ! -s "$PKI_DIR/ca.key" ]]; then
    log "generating certificates in $PKI_DIR"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=kubectl-netns-local-ca" -keyout "$PKI_DIR/ca.key" -out "$PKI_DIR/ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    # A new CA invalidates every certificate and kubeconfig signed by an old one.
    rm -f "$PKI_DIR"/{apiserver,apiserver-kubelet-client,kubelet,kubelet-client,admin,controller-manager,scheduler,kube-proxy}.{crt,key}
    rm -f "$PKI_DIR"/kubelet-*.{crt,key} "$KUBECONFIG_ADMIN" "$CONF_DIR"/*.kubeconfig "$STATE_DIR"/nodes/*/config/*.kubeconfig
  fi
  cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$FIRST_NODE_NAME,IP:127.0.0.1,IP:$CONTROL_PLANE_IP,IP:$KUBERNETES_SVC_IP"
  # The API server's client identity towards kubelet (exec, logs, port-forward).
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  cert admin "/O=system:masters/CN=kubectl-netns-admin" clientAuth
  cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  cert scheduler "/CN=system:kube-scheduler" clientAuth
  # kube-proxy's identity: the built-in system:node-proxier role is bound to this user.
  cert kube-proxy "/CN=system:kube-proxy" clientAuth
  if [[ ! -s "$PKI_DIR/sa.key" ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/sa.key.tmp" 2>/dev/null
    openssl pkey -in "$PKI_DIR/sa.key.tmp" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
    mv "$PKI_DIR/sa.key.tmp" "$PKI_DIR/sa.key"
  fi
  chmod 600 "$PKI_DIR"/*.key
  kubeconfig "$KUBECONFIG_ADMIN" admin kubectl-netns-admin
  kubeconfig "$CONF_DIR/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  kubeconfig "$CONF_DIR/scheduler.kubeconfig" scheduler system:kube-scheduler
  kubeconfig "$CONF_DIR/kube-proxy.kubeconfig" kube-proxy system:kube-proxy
}

# The current node's kubelet identities: a serving certificate the API server checks
# (--kubelet-certificate-authority) and a system:node:NAME client certificate (NodeRestriction).
node_pki() {
  cert "$KUBELET_CERT" "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP,IP:$NODE_IP6,IP:127.0.0.1"
  cert "$KUBELET_CLIENT_CERT" "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  chmod 600 "$PKI_DIR"/*.key
  kubeconfig "$NODE_CONF_DIR/kubelet.kubeconfig" "$KUBELET_CLIENT_CERT" "system:node:$NODE_NAME"
}

# ---------------------------------------------------------------------------------------------------
# Component configuration
# The current node's container runtime config: containerd 2 (config version 3), Debian's containerd
# 1.6 (version 2) or CRI-O. Each has its own root, state, socket and OCI runtime root, so it never
# mixes with another runtime on this machine, and pod network namespaces under its own state dir.
write_runtime_config() {
  case "$NODE_RUNTIME" in
    containerd) write_containerd2_config ;;
    containerd1) write_containerd1_config ;;
    crio) write_crio_config ;;
  esac
}

write_containerd1_config() {
  cat > "$NODE_CONF_DIR/containerd.toml" <<EOF
# containerd 1.6 of $NODE_NAME (kubectl-netns local cluster).
version = 2
root = "$CONTAINERD_ROOT"
state = "$CONTAINERD_STATE"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMAGE_PAUSE"
  # Pod network namespaces live under our state dir, not /run/netns where other tests keep theirs.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  # This machine drops CAP_SYS_RESOURCE from root: lowering oom_score_adj (the sandbox asks for
  # -998) fails inside runc ("can't get final child's PID from pipe: EOF"). Clamp it at ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
        Root = "$RUNC_ROOT"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
    max_conf_num = 1
EOF
}

# containerd 2.x: config version 3, where the CRI plugin is split into runtime and images plugins.
# (2.4 migrates it to its own version 4 at load, with a warning; a version 4 file that keeps the
# [grpc] section is silently served on /run/containerd/containerd.sock instead: 4 moved it.) Imports only from our own (empty) dir: by default it
# would read /etc/containerd/conf.d, which is the machine's.
write_containerd2_config() {
  cat > "$NODE_CONF_DIR/containerd.toml" <<EOF
# containerd $CONTAINERD_VERSION of $NODE_NAME (kubectl-netns local cluster).
version = 3
imports = ["$NODE_CONF_DIR/containerd.d/*.toml"]
root = "$CONTAINERD_ROOT"
state = "$CONTAINERD_STATE"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.erofs", "io.containerd.nri.v1.nri"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = '$IMAGE_PAUSE'

[plugins.'io.containerd.cri.v1.runtime']
  # Pod network namespaces live under our state dir, not /run/netns where other tests keep theirs.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  # This machine drops CAP_SYS_RESOURCE from root: lowering oom_score_adj (the sandbox asks for
  # -998) fails inside runc ("can't get final child's PID from pipe: EOF"). Clamp it at ours.
  restrict_oom_score_adj = true
  # cgroup v1 is deprecated in containerd 2.2 (removal "no later than May 2029"); this machine has it.
  ignore_deprecation_warnings = ['io.containerd.deprecation/cgroup-v1']
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = '$(command -v runc)'
        Root = '$RUNC_ROOT'
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['$CNI_BIN_DIR']
    conf_dir = '$CNI_CONF_DIR'
    max_conf_num = 1
EOF
}

# CRI-O: storage, sockets, exits and pinned namespaces under the node's own dirs; runc and conmon
# from Debian (CRI-O's default OCI runtime is crun, but Debian's crun 1.8.1 refuses the OCI spec
# CRI-O 1.34 writes: "container create failed: unknown version specified"); the cgroupfs manager
# like kubelet; no NRI, no metrics. Pulls are refused like containerd's (a proxy on a closed loopback port); images come in
# through skopeo (import_images). drop_infra_ctr stays at its default (true): a pod that shares no
# PID namespace has no pause process, only its pinned namespaces, as on OpenShift.
write_crio_config() {
  cat > "$NODE_CONF_DIR/policy.json" <<EOF
{ "default": [{ "type": "insecureAcceptAnything" }] }
EOF
  cat > "$NODE_CONF_DIR/crio.conf" <<EOF
# CRI-O $CRIO_VERSION of $NODE_NAME (kubectl-netns local cluster).
[crio]
root = "$CRIO_STORAGE"
runroot = "$CRIO_RUNROOT"
storage_driver = "overlay"
log_dir = "$NODE_STATE/crio/pods"
version_file = "$NODE_RUN/crio/version"
clean_shutdown_file = "$NODE_STATE/crio/clean.shutdown"

[crio.api]
listen = "$CRIO_SOCK"
stream_address = "127.0.0.1"
stream_port = "0"

[crio.runtime]
default_runtime = "runc"
cgroup_manager = "cgroupfs"
conmon_cgroup = "pod"
selinux = false
container_exits_dir = "$NODE_RUN/crio/exits"
container_attach_socket_dir = "$NODE_RUN/crio"
namespaces_dir = "$NODE_RUN/crio/ns"
pinns_path = "$CACHE_DIR/crio-$CRIO_VERSION/pinns"
hooks_dir = []
enable_criu_support = false

[crio.runtime.runtimes.runc]
runtime_path = "$(command -v runc)"
runtime_root = "$RUNC_ROOT"
runtime_type = "oci"
monitor_path = "$(command -v conmon)"
monitor_cgroup = "pod"

[crio.image]
pause_image = "$IMAGE_PAUSE"
pause_command = "/pause"
signature_policy = "$NODE_CONF_DIR/policy.json"

[crio.network]
network_dir = "$CNI_CONF_DIR"
plugin_dirs = ["$CNI_BIN_DIR"]

[crio.nri]
enable_nri = false

[crio.metrics]
enable_metrics = false
EOF
}

write_kubelet_config() {
  cat > "$NODE_CONF_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI_DIR/$KUBELET_CERT.crt
tlsPrivateKeyFile: $PKI_DIR/$KUBELET_CERT.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI_DIR/ca.crt
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$RUNTIME_SOCK
imageServiceEndpoint: unix://$RUNTIME_SOCK
# This machine is cgroup v1 (hybrid) without systemd.
cgroupDriver: cgroupfs
cgroupsPerQOS: true
# Its kubepods tree goes under this cgroup: / (so /kubepods) on node 1, /knetns-nodeN on node N.
cgroupRoot: $KUBELET_CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
podCIDR: $POD_CIDR
podLogsDir: $POD_LOGS_DIR
# Not /usr/libexec/kubernetes/...: everything kubelet makes stays under our state dir (the one
# exception is kubelet's fixed device-plugin socket /var/lib/kubelet/device-plugins/kubelet.sock).
volumePluginDir: $NODE_STATE/kubelet-plugins/volume/exec
# No cluster DNS, and no host resolv.conf in pods: nothing in a pod resolves names off this machine.
resolvConf: ""
clusterDomain: cluster.local
maxPods: 60
# The disk is shared with other work: evict only when it is truly full, and never GC images
# (they are imported locally and cannot be pulled again).
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
  imagefs.inodesFree: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# No iptables rules from kubelet (kube-proxy's are described at write_kube_proxy_config).
makeIPTablesUtilChains: false
registerNode: true
serializeImagePulls: false
protectKernelDefaults: false
rotateCertificates: false
serverTLSBootstrap: false
EOF
}

# kube-proxy in iptables mode, so Service IPs are translated (DNAT to a pod, SNAT where
# Kubernetes does it) as on a real cluster. Its rules live in the node's network namespace (node 1:
# this machine's) and match only the test subnets: Service IPs ($SERVICE_CIDR), NodePorts on the
# node subnet only (nodePortAddresses), and its masquerade is for packets it marked itself (traffic
# to a Service from outside $CLUSTER_CIDR, hairpin), never masquerade-all. It changes no sysctl:
# no route_localnet (localhostNodePorts off), no conntrack table size or timeouts (all 0).
# test/e2e/cluster.test.ts checks what it installs on node 1.
write_kube_proxy_config() {
  local cluster_cidr=$CLUSTER_CIDR
  ((NODE_DUAL == 0)) || cluster_cidr+=",$CLUSTER_CIDR6"
  cat > "$NODE_CONF_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $CONF_DIR/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: $NODE_IP:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:10249
mode: iptables
clusterCIDR: $cluster_cidr
detectLocalMode: ClusterCIDR
nodePortAddresses: ["$NODE_SUBNET"]
iptables:
  masqueradeAll: false
  localhostNodePorts: false
  syncPeriod: 30s
  minSyncPeriod: 1s
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
# Root lacks CAP_SYS_RESOURCE here: leave its OOM score alone.
oomScoreAdj: 0
EOF
}

# ---------------------------------------------------------------------------------------------------
# Processes
log_file() { if is_node_component "$1"; then echo "$NODE_LOG_DIR/$1.log"; else echo "$LOG_DIR/$1.log"; fi; }

# start_component NAME ARGS...: containerd and kubelet start on the current node (node_env).
start_component() {
  local name=$1; shift
  if component_pid "$name" >/dev/null; then
    return 0
  fi
  local bin logf launch=() envs=() pid what=$name
  bin=$(component_bin "$name")
  logf=$(log_file "$name")
  [[ -x "$bin" ]] || die "$bin not found"
  printf '\n===== %s start %s =====\n' "$name" "$(date -Is)" >> "$logf"
  if [[ "$name" == containerd || "$name" == crio ]]; then
    # Registries are unreachable on purpose: every pull goes to a "proxy" on loopback that refuses
    # the connection, so no image name makes the runtime resolve or reach a host off this machine,
    # and a missing image fails at once (ErrImagePull) instead of hanging.
    envs=(HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 NO_PROXY= no_proxy=)
    # containerd 2 finds its own runc shim first (Debian's 1.6 one is on PATH too).
    if [[ "$name" == containerd && "$NODE_RUNTIME" == containerd ]]; then envs+=("PATH=${bin%/*}:$PATH"); fi
  fi
  if is_node_component "$name" && ((NODE_NUM > 1)); then
    # Into the node's network, mount, PID, UTS and IPC namespaces. nsenter forks the component there and
    # waits for it, so the component is nsenter's only child.
    launch=(nsenter -t "$(node_init_pid || die "$NODE_NAME is not running")" -n -m -p -u -i --)
    what="$NODE_NAME's $name"
  fi
  # setsid + nohup: the component survives this shell and any terminal; it gets no stdin.
  env "${envs[@]}" setsid nohup "${launch[@]}" "$bin" "$@" >> "$logf" 2>&1 < /dev/null &
  pid=$!
  if ((${#launch[@]})); then
    pid=$(child_of "$pid") || { tail -n 20 "$logf" >&2; die "$what did not start (log: $logf)"; }
  fi
  echo "$pid" > "$(pid_file "$name")"
  log "started $what (pid $pid)"
  sleep 0.2
  component_pid "$name" >/dev/null || { tail -n 20 "$logf" >&2; die "$what exited at once (log: $logf)"; }
}

ensure_healthy() { # ensure_healthy NAME TIMEOUT
  local name=$1 timeout=$2 logf
  logf=$(log_file "$name")
  if ! wait_for "$timeout" "$name health" component_healthy "$name"; then
    tail -n 30 "$logf" >&2
    die "$name is not healthy (log: $logf)"
  fi
}

start_etcd() {
  local extra=()
  # 3.5 can skip fsync: this is a throwaway test cluster on a busy shared disk.
  if [[ "$ETCD_SOURCE" == built ]]; then extra+=(--unsafe-no-fsync); fi
  start_component etcd --name knetns --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "$ETCD_CLIENT_URL" --advertise-client-urls "$ETCD_CLIENT_URL" \
    --listen-peer-urls "$ETCD_PEER_URL" --initial-advertise-peer-urls "$ETCD_PEER_URL" \
    --initial-cluster "knetns=$ETCD_PEER_URL" --initial-cluster-state new \
    --snapshot-count 10000 "${extra[@]}"
  ensure_healthy etcd 30
}

start_runtime() {
  if [[ "$NODE_RUNTIME" == crio ]]; then
    # Its own (empty) drop-in dir: by default it would read the machine's /etc/crio/crio.conf.d.
    mkdir -p "$NODE_CONF_DIR/crio.conf.d"
    start_component crio --config "$NODE_CONF_DIR/crio.conf" --config-dir "$NODE_CONF_DIR/crio.conf.d"
  else
    start_component containerd --config "$NODE_CONF_DIR/containerd.toml"
  fi
  ensure_healthy "$RUNTIME_COMPONENT" 30
}

# The audit log records every exec, attach and port-forward request (metadata only: who, when, the
# request URI) once, when it completes, and nothing else, so tests and benchmarks can count what the
# plugin asks of the API server. Bounded: two files of at most 100 MB (an exec that carries a big
# script in its URI writes ~100 KB; a smaller file rotated in the middle of a measurement).
write_audit_policy() {
  cat > "$CONF_DIR/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: [pods/exec, pods/attach, pods/portforward, pods/ephemeralcontainers]
  - level: None
POLICY
}

start_apiserver() {
  write_audit_policy
  start_component kube-apiserver \
    --audit-policy-file "$CONF_DIR/audit-policy.yaml" --audit-log-path "$AUDIT_LOG" \
    --audit-log-maxsize 100 --audit-log-maxbackup 1 \
    --etcd-servers "$ETCD_CLIENT_URL" \
    --bind-address "$CONTROL_PLANE_IP" --advertise-address "$CONTROL_PLANE_IP" --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
    --client-ca-file "$PKI_DIR/ca.crt" \
    --kubelet-client-certificate "$PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI_DIR/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction,PodSecurity \
    --allow-privileged=true \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI_DIR/sa.pub" \
    --service-account-signing-key-file "$PKI_DIR/sa.key" \
    --anonymous-auth=false --profiling=false --event-ttl 1h --v 1
  ensure_healthy kube-apiserver 90
}

start_controller_manager() {
  local kc="$CONF_DIR/controller-manager.kubeconfig"
  # No pod CIDR allocation: each node's CIDR is fixed by its number (node_env) and set on its Node
  # object by set_pod_cidr, so spec.podCIDR always matches the range its CNI config hands out.
  start_component kube-controller-manager \
    --kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 --leader-elect=false \
    --use-service-account-credentials=true \
    --root-ca-file "$PKI_DIR/ca.crt" --service-account-private-key-file "$PKI_DIR/sa.key" \
    --cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key" \
    --allocate-node-cidrs=false --cluster-cidr "$CLUSTER_CIDR" \
    --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false --v 1 \
    --flex-volume-plugin-dir "$STATE_DIR/kubelet-plugins/volume/exec"
  ensure_healthy kube-controller-manager 60
}

start_scheduler() {
  local kc="$CONF_DIR/scheduler.kubeconfig"
  start_component kube-scheduler \
    --kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v 1
  ensure_healthy kube-scheduler 60
}

start_kube_proxy() {
  write_kube_proxy_config
  start_component kube-proxy --config "$NODE_CONF_DIR/kube-proxy.yaml"
  ensure_healthy kube-proxy 60
}

start_kubelet() {
  local node_ips=$NODE_IP
  ((NODE_DUAL == 0)) || node_ips+=",$NODE_IP6"
  start_component kubelet --config "$NODE_CONF_DIR/kubelet.yaml" \
    --kubeconfig "$NODE_CONF_DIR/kubelet.kubeconfig" --root-dir "$KUBELET_ROOT" \
    --node-ip "$node_ips" --hostname-override "$NODE_NAME" --v 1
  ensure_healthy kubelet 60
}

# The current node's spec.podCIDR(s), set once (immutable) to the ranges its pods get.
set_pod_cidr() {
  local cur pod_cidrs="\"$POD_CIDR\""
  ((NODE_DUAL == 0)) || pod_cidrs+=",\"$POD_CIDR6\""
  cur=$(kubectl_admin get node "$NODE_NAME" -o 'jsonpath={.spec.podCIDR}')
  if [[ -z "$cur" ]]; then
    kubectl_admin patch node "$NODE_NAME" --type merge \
      -p "{\"spec\":{\"podCIDR\":\"$POD_CIDR\",\"podCIDRs\":[$pod_cidrs]}}" >/dev/null
  elif [[ "$cur" != "$POD_CIDR" ]]; then
    log "warning: node $NODE_NAME has spec.podCIDR $cur, but its pods get addresses from $POD_CIDR"
  fi
}

# Images are built once and imported into every node's runtime: containerd's through ctr, CRI-O's
# containers-storage through skopeo.
import_images() {
  local count=$1 n args=(--ctr "$CTR")
  for ((n = 1; n <= count; n++)); do
    node_env "$n"
    if [[ "$NODE_RUNTIME" == crio ]]; then args+=(--storage "$CRIO_STORAGE+$CRIO_RUNROOT"); else args+=(--address "$CONTAINERD_SOCK"); fi
  done
  node_env 1
  "$NODE" "$REPO_DIR/scripts/images/build.ts" "${args[@]}"
}

default_sa_exists() { kubectl_admin get serviceaccount default -n default --request-timeout=3s >/dev/null 2>&1; }

# Everything of a COUNT-node cluster runs and is healthy, and no node beyond COUNT is left.
all_healthy() {
  local count=$1 c n
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler; do
    component_pid "$c" >/dev/null && component_healthy "$c" || return 1
  done
  for ((n = 1; n <= count; n++)); do
    node_env "$n"
    for c in "${NODE_COMPONENTS[@]}"; do
      if ! component_pid "$c" >/dev/null || ! component_healthy "$c"; then node_env 1; return 1; fi
    done
    node_ready || { node_env 1; return 1; }
  done
  node_env 1
  for n in $(present_extra_nodes); do ((n <= count)) || return 1; done
  ip link show "$LAN_BRIDGE" >/dev/null 2>&1 || return 1
  [[ -n "$(ip rule show pref "$FORWARD_TABLE")" ]] || return 1
  default_sa_exists
}

# A CRI-O node's kubelet sees no huge page sizes. This kernel lists hugetlb in /proc/cgroups but
# mounts no cgroup v1 hierarchy for it: CRI-O then passes kubelet's per-size limits (0 each) to the
# OCI runtime, which fails every container ("cannot set hugetlb limit: container could not join or
# create cgroup"); containerd skips them (disable_hugetlb_controller). An empty directory over
# /sys/kernel/mm/hugepages, in the node's own mount namespace only, is what a node without huge
# pages shows.
hide_hugepages() {
  local init
  init=$(node_init_pid) || die "$NODE_NAME is not running"
  grep -q ' /sys/kernel/mm/hugepages ' "/proc/$init/mountinfo" && return 0
  mkdir -p "$NODE_STATE/no-hugepages"
  nsenter -t "$init" -m -- mount --bind "$NODE_STATE/no-hugepages" /sys/kernel/mm/hugepages
}

# Brings node N >= 2 up to a running container runtime (kubelet comes later, after the control plane).
extra_node_up() {
  node_env "$1"
  node_dirs
  node_cgroups
  start_node_init
  [[ "$NODE_RUNTIME" != crio ]] || hide_hugepages
  node_network
  node_pki
  write_runtime_config
  write_kubelet_config
  start_runtime
}

# $STATE_DIR/nodes.json: every node's name, flavour, addresses and the way into its namespaces, for
# the tests (test/helpers/cluster.ts) and anyone scripting against the cluster.
write_nodes_file() {
  local count=$1 n init items=()
  for ((n = 1; n <= count; n++)); do
    node_env "$n"
    init=$(node_init_pid || echo 0)
    items+=("$(jq -nc --arg name "$NODE_NAME" --argjson num "$n" --arg runtime "$NODE_RUNTIME" --arg cni "$NODE_CNI" \
      --argjson dual "$NODE_DUAL" --arg flavour "$NODE_FLAVOUR" --arg ip "$NODE_IP" --arg ip6 "$( ((NODE_DUAL)) && echo "$NODE_IP6")" \
      --arg podCIDR "$POD_CIDR" --arg podCIDR6 "$( ((NODE_DUAL)) && echo "$POD_CIDR6")" \
      --arg bridge "$( [[ "$NODE_CNI" == bridge ]] && echo "$BRIDGE")" --arg gateway "$( [[ "$NODE_CNI" == ptp ]] && echo "$PTP_GATEWAY" || echo "$POD_GATEWAY")" \
      --arg socket "$RUNTIME_SOCK" --argjson initPid "$init" '{name: $name, number: $num, flavour: $flavour, runtime: $runtime,
        cni: $cni, dualStack: ($dual == 1), ip: $ip, ip6: ($ip6 | select(. != "") // null), podCIDR: $podCIDR,
        podCIDR6: ($podCIDR6 | select(. != "") // null), bridge: ($bridge | select(. != "") // null), gateway: $gateway,
        runtimeSocket: $socket, initPid: (if $initPid == 0 then null else $initPid end)}')")
  done
  node_env 1
  printf '%s\n' "${items[@]}" | jq -s '{k8sVersion: "'"$K8S_VERSION"'", nodes: .}' > "$STATE_DIR/nodes.json.tmp"
  mv "$STATE_DIR/nodes.json.tmp" "$STATE_DIR/nodes.json"
}

# Closes every descriptor above stderr that the caller left open. The daemons started here live on
# after this script; one that inherits a caller's lock file (flock) keeps it locked for as long as
# the cluster runs, and every later caller waits for ever.
close_inherited_fds() {
  local fd
  for fd in "/proc/$$/fd"/*; do
    fd=${fd##*/}
    if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

main() {
  close_inherited_fds
  parse_args "$@"
  check_prereqs
  ensure_binaries
  set_ctr
  replace_mismatches
  local n
  if all_healthy "$NODES"; then
    import_images "$NODES"
    log "already running and healthy ($((SECONDS - START))s)"
  else
    # Fewer nodes than before: the extra ones go first (down.sh --node removes one node completely).
    for n in $(present_extra_nodes); do
      ((n <= NODES)) || bash "$CLUSTER_DIR/down.sh" --node "$n"
    done
    host_setup
    node_env 1
    node_dirs
    network_setup
    pki_setup
    node_pki
    write_runtime_config
    write_kubelet_config
    start_etcd
    start_runtime
    for ((n = 2; n <= NODES; n++)); do extra_node_up "$n"; done
    node_env 1
    cluster_routes "$NODES"
    import_images "$NODES"
    start_apiserver
    start_controller_manager
    start_scheduler
    for ((n = 1; n <= NODES; n++)); do
      node_env "$n"
      start_kubelet
    done
    for ((n = 1; n <= NODES; n++)); do
      node_env "$n"
      wait_for 120 "node $NODE_NAME Ready" node_ready || { tail -n 30 "$NODE_LOG_DIR/kubelet.log" >&2; die "node $NODE_NAME not Ready"; }
      set_pod_cidr
      start_kube_proxy
    done
    node_env 1
    wait_for 60 "the default service account" default_sa_exists || die "no default service account (log: $LOG_DIR/kube-controller-manager.log)"
    local nodes=""
    for ((n = 1; n <= NODES; n++)); do
      node_env "$n"
      nodes+="${nodes:+, }$NODE_NAME ($NODE_FLAVOUR, $NODE_IP, pods $POD_CIDR"
      ((NODE_DUAL == 0)) || nodes+=" $POD_CIDR6"
      nodes+=")"
    done
    node_env 1
    log "cluster up in $((SECONDS - START))s: Kubernetes $K8S_VERSION, $NODES node(s): $nodes"
  fi
  echo "$NODES" > "$NODE_COUNT_FILE"
  echo "$K8S_VERSION" > "$STATE_DIR/k8s-version"
  write_nodes_file "$NODES"
  echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
  # The public default debug image is not reachable from this cluster; the locally built one is.
  echo "export KUBECTL_NETNS_IMAGE=kubectl-netns.local/debug:dev"
}

main "$@"
