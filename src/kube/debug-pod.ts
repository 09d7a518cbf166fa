// The debug pod, built by a PURE function so its whole shape is reviewed and tested as one object.
// It runs on the target's node with the host PID namespace, so the agent can see the target's
// processes and nsenter into their network namespace. It does nothing by itself but sleep; all
// work arrives by exec, which keeps user input out of the pod spec and out of any shell string.
import type { V1Pod } from './client.ts';
import { SPOOL_ROOT } from '../node/spool-plan.ts';

/**
 * A real public image that has sh, tcpdump, util-linux nsenter, iproute2 (ip, ss), pinned by
 * digest so a re-pushed tag cannot change what runs as root on a node. The digest is the one
 * several independent public projects pin v0.13 to (no registry is reachable from our build).
 */
export const DEFAULT_IMAGE =
  'docker.io/nicolaka/netshoot:v0.13@sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b';
export const MANAGED_BY = 'kubectl-netns';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_SESSION = 'kubectl-netns.io/session';
export const LABEL_TARGET_POD = 'kubectl-netns.io/target-pod';
export const LABEL_TARGET_NAMESPACE = 'kubectl-netns.io/target-namespace';
export const ANNOTATION_TARGET = 'kubectl-netns.io/target';
export const CONTAINER_NAME = 'netns';
/**
 * Capabilities nsenter (SYS_ADMIN to setns, SYS_PTRACE to open other processes' ns files) and
 * tcpdump need: NET_ADMIN and NET_RAW to capture, SETGID for `-Z root` (its initgroups() calls
 * setgroups, which needs it even for root; without -Z, Debian's tcpdump would become user tcpdump,
 * which the agent could then no longer signal to stop).
 */
export const CAPABILITIES = ['SYS_ADMIN', 'SYS_PTRACE', 'NET_ADMIN', 'NET_RAW', 'SETGID'];
/** Without --duration a debug pod still dies on its own after this long (a killed client leaves nothing running). */
export const DEFAULT_DEADLINE_SECONDS = 4 * 3600;
/** Slack on top of --duration and --pod-timeout for the PID lookup and the final flush. */
export const DEADLINE_SLACK_SECONDS = 30;
/** How long the pod waits for its client's hold (see MAIN_SCRIPT) before it concludes the client is gone. */
export const HOLD_ATTACH_SECONDS = 60;
/**
 * Each of the agent's `hold` ops marks the pod held with a file named by its PID (agent.sh has the
 * same prefix), removed when the client's connection ends.
 */
export const HELD_PREFIX = '/tmp/kubectl-netns-held.';
/** Created by the `hold` op when its client says it is done: the pod ends without waiting. */
export const RELEASED_FILE = '/tmp/kubectl-netns-released';
/**
 * Created by every `hold` op as it starts: the main process checks once a second, so a hold that
 * came and went between two checks (a client killed within a second of its capture starting)
 * must still cut the wait from the attach window to the reconnect window.
 */
export const WAS_HELD_FILE = '/tmp/kubectl-netns-was-held';
/** Created by the agent's `detach` op: the pod stays until its deadline, held or not. */
export const DETACHED_FILE = '/tmp/kubectl-netns-detached';
/**
 * How long a pod whose client's connection broke waits for it to come back, by default: long
 * enough for the client's hold to come back after a blip (it retries within a second), short
 * enough that a SIGKILLed client leaves no node-root pod for long. A spooled capture asks for
 * more (its --reconnect-timeout): its tcpdump goes on writing the ring meanwhile.
 */
export const DEFAULT_RECONNECT_SECONDS = 5;
/** The longest a pod waits for its client to come back (the admission policy bounds it too). */
export const MAX_RECONNECT_SECONDS = 3600;
/** A detached capture's debug pod is labelled with the ID `capture --detach` printed. */
export const LABEL_DETACHED = 'kubectl-netns.io/detached';
/** Who started a detached capture (the API server's name for them). */
export const ANNOTATION_STARTED_BY = 'kubectl-netns.io/started-by';
/** The debug container's spool volume (an emptyDir): where captures keep their rings. */
export const SPOOL_VOLUME = 'spool';
/** What the pod writes besides its spool: the agent and a few small files under /tmp. */
const BASE_STORAGE_MIB = 64;
/** SIGTERM reaches `sleep` at once; the grace only has to cover the kubelet's own round trip. */
export const GRACE_SECONDS = 5;
/** Memory every debug pod gets besides the capture buffers: sh, nsenter, ip, ss, awk over /proc. */
const BASE_MEMORY_MIB = 128;
/** A capture's memory on top of its kernel buffer: tcpdump itself and the agent's shell. */
const PER_CAPTURE_MIB = 32;
/**
 * The most memory a debug pod may have (its limit). Kernel capture buffers (--buffer-size) are
 * pinned memory on the node, one per capture; without a cap 20 captures of 4 GiB asked for 82 GiB.
 */
