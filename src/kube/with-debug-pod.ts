// The debug pod's lifecycle, written once for every command: start it next to the target, record
// it as a possible leftover, run the command's work, and always delete it. A failed delete is
// reported as a warning; it never replaces the command's own result.
import { debug, info, warn } from '../log.ts';
import { VERSION } from '../version.ts';
import { debugPodRights, type RightsCheck } from './access.ts';
import type { KubeClient } from './client.ts';
import { DebugSession } from './session.ts';

/** What starting a debug pod needs from the run: the client, the user's pod choices, and the process wiring. */
export interface DebugPodContext {
  readonly client: KubeClient;
  readonly image: string;
  readonly privileged: boolean;
  readonly podTimeoutMs: number;
  /** Aborted on Ctrl-C/SIGTERM: waiting for the pod stops at once. */
  readonly signal: AbortSignal;
  /** Records something a hard exit would leave behind; returns its remover. */
  readonly track: (key: string, description: string) => () => void;
  /** Checks RBAC rights up front, once per run. */
  readonly rights: RightsCheck;
}

/** Where the debug pod goes and what it is for. */
export interface DebugPodSpec {
  /** Namespace the debug pod is created in. */
  namespace: string;
  node: string;
  /** The pod it serves (labels, annotation, name); undefined for node-wide work. */
  target?: { namespace: string; pod: string } | undefined;
  /** The node's own network instead of the pod network (node scans, host-side capture). */
  hostNetwork?: boolean | undefined;
  /** Bounds the pod's deadline when the user gave --duration. */
  durationSeconds?: number | undefined;
  /** Kernel capture buffers (MiB) its tcpdumps will hold, so its memory limit covers them. */
  captureBuffersMiB?: readonly number[] | undefined;
  /** Disk its captures' spools may take (bytes), so its spool volume and storage limit cover them. */
  spoolBytes?: number | undefined;
  /** How long it waits for this client to come back after the connection broke. */
  reconnectSeconds?: number | undefined;
  /** A detached capture's pod: its ID and who started it. */
  detached?: { id: string; startedBy: string | undefined } | undefined;
  /**
   * Read-only work (node scans): once it is done the pod is removed at once (grace 0) rather than
   * waiting for its kubelet to confirm the end (see DebugSession.close).
   */
  removeAtOnce?: boolean | undefined;
}

/** A running debug pod and how to let it go. */
export interface OpenDebugPod {
  readonly session: DebugSession;
  /** Deletes the pod and stops tracking it; a failure is a warning, never an error. */
  close(): Promise<void>;
  /** Leaves a detached pod running (see DebugSession.leave) and stops tracking it as a leftover. */
  leave(): void;
}

/**
 * Starts a debug pod on SPEC.node and waits until it runs; the caller must close() it on every
 * path (withDebugPod does). For captures that keep a pod per node open while targets come and go.
 */
export async function openDebugPod(ctx: DebugPodContext, spec: DebugPodSpec): Promise<OpenDebugPod> {
  // Every right the pod's life needs, asked before it exists: never a node-root pod that we then
  // cannot use or cannot delete.
  await ctx.rights.assert(debugPodRights(spec.namespace));
  const where = spec.target && spec.namespace === spec.target.namespace ? '' : ` in namespace ${spec.namespace}`;
  info(`starting debug pod on node ${spec.node}${where}...`);
  let untrack = () => {};
  const opening = DebugSession.open(ctx.client, {
    namespace: spec.namespace,
    nodeName: spec.node,
    image: ctx.image,
    privileged: ctx.privileged,
    target: spec.target,
    durationSeconds: spec.durationSeconds,
    hostNetwork: spec.hostNetwork,
    captureBuffersMiB: spec.captureBuffersMiB,
    spoolBytes: spec.spoolBytes,
    reconnectSeconds: spec.reconnectSeconds,
    detached: spec.detached,
    version: VERSION,
    podTimeoutMs: ctx.podTimeoutMs,
    signal: ctx.signal,
    onProgress: (detail) => debug(`debug pod on ${spec.node}: ${detail}`),
    onCreated: (s) => (untrack = ctx.track(s.podName, `debug pod ${s.namespace}/${s.podName}`)),
  });
  // A pod that never ran is deleted by open() itself.
  const session = await opening.catch((err: unknown) => {
    untrack();
    throw err;
  });
  let closing: Promise<void> | undefined;
  return {
    session,
    close() {
      closing ??= session
        .close(undefined, spec.removeAtOnce === true)
        .catch((err: unknown) =>
          warn(
            `could not delete debug pod ${session.namespace}/${session.podName}: ${err instanceof Error ? err.message : String(err)}; run kubectl netns cleanup`,
          ),
        )
        .finally(untrack);
      return closing;
    },
    leave() {
      if (closing) return;
      session.leave();
      untrack();
    },
  };
}

/** Runs FN with a running debug pod on SPEC.node and deletes the pod on every exit path. */
export async function withDebugPod<T>(
  ctx: DebugPodContext,
  spec: DebugPodSpec,
  fn: (session: DebugSession) => Promise<T>,
): Promise<T> {
  const pod = await openDebugPod(ctx, spec);
  try {
    return await fn(pod.session);
  } finally {
    await pod.close();
  }
}
