// The debug pod, built by a PURE function so its whole shape is reviewed and tested as one object.
// It runs on the target's node with the host PID namespace, so the agent can see the target's
// processes and nsenter into their network namespace. It does nothing by itself but sleep; all
// work arrives by exec, which keeps user input out of the pod spec and out of any shell string.
import type { V1Pod } from './client.ts';

/** A real public image that has sh, tcpdump, util-linux nsenter, iproute2 (ip, ss). */
export const DEFAULT_IMAGE = 'docker.io/nicolaka/netshoot:v0.13';
export const MANAGED_BY = 'kubectl-netns';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_SESSION = 'kubectl-netns.io/session';
export const LABEL_TARGET_POD = 'kubectl-netns.io/target-pod';
export const LABEL_TARGET_NAMESPACE = 'kubectl-netns.io/target-namespace';
export const ANNOTATION_TARGET = 'kubectl-netns.io/target';
export const CONTAINER_NAME = 'netns';
/** Capabilities nsenter (SYS_ADMIN to setns, SYS_PTRACE to open other processes' ns files) and tcpdump (NET_ADMIN, NET_RAW) need. */
export const CAPABILITIES = ['SYS_ADMIN', 'SYS_PTRACE', 'NET_ADMIN', 'NET_RAW'];
/** Without --duration a debug pod still dies on its own after this long (a killed client leaves nothing running). */
export const DEFAULT_DEADLINE_SECONDS = 4 * 3600;
/** Slack on top of --duration and --pod-timeout for the PID lookup and the final flush. */
export const DEADLINE_SLACK_SECONDS = 30;

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
  version: string;
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
  const securityContext = o.privileged
    ? { privileged: true, runAsUser: 0, runAsNonRoot: false }
    : {
        runAsUser: 0,
        runAsNonRoot: false,
        allowPrivilegeEscalation: true,
        capabilities: { add: [...CAPABILITIES] },
        seccompProfile: { type: 'Unconfined' },
        appArmorProfile: { type: 'Unconfined' },
      };
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
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: CONTAINER_NAME,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          // The container ends on its own shortly after the deadline even if the kubelet never
          // enforces activeDeadlineSeconds; `sleep N` works in busybox and coreutils alike.
          command: ['sleep', String(deadline + 60)],
          securityContext,
          resources: {
            requests: { cpu: '10m', memory: '32Mi' },
            // tcpdump's capture buffer (--buffer-size, 32 MiB by default) is charged to the pod.
            limits: { memory: '512Mi' },
          },
        },
      ],
    },
  };
}
