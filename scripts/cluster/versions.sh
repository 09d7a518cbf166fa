# shellcheck shell=bash
# shellcheck disable=SC2034  # settings used by the scripts that source this file
# Pinned versions of the local cluster (sourced by build.sh, lib.sh; read by scripts/cluster/paths.ts).
#
# Kubernetes: the newest release the Go module proxy serves (its version list, December 2026:
# v1.34.x, v1.35.4, v1.36.1, v1.36.3, v1.37.2, v1.38.0-beta.0). The supported range is the three
# newest minors, K8S_OLDEST to K8S_NEWEST; CI runs every test on the newest and the e2e tests on the
# oldest (docs/local-cluster.md, "Kubernetes versions"). Pick another with KNETNS_K8S_VERSION=vX.Y.Z
# or `up.sh --k8s-version vX.Y.Z`: any release the proxy serves builds (kubelet >= 1.35 needs, and
# gets, failCgroupV1: false on this cgroup v1 machine).
K8S_NEWEST=v1.37.2
K8S_OLDEST=v1.35.4
K8S_VERSION=${KNETNS_K8S_VERSION:-$K8S_NEWEST}
# etcd: "built" (default) builds ETCD_VERSION from the Go module proxy (~30 s cold, then cached);
# "debian" uses /usr/bin/etcd from etcd-server 3.4.23. That one works, but it is below the minimum
# Kubernetes >= 1.31 documents (3.4.29: it lacks /livez and /readyz), the API server logs
# "RequestWatchProgress feature is not supported" and falls back to reading lists from etcd, and
# it cannot skip fsync on this busy shared disk.
ETCD_SOURCE=${KNETNS_ETCD:-built}
ETCD_VERSION=${KNETNS_ETCD_VERSION:-v3.5.35}
# Container runtimes built from the Go module proxy (docs/local-cluster.md, "Node flavours"):
# containerd 2.x (github.com/containerd/containerd/v2; v2.4.2 is the newest the proxy serves) and
# CRI-O (github.com/cri-o/cri-o: the proxy refuses its version list; v1.34.0 is the newest exact
# version it serves, v1.35.0 to v1.37.0 and v1.34.1 to v1.34.5 answer 403). Debian's containerd
# 1.6.20 stays available as the runtime "containerd1".
CONTAINERD_VERSION=${KNETNS_CONTAINERD_VERSION:-v2.4.2}
CRIO_VERSION=${KNETNS_CRIO_VERSION:-v1.34.0}
