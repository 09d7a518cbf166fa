#!/usr/bin/env bash
# The e2e tests that cover every command (capture with cleanup, exec, shell, inspect, ls, whohas,
# the workload capture with --follow, the shipped RBAC and admission policy, the Wireshark extcap),
# on every node flavour, on the OLDEST supported Kubernetes (K8S_OLDEST in versions.sh). `npm test`
# runs the whole suite on the newest; this is its posttest, so CI proves both ends of the range.
# The cluster is taken down and made anew at that version (up.sh does it); the next plain
# `npm run cluster:up` goes back to the newest the same way.
#
# Usage: bash scripts/cluster/test-oldest.sh      (npm run test:oldest)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/cluster/versions.sh
. scripts/cluster/versions.sh
nodes=${KNETNS_NODES:-3}
echo "[test-oldest] Kubernetes $K8S_OLDEST, $nodes nodes" >&2
bash scripts/cluster/up.sh --nodes "$nodes" --k8s-version "$K8S_OLDEST"
node --test --test-force-exit --test-concurrency=1 test/e2e/cluster.test.ts test/e2e/capture.test.ts \
  test/e2e/exec.test.ts test/e2e/forensics.test.ts test/e2e/workload-capture.test.ts \
  test/e2e/permissions.test.ts test/e2e/wireshark-extcap.test.ts