export const MAX_MEMORY_MIB = 2048;

/** The debug pod's memory limit in MiB for tcpdumps with these kernel buffers (MiB each). Pure. */
export function debugPodMemoryMiB(captureBuffersMiB: readonly number[]): number {
  return BASE_MEMORY_MIB + captureBuffersMiB.reduce((sum, b) => sum + b + PER_CAPTURE_MIB, 0);
}

/**
 * The debug container's main process ($1 attach seconds, $2 reconnect seconds, $3 its own deadline
 * in seconds). It runs while a client holds the pod: each `hold` op (whose stdin is the client's
 * connection) keeps a file named by its PID for as long as that connection lives. It waits up to
 * $1 for the first hold; when the last hold ends it ends at once if its client said it was done
 * (RELEASED_FILE), else (the client was killed, or lost its connection) it waits up to $2 for a
 * new hold (a client that reconnects holds again), then ends, so a SIGKILLed client leaves no
 * node-root pod running for long; a hold it never saw (one that ended between two of its checks)
 * counts, by WAS_HELD_FILE. The `detach` op marks a pod that
 * stays, held or not, until its deadline (a detached capture). It never outlives $3.
 */
export const MAIN_SCRIPT = [
  'end=$(($(date +%s) + $3))',
  `held() { for h in ${HELD_PREFIX}*; do [ -e "$h" ] && kill -0 "\${h##*.}" 2>/dev/null && return 0; done; return 1; }`,
  'wait=$1',
  'while :; do',
  '  i=0',
  `  until held || [ -e ${DETACHED_FILE} ]; do`,
  `    if [ -e ${RELEASED_FILE} ]; then exit 0; fi`,
  `    if [ -e ${WAS_HELD_FILE} ]; then wait=$2; fi`,
  '    i=$((i + 1)); if [ "$i" -gt "$wait" ]; then exit 0; fi; sleep 1',
  '  done',
  `  if [ -e ${DETACHED_FILE} ]; then exec sleep $((end - $(date +%s))); fi`,
  '  while held; do if [ "$(date +%s)" -ge "$end" ]; then exit 0; fi; sleep 1; done',
  `  if [ -e ${RELEASED_FILE} ]; then exit 0; fi`,
  '  wait=$2',
  'done',
].join('\n');

export interface DebugPodOptions {
  /** Namespace the debug pod is created in (--debug-namespace, default the target's). */
  namespace: string;
  nodeName: string;
  image: string;
  privileged: boolean;
  target: { namespace: string; pod: string } | undefined;
  sessionId: string;
  /** Random suffix passed in, so tests can pin the name. */
  suffix: string;
  /** When the user asked for --duration, the pod's deadline is bounded by it. */
  durationSeconds?: number | undefined;
  /** --pod-timeout: the deadline clock starts before the image pull, so it must allow for it. */
  podTimeoutSeconds: number;
  /** The node's own network (host-side capture, node-wide listings) instead of the pod network. */
  hostNetwork?: boolean | undefined;
  /** Kernel capture buffers the pod's tcpdumps will hold (MiB each), so the memory limit covers them. */
  captureBuffersMiB?: readonly number[] | undefined;
  /** Disk its captures' spools may take (spool-plan.ts); the spool volume and the storage limit cover it. */
  spoolBytes?: number | undefined;
  /** How long it waits for its client to come back after the connection broke (default 60 s). */
  reconnectSeconds?: number | undefined;
  /** A detached capture's pod: the ID to list and fetch it by, and who started it. */
  detached?: { id: string; startedBy: string | undefined } | undefined;
  version: string;
}

/**
 * WORD as the kubelet must pass it on: it expands `$(NAME)` and turns `$$` into `$` in a
 * container's command and args, so a script's `$$` (its PID) would reach sh as `$`. Doubling every
 * `$` makes the expansion give back WORD exactly. Pure.
 */
export function kubernetesLiteral(word: string): string {
  return word.replaceAll('$', '$$$$');
}

/** Label values are at most 63 chars of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'x';
}

/** `netns-<target>-<suffix>`, a valid pod name of at most 63 characters (so it is also a valid hostname). */
export function debugPodName(targetPod: string | undefined, suffix: string): string {
  const base = (targetPod ?? 'node').replace(/[^a-z0-9-]/g, '-');
  const room = 63 - 'netns-'.length - suffix.length - 1;
  return `netns-${base.slice(0, room).replace(/-+$/, '')}-${suffix}`;
}

/**
 * The pod's activeDeadlineSeconds. With --duration: start-up (at most --pod-timeout, since we give
 * up after that) + the duration + slack, so a SIGKILLed client's pod stops soon after the capture
 * would have ended. Without: a fixed ceiling.
 */
