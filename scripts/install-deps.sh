#!/usr/bin/env bash
# Install the system packages kubectl-netns' local cluster, images and tests need, on Debian 12 as root.
# Idempotent: when every package is already installed it does not even run apt-get update.
#
# Kubernetes itself is not a Debian package, and Debian's etcd (3.4.23) is older than Kubernetes 1.34
# supports: scripts/cluster/build.sh builds both with Go from the Go module proxy (Go >= 1.24
# needed; Debian 12's golang-go is 1.19, too old). With KNETNS_ETCD=debian the cluster uses
# Debian's etcd instead: then also apt-get install etcd-server.
#
# Usage: sudo bash scripts/install-deps.sh
set -euo pipefail

PACKAGES=(
  containerd runc containernetworking-plugins   # the container runtime and CNI plugins (/usr/lib/cni)
  conmon skopeo                                 # the CRI-O node: its container monitor, its image import
  libseccomp-dev pkg-config                     # CRI-O's seccomp support (cgo), as upstream builds it
  iproute2 iptables util-linux mount            # ip/ss, nsenter, mount --make-rshared
  tcpdump tshark busybox-static dash zstd       # image contents and pcap checks in tests
  gcc libc6-dev                                 # the static pause binary
  openssl ca-certificates curl jq procps        # certificates, health checks
  time                                          # GNU time: the benchmark's RSS and CPU figures
  shellcheck                                    # lint of the shell scripts and the on-node agent
  wireshark-qt xvfb                             # the real Wireshark on a virtual display (--wireshark, extcap)
  x11-apps imagemagick                          # xwd and convert: the screenshot of that Wireshark window
  docker.io                                     # a real Docker engine for the agent tests (never a service)
  binutils skopeo docker-registry               # our debug image: readelf (its libraries), push, a loopback registry to push to
)

say() { printf '[install-deps] %s\n' "$*" >&2; }
die() { printf '[install-deps] error: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -s)" == Linux ]] || die "needs Linux: the local cluster runs kubelet, containerd and network namespaces on this machine"
[[ $EUID -eq 0 ]] || die "needs root: run: sudo bash scripts/install-deps.sh"
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  die "not a Debian-like system (no apt-get). Install by hand: ${PACKAGES[*]} (Debian names; see docs/local-cluster.md), and Go >= 1.24"
fi
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  if [[ "${ID:-}" != debian || "${VERSION_ID:-}" != 12 ]]; then
    say "warning: tested on Debian 12, this is ${PRETTY_NAME:-unknown}; package names may differ"
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  say "all ${#PACKAGES[@]} Debian packages already installed"
else
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer it up front (no).
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  # docker.io would start dockerd as a service with its defaults: iptables rules, NAT, a docker0
  # bridge and ip_forward on. The agent tests start their own dockerd without any of that, so no
  # service may start during the install (policy-rc.d 101), nor at boot.
  policy_made=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_made=1
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}" || { ((policy_made)) && rm -f /usr/sbin/policy-rc.d; exit 1; }
  if ((policy_made)); then rm -f /usr/sbin/policy-rc.d; fi
  if [[ " ${missing[*]} " == *" docker.io "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable docker.service docker.socket >/dev/null 2>&1 || true
  fi
fi

# Go, to build the pinned Kubernetes release (and nothing else needs it at run time).
GO=$(command -v go || true)
if [[ -z "$GO" && -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; fi
if [[ -z "$GO" ]]; then
  say "MISSING: Go >= 1.24 (not from Debian 12: its golang-go is 1.19). Install it from https://go.dev/dl/ into /usr/local/go"
  exit 1
fi
gov=$("$GO" env GOVERSION)          # go1.26.8
minor=${gov#go1.}; minor=${minor%%.*}
if ((minor < 24)); then
  say "MISSING: Go >= 1.24 to build Kubernetes; $GO is $gov"
  exit 1
fi
say "Go: $gov at $GO"

# Node >= 22 comes from the project's own devDependencies (npm ci) when the system one is older.
say "Node: run 'npm ci' in the repo (it brings node@22 into node_modules/.bin)"
say "done; next: sudo npm run cluster:up"
