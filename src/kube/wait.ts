// Waits for the debug pod to run, and fails fast with the real reason when it cannot: a pull error
// is final long before any timeout, and the user wants the registry's message, not "timed out". So
// is a node whose kubelet has stopped: nothing would ever start the pod.
import { asError, exitCodeOf, ExitCode, UserError } from '../errors.ts';
import { debug } from '../log.ts';
import type { KubeClient, V1Pod } from './client.ts';
import { leaseStillness, takenUp, type LeaseSeen } from './kubelet-liveness.ts';

/** How often the node's lease is read while its kubelet has not taken up the debug pod. */
const LEASE_CHECK_MS = 5_000;

/** Container waiting reasons that will not fix themselves while we wait. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'CrashLoopBackOff',
]);

export type PodVerdict =
  { state: 'running' } | { state: 'waiting'; detail: string } | { state: 'failed'; error: UserError };

/** Reads one pod object and says whether it runs, may still run, or never will. Pure. */
function judgeDebugPod(pod: V1Pod): PodVerdict {
  const name = pod.metadata?.name ?? '?';
  const ns = pod.metadata?.namespace ?? '?';
  const phase = pod.status?.phase ?? 'Pending';
  const cs = pod.status?.containerStatuses?.[0];
  const image = pod.spec?.containers?.[0]?.image ?? '?';
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
    const pull = /Image|Pull/.test(waiting.reason);
    return {
      state: 'failed',
      error: new UserError(
        `debug pod ${ns}/${name} cannot start: ${waiting.reason}${waiting.message ? `: ${oneLine(waiting.message)}` : ''}`,
        {
          exitCode: ExitCode.debugPod,
          hint: pull
            ? `the node cannot pull ${image}; pass --image with an image the node can pull (it needs sh, tcpdump, nsenter, ip)`
            : 'see kubectl describe pod for details; --privileged may help on hardened nodes',
        },
      ),
    };
  }
  if (phase === 'Running' && cs?.state?.running) return { state: 'running' };
  if (phase === 'Failed' || phase === 'Succeeded' || cs?.state?.terminated) {
    const reason = pod.status?.reason ?? cs?.state?.terminated?.reason ?? phase;
    const message = pod.status?.message ?? cs?.state?.terminated?.message ?? '';
    return {
      state: 'failed',
      error: new UserError(
        `debug pod ${ns}/${name} ended before it could be used: ${reason}${message ? `: ${oneLine(message)}` : ''}`,
        {
          exitCode: ExitCode.debugPod,
          hint:
            reason === 'OutOfmemory' || reason === 'OutOfcpu'
              ? 'the node has no room for the debug pod'
              : 'see kubectl describe pod for details',
        },
      ),
    };
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const detail = waiting?.reason ?? unschedulable?.reason ?? phase;
  return { state: 'waiting', detail };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 400);
}

