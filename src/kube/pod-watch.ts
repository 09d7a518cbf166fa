// Pods that appear while a capture runs (--follow, --wait): watches every selector of the
// targets and reports each new pod once, as soon as the scheduler has given it a node (before
// its sandbox exists, so its capture can start at its birth), and each pod that ends.
import { debug } from '../log.ts';
import type { KubeClient, V1Pod, WatchHandle } from './client.ts';
import type { FollowQuery } from './targets.ts';

export interface PodEvents {
  /** A pod not seen before, with its node: capture it. */
  onPod: (pod: V1Pod, source: string) => void;
  /** A pod already reported got its addresses (it had none when it was scheduled). */
  onAddresses: (pod: V1Pod) => void;
  /** A pod that ended (deleted, or its containers all done). */
  onGone: (pod: V1Pod) => void;
  /** The watch failed for good (permissions, API gone). */
  onError: (err: unknown) => void;
}

/**
 * Has POD ended, as far as a capture is concerned? Being deleted counts: the API says so before
 * the kubelet tears the pod's network down, so its capture's end is expected by then. Pure.
 */
export function podEnded(type: string, pod: V1Pod): boolean {
  return (
    type === 'DELETED' ||
    pod.metadata?.deletionTimestamp !== undefined ||
    pod.status?.phase === 'Succeeded' ||
    pod.status?.phase === 'Failed'
  );
}

/**
 * Watches QUERIES; KNOWN holds the UIDs already captured (it grows as pods are reported). A watch
 * that the server ends (they time out) is started again; pods it replays are known by UID.
 */
export async function watchNewPods(
  client: KubeClient,
  queries: readonly FollowQuery[],
  known: Set<string>,
  events: PodEvents,
): Promise<{ stop(): void }> {
  const handles: WatchHandle[] = [];
  let stopped = false;
  const gone = new Set<string>();
  const addressed = new Set<string>();
  const onEvent = (source: string) => (type: string, pod: V1Pod) => {
    const uid = pod.metadata?.uid ?? '';
    if (!uid) return;
    if (podEnded(type, pod)) {
      if (known.has(uid) && !gone.has(uid)) {
        gone.add(uid);
        events.onGone(pod);
      }
      return;
    }
    if (known.has(uid)) {
      if (pod.status?.podIP && !addressed.has(uid)) {
        addressed.add(uid);
        events.onAddresses(pod);
      }
      return;
    }
    if (!pod.spec?.nodeName) return;
    known.add(uid);
    if (pod.status?.podIP) addressed.add(uid);
    events.onPod(pod, source);
  };
  const start = async (q: FollowQuery): Promise<void> => {
    const selectors = {
      ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
      ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}),
    };
    const handle = await client.watchPods(q.namespace, selectors, onEvent(q.source), (err) => {
      if (stopped) return;
      if (err) events.onError(err);
      else {
        debug(`watch of ${q.source} ended by the server; watching again`);
        void start(q).catch((e: unknown) => events.onError(e));
      }
    });
    if (stopped) handle.stop();
    else handles.push(handle);
  };
  await Promise.all(queries.map(start));
  return {
    stop() {
      stopped = true;
      for (const h of handles) h.stop();
    },
  };
}