export function deadlineSeconds(durationSeconds: number | undefined, podTimeoutSeconds: number): number {
  if (durationSeconds === undefined) return DEFAULT_DEADLINE_SECONDS;
  return Math.min(DEFAULT_DEADLINE_SECONDS, Math.ceil(podTimeoutSeconds + durationSeconds) + DEADLINE_SLACK_SECONDS);
}

/**
 * The debug container's command, exactly as the pod spec carries it (the admission policy pins
 * it: src/kube/policy-pins.ts, deploy/policy/). The container also ends on its own shortly after
 * the deadline, even if the kubelet never enforces activeDeadlineSeconds; `sleep N` works in
 * busybox and coreutils alike. Only the last word depends on the pod. Pure.
 */
export function debugContainerCommand(deadlineSeconds: number, reconnectSeconds = DEFAULT_RECONNECT_SECONDS): string[] {
  return [
    'sh',
    '-c',
    MAIN_SCRIPT,
    'kubectl-netns-debug',
    String(HOLD_ATTACH_SECONDS),
    String(Math.min(MAX_RECONNECT_SECONDS, Math.max(1, Math.ceil(reconnectSeconds)))),
    String(deadlineSeconds + 60),
  ].map(kubernetesLiteral);
}

/** The debug pod's ephemeral-storage limit in MiB: the agent and small files, and its spools. Pure. */
export function debugPodStorageMiB(spoolBytes: number | undefined): number {
  return BASE_STORAGE_MIB + Math.ceil((spoolBytes ?? 0) / 2 ** 20);
}

/** Builds the debug pod object. Pure: same options, same object. */
export function buildDebugPod(o: DebugPodOptions): V1Pod {
  const deadline = deadlineSeconds(o.durationSeconds, o.podTimeoutSeconds);
  const labels: Record<string, string> = {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_SESSION]: labelValue(o.sessionId),
  };
  const annotations: Record<string, string> = { 'kubectl-netns.io/version': o.version };
  if (o.target) {
    labels[LABEL_TARGET_POD] = labelValue(o.target.pod);
    labels[LABEL_TARGET_NAMESPACE] = labelValue(o.target.namespace);
    annotations[ANNOTATION_TARGET] = `${o.target.namespace}/${o.target.pod}`;
  }
  if (o.detached) {
    labels[LABEL_DETACHED] = labelValue(o.detached.id);
    if (o.detached.startedBy) annotations[ANNOTATION_STARTED_BY] = o.detached.startedBy;
  }
  const spool = o.spoolBytes !== undefined && o.spoolBytes > 0;
  const securityContext = o.privileged
    ? { privileged: true, runAsUser: 0, runAsNonRoot: false }
    : {
        runAsUser: 0,
        runAsNonRoot: false,
        allowPrivilegeEscalation: true,
        // Nothing but what nsenter and tcpdump need, whatever the runtime's default set holds.
        capabilities: { drop: ['ALL'], add: [...CAPABILITIES] },
        // The runtime's default seccomp profile allows setns and packet sockets to a container
        // that has CAP_SYS_ADMIN and CAP_NET_RAW (checked on the local cluster, see docs/permissions.md).
        seccompProfile: { type: 'RuntimeDefault' },
        // AppArmor's default container profile denies ptrace-reading other profiles' processes,
        // which opening /proc/PID/ns/net of the target needs.
        appArmorProfile: { type: 'Unconfined' },
      };
  const memoryMiB = debugPodMemoryMiB(o.captureBuffersMiB ?? []);
  // The commands check this first and say what to change (limits.ts); this is the last guard.
  if (memoryMiB > MAX_MEMORY_MIB) throw new RangeError(`debug pod memory ${memoryMiB} MiB over ${MAX_MEMORY_MIB} MiB`);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: debugPodName(o.target?.pod, o.suffix),
      namespace: o.namespace,
      labels,
      annotations,
    },
    spec: {
      nodeName: o.nodeName,
      hostPID: true,
      ...(o.hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
      restartPolicy: 'Never',
      activeDeadlineSeconds: deadline,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: GRACE_SECONDS,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: CONTAINER_NAME,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          command: debugContainerCommand(deadline, o.reconnectSeconds),
          securityContext,
          resources: {
            requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': '1Mi' },
            // tcpdump's kernel capture buffer (--buffer-size) is charged to the pod; on disk it
            // writes the agent, a few small files under /tmp and its captures' spools.
            limits: { memory: `${memoryMiB}Mi`, 'ephemeral-storage': `${debugPodStorageMiB(o.spoolBytes)}Mi` },
          },
          ...(spool ? { volumeMounts: [{ name: SPOOL_VOLUME, mountPath: SPOOL_ROOT }] } : {}),
        },
      ],
      // The spools live on the node's disk, within the kubelet's accounting of the pod's storage.
      ...(spool
        ? { volumes: [{ name: SPOOL_VOLUME, emptyDir: { sizeLimit: `${Math.ceil(o.spoolBytes! / 2 ** 20)}Mi` } }] }
        : {}),
    },
  };
}
