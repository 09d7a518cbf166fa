#!/usr/bin/env bash
# Bring up (or confirm) the local single-node Kubernetes cluster: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd and kubelet, all real, all on this machine.
#
# Idempotent: a component already running is left alone; when everything is healthy this returns in
# seconds. Networking stays on this machine: the node IP sits on a veth pair we create, pods sit on
# our bridge, there is no masquerade, no default route in pods, and IP forwarding is not enabled.
#
# Usage: bash scripts/cluster/up.sh        (npm run cluster:up)
set -euo pipefail

START=$SECONDS
# shellcheck source=scripts/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------------------------------------------
# Prerequisites
check_prereqs() {
  [[ "$(uname -s)" == Linux ]] || die "needs Linux (kubelet, containerd, network namespaces)"
  [[ $EUID -eq 0 ]] || die "needs root (mounts, interfaces, cgroups): run it with sudo"
  local missing=() cmd
  for cmd in containerd ctr runc openssl curl ip mount nsenter gcc ldd tcpdump ss jq; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  [[ "$ETCD_SOURCE" == built || -x "$ETCD_BIN" ]] || missing+=(etcd-server)
  for cmd in bridge host-local loopback; do
    [[ -x "$CNI_BIN_DIR/$cmd" ]] || missing+=("cni:$cmd")
  done
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: install them with: sudo bash scripts/install-deps.sh"
  NODE=$(command -v node || true)
  if [[ -x "$REPO_DIR/node_modules/.bin/node" ]]; then NODE="$REPO_DIR/node_modules/.bin/node"; fi
  [[ -n "$NODE" ]] || die "missing node (>= 22): run npm ci in $REPO_DIR"
  [[ -d "$REPO_DIR/node_modules/tar-stream" ]] || die "missing npm packages: run npm ci in $REPO_DIR"
  [[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] || die "no cgroup hierarchy under /sys/fs/cgroup"
}

# Kubernetes (and maybe etcd) binaries: built once from the Go module proxy, then cached.
ensure_binaries() {
  bash "$CLUSTER_DIR/build.sh"
}

# ---------------------------------------------------------------------------------------------------
# Host setup
host_setup() {
  # kubelet mounts volumes with propagation and refuses a private root mount.
  mount --make-rshared /
  mkdir -p "$STATE_DIR" "$PKI_DIR" "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$CNI_CONF_DIR" "$CNI_IPAM_DIR" \
    "$KUBELET_ROOT" "$CONTAINERD_ROOT" "$CONTAINERD_STATE" "$RUNC_ROOT" "$STATE_DIR/etcd" "$STATE_DIR/pod-logs"
  chmod 700 "$PKI_DIR" "$STATE_DIR/etcd"
  # Paths outside our state dirs that the components create at fixed places: kubelet's device-plugin
  # socket dir and container-log symlink dir, libcni's cache dir, containerd 1.6 shims' socket dir.
  # Remember the ones that do not exist yet, so down.sh removes exactly those (and only when empty).
  local d
  for d in /var/lib/kubelet /var/lib/kubelet/device-plugins /var/log/containers /var/lib/cni "$CNI_CACHE_DIR" \
    /run/containerd /run/containerd/s; do
    if [[ ! -e "$d" ]] && ! grep -qxF "$d" "$STATE_DIR/created-dirs" 2>/dev/null; then
      echo "$d" >> "$STATE_DIR/created-dirs"
    fi
  done
}

network_setup() {
  # The node IP: on one end of a veth pair whose other end stays in the root namespace too.
  if ! ip link show "$NODE_IF" >/dev/null 2>&1; then
    ip link add "$NODE_IF" type veth peer name "$NODE_PEER_IF"
  fi
  ip addr replace "$NODE_IP/$NODE_PREFIX" dev "$NODE_IF"
  ip link set "$NODE_PEER_IF" up
  ip link set "$NODE_IF" up
  # The pod bridge, with the pods' gateway address. We create it (not the CNI bridge plugin with
  # isGateway) because that plugin would switch on net.ipv4.ip_forward for the whole machine.
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr replace "$POD_GATEWAY/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up

  # Pods get an address from POD_CIDR and ONE route: to the node subnet. No default route, so a pod
  # cannot send anything off this machine; nothing is masqueraded.
  cat > "$CNI_CONF_DIR/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CNI_IPAM_DIR",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY" }]],
        "routes": [{ "dst": "$NODE_SUBNET", "gw": "$POD_GATEWAY" }]
      }
    }
  ]
}
EOF
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
    rm -f "$PKI_DIR"/{apiserver,apiserver-kubelet-client,kubelet,kubelet-client,admin,controller-manager,scheduler}.{crt,key}
    rm -f "$KUBECONFIG_ADMIN" "$CONF_DIR"/*.kubeconfig
  fi
  cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$NODE_NAME,IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SVC_IP"
  # The API server's client identity towards kubelet (exec, logs, port-forward).
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  # kubelet's serving certificate, checked by the API server (--kubelet-certificate-authority).
  cert kubelet "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP,IP:127.0.0.1"
  cert kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  cert admin "/O=system:masters/CN=kubectl-netns-admin" clientAuth
  cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  cert scheduler "/CN=system:kube-scheduler" clientAuth
  if [[ ! -s "$PKI_DIR/sa.key" ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/sa.key.tmp" 2>/dev/null
    openssl pkey -in "$PKI_DIR/sa.key.tmp" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
    mv "$PKI_DIR/sa.key.tmp" "$PKI_DIR/sa.key"
  fi
  chmod 600 "$PKI_DIR"/*.key
  kubeconfig "$KUBECONFIG_ADMIN" admin kubectl-netns-admin
  kubeconfig "$CONF_DIR/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  kubeconfig "$CONF_DIR/scheduler.kubeconfig" scheduler system:kube-scheduler
  kubeconfig "$CONF_DIR/kubelet.kubeconfig" kubelet-client "system:node:$NODE_NAME"
}

# ---------------------------------------------------------------------------------------------------
# Component configuration
write_containerd_config() {
  cat > "$CONF_DIR/containerd.toml" <<EOF
# containerd for the kubectl-netns local cluster: its own root, state, socket and runc root, so it
# never mixes with another containerd on this machine.
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

write_kubelet_config() {
  cat > "$CONF_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI_DIR/kubelet.crt
tlsPrivateKeyFile: $PKI_DIR/kubelet.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI_DIR/ca.crt
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
# This machine is cgroup v1 (hybrid) without systemd.
cgroupDriver: cgroupfs
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
podCIDR: $POD_CIDR
podLogsDir: $STATE_DIR/pod-logs
# Not /usr/libexec/kubernetes/...: everything kubelet makes stays under our state dir (the one
# exception is kubelet's fixed device-plugin socket /var/lib/kubelet/device-plugins/kubelet.sock).
volumePluginDir: $STATE_DIR/kubelet-plugins/volume/exec
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
# No iptables rules from kubelet (there is no kube-proxy either).
makeIPTablesUtilChains: false
registerNode: true
serializeImagePulls: false
protectKernelDefaults: false
rotateCertificates: false
serverTLSBootstrap: false
EOF
}

# ---------------------------------------------------------------------------------------------------
# Processes
start_component() { # start_component NAME ARGS...
  local name=$1; shift
  if component_pid "$name" >/dev/null; then
    return 0
  fi
  local bin
  bin=$(component_bin "$name")
  [[ -x "$bin" ]] || die "$bin not found"
  printf '\n===== %s start %s =====\n' "$name" "$(date -Is)" >> "$LOG_DIR/$name.log"
  local envs=()
  if [[ "$name" == containerd ]]; then
    # Registries are unreachable on purpose: every pull goes to a "proxy" on loopback that refuses
    # the connection, so no image name makes containerd resolve or reach a host off this machine,
    # and a missing image fails at once (ErrImagePull) instead of hanging.
    envs=(HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 NO_PROXY= no_proxy=)
  fi
  # setsid + nohup: the component survives this shell and any terminal; it gets no stdin.
  env "${envs[@]}" setsid nohup "$bin" "$@" >> "$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$PID_DIR/$name.pid"
  log "started $name (pid $!)"
  sleep 0.2
  component_pid "$name" >/dev/null || { tail -n 20 "$LOG_DIR/$name.log" >&2; die "$name exited at once (log: $LOG_DIR/$name.log)"; }
}

ensure_healthy() { # ensure_healthy NAME TIMEOUT
  local name=$1 timeout=$2
  if ! wait_for "$timeout" "$name health" component_healthy "$name"; then
    tail -n 30 "$LOG_DIR/$name.log" >&2
    die "$name is not healthy (log: $LOG_DIR/$name.log)"
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

start_containerd() {
  start_component containerd --config "$CONF_DIR/containerd.toml"
  ensure_healthy containerd 30
}

start_apiserver() {
  start_component kube-apiserver \
    --etcd-servers "$ETCD_CLIENT_URL" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
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
  start_component kube-controller-manager \
    --kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 --leader-elect=false \
    --use-service-account-credentials=true \
    --root-ca-file "$PKI_DIR/ca.crt" --service-account-private-key-file "$PKI_DIR/sa.key" \
    --cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key" \
    --allocate-node-cidrs=true --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24 \
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

start_kubelet() {
  start_component kubelet --config "$CONF_DIR/kubelet.yaml" \
    --kubeconfig "$CONF_DIR/kubelet.kubeconfig" --root-dir "$KUBELET_ROOT" \
    --node-ip "$NODE_IP" --hostname-override "$NODE_NAME" --v 1
  ensure_healthy kubelet 60
}

import_images() {
  "$NODE" "$REPO_DIR/scripts/images/build.ts" --address "$CONTAINERD_SOCK"
}

default_sa_exists() { kubectl_admin get serviceaccount default -n default --request-timeout=3s >/dev/null 2>&1; }

all_healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do
    component_pid "$c" >/dev/null && component_healthy "$c" || return 1
  done
  node_ready && default_sa_exists
}

main() {
  check_prereqs
  ensure_binaries
  if all_healthy; then
    import_images
    log "already running and healthy ($((SECONDS - START))s)"
  else
    host_setup
    network_setup
    pki_setup
    write_containerd_config
    write_kubelet_config
    start_etcd
    start_containerd
    import_images
    start_apiserver
    start_controller_manager
    start_scheduler
    start_kubelet
    wait_for 120 "node $NODE_NAME Ready" node_ready || { tail -n 30 "$LOG_DIR/kubelet.log" >&2; die "node not Ready"; }
    wait_for 60 "the default service account" default_sa_exists || die "no default service account (log: $LOG_DIR/kube-controller-manager.log)"
    log "cluster up in $((SECONDS - START))s: Kubernetes $K8S_VERSION, node $NODE_NAME ($NODE_IP), pods $POD_CIDR on $BRIDGE"
  fi
  echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
}

main "$@"
