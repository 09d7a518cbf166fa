// Finding and removing debug pods that a run left behind (a SIGKILLed client, a lost connection):
// they carry the managed-by label, and their deadline stops them on their own.
import { isNotFound } from './api-errors.ts';
import type { KubeClient, V1Pod } from './client.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from './debug-pod.ts';

/** Every kubectl-netns debug pod in NAMESPACE, or in all namespaces when undefined. */
export function listDebugPods(client: KubeClient, namespace: string | undefined): Promise<V1Pod[]> {
  return client.listPods(namespace, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` });
}

/** Deletes one debug pod; false when it was already gone. */
export async function deleteDebugPod(client: KubeClient, namespace: string, name: string): Promise<boolean> {
  try {
    await client.deletePod(namespace, name, 0);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