/** Watches the pod until it runs; rejects with the real reason, or after `timeoutMs`. */
export async function waitForRunning(
  client: KubeClient,
  namespace: string,
  name: string,
  opts: { timeoutMs: number; signal?: AbortSignal | undefined; onProgress?: (detail: string) => void },
): Promise<V1Pod> {
  // Look once first: the pod may already be running, or already failed.
  const first = await client.readPod(namespace, name);
  const v0 = judgeDebugPod(first);
  if (v0.state === 'running') return first;
  if (v0.state === 'failed') throw v0.error;

  let lastDetail = v0.detail;
  let latest = first;
  const node = first.spec?.nodeName;
  return await new Promise<V1Pod>((resolve, reject) => {
    let handle: { stop(): void } | undefined;
    let settled = false;
    // Reads the node's lease now and then (checkLease, below) until the wait ends.
    const leaseTimer = setInterval(() => void checkLease(), LEASE_CHECK_MS);
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(leaseTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      handle?.stop();
      fn();
    };
    const onAbort = () => finish(() => reject(asError(opts.signal?.reason ?? 'aborted')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      void describeStuck(client, namespace, name, lastDetail).then((msg) =>
        finish(() =>
          reject(
            new UserError(
              `debug pod ${namespace}/${name} did not start within ${Math.round(opts.timeoutMs / 1000)}s (${msg})`,
              {
                exitCode: ExitCode.timeout,
                hint: 'raise --pod-timeout, or check the node with kubectl describe pod',
              },
            ),
          ),
        ),
      );
    }, opts.timeoutMs);

    // Until the kubelet takes the pod up, watch its node's lease: one that stands still means the
    // kubelet has stopped, and the pod would wait out the whole --pod-timeout for nothing.
    let leaseSeen: LeaseSeen | undefined;
    let leaseOff = node === undefined;
    let leaseBusy = false;
    const checkLease = async () => {
      if (leaseOff || leaseBusy || settled || takenUp(latest)) return;
      leaseBusy = true;
      try {
        const r = leaseStillness(leaseSeen, await client.readNodeLease(node!), Date.now());
        leaseSeen = r.seen;
        if (r.stillMs !== undefined) {
          const still = Math.round(r.stillMs / 1000);
          finish(() =>
            reject(
              new UserError(
                `debug pod ${namespace}/${name} cannot start: the kubelet of node ${node} is not responding (its lease has not been renewed for ${still}s, and it has not taken up the pod)`,
                {
                  exitCode: ExitCode.debugPod,
                  hint: `check the node: kubectl get node ${node}; kubectl get lease ${node} -n kube-node-lease`,
                },
              ),
            ),
          );
        }
      } catch (err) {
        // No permission to read leases, or no lease: a stopped kubelet shows only at --pod-timeout.
        const code = exitCodeOf(err);
        if (code === ExitCode.forbidden || code === ExitCode.notFound) {
          leaseOff = true;
          debug(`not following node ${node}'s lease: ${err instanceof Error ? err.message : String(err)}`);
        }
      } finally {
        leaseBusy = false;
      }
    };
    void checkLease();

    const onEvent = (type: string, pod: V1Pod) => {
      if (type === 'DELETED') {
        finish(() =>
          reject(
            new UserError(`debug pod ${namespace}/${name} was deleted while starting`, { exitCode: ExitCode.debugPod }),
          ),
        );
        return;
      }
      latest = pod;
      const v = judgeDebugPod(pod);
      if (v.state === 'running') finish(() => resolve(pod));
      else if (v.state === 'failed') finish(() => reject(v.error));
      else if (v.detail !== lastDetail) {
        lastDetail = v.detail;
        opts.onProgress?.(v.detail);
      }
    };
    const onDone = (err?: unknown) => {
      // A watch can end normally (server timeout); poll once and keep waiting by re-watching.
      if (settled) return;
      if (err) {
        finish(() => reject(asError(err)));
        return;
      }
      void client.watchPod(namespace, name, onEvent, onDone).then(
        (h) => {
          if (settled) h.stop();
          else handle = h;
        },
        (e: unknown) => finish(() => reject(asError(e))),
      );
    };
    client.watchPod(namespace, name, onEvent, onDone).then(
      (h) => {
        if (settled) h.stop();
        else handle = h;
      },
      (e: unknown) => finish(() => reject(asError(e))),
    );
  });
}

/** The best explanation we can find for a pod that will not start: its latest warning event. */
async function describeStuck(client: KubeClient, namespace: string, name: string, detail: string): Promise<string> {
  try {
    const events = await client.listEvents(namespace, `involvedObject.name=${name}`);
    const warning = events.filter((e) => e.type === 'Warning').at(-1);
    if (warning) return `${warning.reason}: ${oneLine(warning.message ?? '')}`;
  } catch {
    // Events are a nicety; without permission to list them the phase is still worth saying.
  }
  return `last state: ${detail}`;
}
