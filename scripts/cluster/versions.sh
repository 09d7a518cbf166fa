# shellcheck shell=bash
# shellcheck disable=SC2034  # settings used by the scripts that source this file
# Pinned versions of the local cluster (sourced by build.sh, lib.sh; read by test/helpers/cluster.ts).
#
# Kubernetes v1.34.x: the newest minor whose kubelet still runs on cgroup v1 without opting in
# (1.35 needs failCgroupV1: false) and still accepts containerd 1.6/1.7 (Debian 12 ships 1.6.20;
# kubelet falls back from the RuntimeConfig RPC that 1.6 lacks). v1.34.4 is the newest v1.34 patch
# that the Go module proxy serves with a checksum-database entry.
K8S_VERSION=${KNETNS_K8S_VERSION:-v1.34.4}
# etcd: "built" (default) builds ETCD_VERSION from the Go module proxy (~30 s cold, then cached);
# "debian" uses /usr/bin/etcd from etcd-server 3.4.23. That one works, but it is below the minimum
# Kubernetes >= 1.31 documents (3.4.29: it lacks /livez and /readyz), the API server logs
# "RequestWatchProgress feature is not supported" and falls back to reading lists from etcd, and
# it cannot skip fsync on this busy shared disk.
ETCD_SOURCE=${KNETNS_ETCD:-built}
ETCD_VERSION=${KNETNS_ETCD_VERSION:-v3.5.35}
