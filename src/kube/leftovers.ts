// Finding and removing debug pods that a run left behind. A debug pod runs only while its client
// holds it (see MAIN_SCRIPT in debug-pod.ts): a killed client or a lost connection ends the pod
// within seconds, so what is left is an object that has ended, or a pod past its deadline on a
// kubelet that never enforced it. A pod still running is in use by a live kubectl-netns.
import { isNotFound } from './api-errors.ts';
import type { KubeClient, V1Pod } from './client.ts';
import { LABEL_DETACHED, LABEL_MANAGED_BY, MANAGED_BY } from './debug-pod.ts';

/** Every kubectl-netns debug pod in NAMESPACE, or in all namespaces when undefined. */
export function listDebugPods(client: KubeClient, namespace: string | undefined): Promise<V1Pod[]> {
  return client.listPods(namespace, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` });
}

/**
 * ended: its process is gone; expired: running past its deadline; in use: held by a live client;
 * detached: a detached capture's pod before its deadline (capture --detach), whose packets wait
 * to be fetched: only `kubectl netns stop ID --discard` deletes it early.
 */
export type LeftoverState = 'ended' | 'expired' | 'in use' | 'detached';

/** Slack on top of the deadline before a pod counts as expired: the kubelet acts on it within seconds. */
const EXPIRY_SLACK_MS = 60_000;

/** What a debug pod is, by its phase and its deadline. Pure. */
export function leftoverState(pod: V1Pod, now: Date): LeftoverState {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 'ended';
  const started = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  const deadline = pod.spec?.activeDeadlineSeconds;
  if (started && deadline !== undefined) {
    const expires = new Date(started).getTime() + deadline * 1000 + EXPIRY_SLACK_MS;
    if (now.getTime() > expires) return 'expired';
  }
  return pod.metadata?.labels?.[LABEL_DETACHED] ? 'detached' : 'in use';
}

/** Deletes one debug pod with its own short grace period; false when it was already gone. */
export async function deleteDebugPod(client: KubeClient, namespace: string, name: string): Promise<boolean> {
  try {
    await client.deletePod(namespace, name);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
