#!/usr/bin/env bash
# Start building the oldest supported Kubernetes (K8S_OLDEST) in the background, at the lowest CPU
# priority, when it is not cached yet: on a cold machine `npm test` then overlaps that build (about
# 20 minutes on 2 cores) with the tests on the newest release, and its posttest (test-oldest.sh)
# finds it done or waits for it (build.sh locks each release's build). A warm cache does nothing.
#
# Usage: bash scripts/cluster/build-ahead.sh        (npm's pretest; KNETNS_BUILD_AHEAD=0 turns it off)
#        bash scripts/cluster/build-ahead.sh --stop (ends a build still running: .ci/run's exit)
#        (--run is the background part itself)
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cluster/versions.sh
. "$SCRIPT_DIR/versions.sh"
CACHE_DIR=${KNETNS_CACHE_DIR:-/var/cache/kubectl-netns}
PID_FILE="$CACHE_DIR/build-ahead.pid"
LOG="$CACHE_DIR/build-ahead.log"

if [[ "${1:-}" == --stop ]]; then
  pid=$(cat "$PID_FILE" 2>/dev/null || true)
  # Its own session (setsid below): the whole group goes, go build's compilers included.
  [[ -z "$pid" ]] || kill -- "-$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
  exit 0
fi
if [[ "${1:-}" == --run ]]; then
  # The pid file names a running build only: a stale one could name some other process group later.
  rc=0
  KNETNS_K8S_VERSION=$K8S_OLDEST bash "$SCRIPT_DIR/build.sh" k8s || rc=$?
  rm -f "$PID_FILE"
  exit "$rc"
fi
[[ "${KNETNS_BUILD_AHEAD:-1}" != 0 ]] || exit 0
out="$CACHE_DIR/k8s-$K8S_OLDEST"
[[ ! -f "$out/.complete" ]] || exit 0
pid=$(cat "$PID_FILE" 2>/dev/null || true)
if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
  exit 0
fi
mkdir -p "$CACHE_DIR"
setsid nice -n 19 bash "$SCRIPT_DIR/build-ahead.sh" --run </dev/null >"$LOG" 2>&1 &
echo $! >"$PID_FILE"
printf '[build] kubernetes %s: building in the background for the tests on the oldest release (log: %s)\n' \
  "$K8S_OLDEST" "$LOG" >&2
