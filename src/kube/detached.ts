// Finding detached captures (capture --detach): their debug pods carry the ID as a label, and
// each pod's spool volume holds one ring per captured target, which the agent's `spools` op lists.
import { randomBytes } from 'node:crypto';
import { ExitCode, UserError } from '../errors.ts';
import { collectOk } from '../node/agent-ops.ts';
import { spoolsArgv } from '../node/agent.ts';
import { parseSpools, type SpoolInfo } from '../node/spool-list.ts';
import { SPOOL_ROOT } from '../node/spool-plan.ts';
import type { DetachedSpool } from '../output/captures-view.ts';
import type { KubeClient, V1Pod } from './client.ts';
import { ANNOTATION_STARTED_BY, CONTAINER_NAME, LABEL_DETACHED, LABEL_MANAGED_BY, MANAGED_BY } from './debug-pod.ts';
import { execInPod, type ExecRequest } from './exec-stream.ts';
import type { AgentExec } from '../node/agent-ops.ts';

/** What `capture --detach` prints and the other commands take: 8 lowercase hex digits. */
export const DETACHED_ID = /^[0-9a-f]{8}$/;

/** A new detached capture's ID. */
export function newDetachedId(): string {
  return randomBytes(4).toString('hex');
}

/** ID checked as the user typed it, before it goes into a label selector. */
export function checkDetachedId(id: string): string {
  if (!DETACHED_ID.test(id)) {
    throw new UserError(`"${id}" is not a detached capture's ID`, {
      exitCode: ExitCode.usage,
      hint: 'IDs are the 8 hex digits `capture --detach` printed; `kubectl netns captures` lists them',
    });
  }
  return id;
}

/** The debug pods of detached captures (of ID, or of all) in NAMESPACE, or everywhere when undefined. */
export function listDetachedPods(client: KubeClient, namespace: string | undefined, id?: string): Promise<V1Pod[]> {
  const which = id === undefined ? LABEL_DETACHED : `${LABEL_DETACHED}=${id}`;
  return client.listPods(namespace, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY},${which}` });
}

/** Whether POD's container still runs (its spools can be read). Pure. */
export function podRuns(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
}

/** When POD ends by itself (its activeDeadlineSeconds), if it says. Pure. */
export function podDeadline(pod: V1Pod): Date | undefined {
  const started = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  const seconds = pod.spec?.activeDeadlineSeconds;
  if (!started || seconds === undefined) return undefined;
  return new Date(new Date(started).getTime() + seconds * 1000);
}

/** A detached capture's debug pod as an exec target. */
export function podAgent(client: KubeClient, pod: V1Pod): AgentExec {
  const namespace = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  return {
    exec: (command: string[], io: Omit<ExecRequest, 'namespace' | 'pod' | 'container' | 'command'>) =>
      execInPod(client, { ...io, namespace, pod: name, container: CONTAINER_NAME, command }),
  };
}

/** The spools of one running detached pod, as the listing shows them. */
export async function podSpools(client: KubeClient, pod: V1Pod): Promise<DetachedSpool[]> {
  const out = await collectOk(podAgent(client, pod), spoolsArgv(SPOOL_ROOT), 'spools');
  return parseSpools(out).map((spool: SpoolInfo) => ({
    id: pod.metadata?.labels?.[LABEL_DETACHED] ?? '',
    namespace: pod.metadata?.namespace ?? '',
    pod: pod.metadata?.name ?? '',
    node: pod.spec?.nodeName ?? '',
    startedBy: pod.metadata?.annotations?.[ANNOTATION_STARTED_BY],
    deadline: podDeadline(pod),
    spool,
  }));
}

/** Detached capture ID's running pods in NAMESPACE (everywhere when undefined), or a not-found error that says where it looked. */
export async function findDetached(client: KubeClient, namespace: string | undefined, id: string): Promise<V1Pod[]> {
  const pods = await listDetachedPods(client, namespace, checkDetachedId(id));
  const running = pods.filter(podRuns);
  if (running.length > 0) return running;
  const where = namespace ? `namespace ${namespace}` : 'any namespace';
  throw new UserError(
    pods.length > 0
      ? `detached capture ${id} has ended: its debug pod passed its deadline, and its packets with it`
      : `no detached capture ${id} in ${where}`,
    {
      exitCode: ExitCode.notFound,
      hint:
        pods.length > 0
          ? 'fetch a detached capture before its deadline (capture --keep sets how long it is kept)'
          : 'kubectl netns captures -A lists them all; give the namespace of its debug pod with -n',
    },
  );
}
