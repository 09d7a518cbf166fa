// The dialog's pod list, from the pods of one namespace: each running pod, and before them each
// workload that runs pods there (deploy/web captures all its pods into one pcapng). Workloads come
// from the pods' owners, so listing them costs no extra API call and needs no right beyond listing
// pods: a ReplicaSet with a pod-template-hash label belongs to the Deployment named like it minus
// that hash. Pure.
import type { V1Pod } from '../kube/client.ts';
import { isRunning } from '../kube/targets.ts';
import type { Choice } from './choices-cache.ts';

/** The workload TARGET (deploy/web, sts/db, ...) that POD belongs to, if any. */
export function workloadOf(pod: V1Pod): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return undefined;
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) return `deploy/${owner.name.slice(0, -hash.length - 1)}`;
    return `rs/${owner.name}`;
  }
  if (owner.kind === 'StatefulSet') return `sts/${owner.name}`;
  if (owner.kind === 'DaemonSet') return `ds/${owner.name}`;
  if (owner.kind === 'Job') return `job/${owner.name}`;
  return undefined;
}

/** Workloads first (with how many of their pods run), then every running pod with its node and address. */
export function podChoices(pods: readonly V1Pod[]): Choice[] {
  const running = pods.filter(isRunning);
  const workloads = new Map<string, number>();
  for (const p of running) {
    const w = workloadOf(p);
    if (w) workloads.set(w, (workloads.get(w) ?? 0) + 1);
  }
  const byName = (a: Choice, b: Choice) => a.value.localeCompare(b.value);
  const workloadChoices = [...workloads].map(([w, n]) => ({
    value: w,
    display: `${w} (all ${n} running pod${n === 1 ? '' : 's'})`,
  }));
  const podList = running.map((p) => {
    const name = p.metadata?.name ?? '';
    const where = [p.spec?.nodeName && `node ${p.spec.nodeName}`, p.status?.podIP].filter(Boolean).join(', ');
    const host = p.spec?.hostNetwork ? ', hostNetwork' : '';
    return { value: name, display: where ? `${name} (${where}${host})` : name };
  });
  return [...workloadChoices.sort(byName), ...podList.filter((c) => c.value).sort(byName)];
}

/** The namespace list as choices. */
export function namespaceChoices(names: readonly string[]): Choice[] {
  return [...names].sort().map((n) => ({ value: n, display: n }));
}
