// Many targets at once, for a whole-workload capture: every running pod of the pods, workloads
// (deploy/, sts/, ds/, rs/, job/), services (svc/: the pods behind its EndpointSlices) and label
// selector (-l) given, each pod once, plus the names a capture file should show for their
// addresses, and the queries that find pods appearing later (--follow).
import { ExitCode, UserError } from '../errors.ts';
import { isNotFound } from './api-errors.ts';
import type { KubeClient, V1Pod, V1PodSpec } from './client.ts';
import { DAEMONSET_TOLERATIONS } from './placement.ts';
import { describeTarget, selectContainer, servicePods, type ResolvedTarget, type TargetRef } from './target.ts';

/** What the user asked to capture. */
export interface TargetQuery {
  refs: readonly TargetRef[];
  /** -l: pods with these labels. */
  selector?: string | undefined;
  /** -n or the context's namespace. */
  namespace: string;
  /** -A: the selector looks in every namespace. */
  allNamespaces: boolean;
  container?: string | undefined;
  /** --wait: a pod named outright may not exist yet (a watch then waits for it). */
  podMayNotExistYet?: boolean | undefined;
}

/** Where later pods of the same targets will show up: pods matching a label selector. */
export interface FollowQuery {
  /** Undefined: every namespace. */
  namespace: string | undefined;
  labelSelector?: string | undefined;
  /** metadata.name=NAME, for a pod named outright that does not exist yet (--wait). */
  fieldSelector?: string | undefined;
  /** What the user named, for messages: "deployment/web", "-l app=web". */
  source: string;
  /**
   * Where its pods may be scheduled, as far as known (see placement.ts): the workload's pod
   * template, else the specs of the pods that match now. Empty: unknown.
   */
  podSpecs: V1PodSpec[];
}

/** An address and the name a capture file should show for it. */
export interface AddressName {
  address: string;
  name: string;
}

export interface TargetSet {
  targets: ResolvedTarget[];
  /** Pods of the workloads and selectors that are not running (and why), for a note. */
  notRunning: string[];
  /** Service addresses, named after their service (pods are named from their targets). */
  names: AddressName[];
  follow: FollowQuery[];
  /** Pods named outright, by name: followed when nothing else is (a pod re-created with its name). */
  named: FollowQuery[];
}

/** Is POD running (and not being deleted)? Pure. */
export function isRunning(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
}

/** `k=v,k2=v2` of a matchLabels map, or undefined when there is none. Pure. */
export function selectorOf(labels: Record<string, string> | undefined): string | undefined {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : undefined;
}

/**
 * Where a pod like POD may be scheduled: its spec, without the node the scheduler picked when a
 * controller made it (its next pod may go elsewhere); a bare pod keeps a nodeName it was given.
 */
export function schedulingSpec(pod: V1Pod): V1PodSpec {
  const spec = pod.spec ?? { containers: [] };
  const controlled = (pod.metadata?.ownerReferences ?? []).some((o) => o.controller);
  if (!controlled) return spec;
  const { nodeName: _placed, ...rest } = spec;
  return rest;
}

/** Every running pod QUERY names, each once, in the order given. */
export async function resolveTargets(client: KubeClient, q: TargetQuery): Promise<TargetSet> {
  const set: TargetSet = { targets: [], notRunning: [], names: [], follow: [], named: [] };
  const seen = new Set<string>();
  const add = (pod: V1Pod, via: string | undefined) => {
    const uid = pod.metadata?.uid ?? '';
    if (seen.has(uid)) return;
    if (!isRunning(pod)) {
      set.notRunning.push(`${via ?? 'pod'}: ${pod.metadata?.name ?? '?'} is ${pod.status?.phase ?? 'Unknown'}`);
      return;
    }
    seen.add(uid);
    set.targets.push(describeTarget(pod, selectContainer(pod, q.container), via));
  };
  for (const ref of q.refs) {
    const via = `${ref.kind}/${ref.name}`;
    if (ref.kind === 'pod') {
      // A pod named outright must exist and run: a typo is an error, not an empty capture. With
      // --wait it may come later: the caller watches for it by name.
      const pod = await client.readPod(q.namespace, ref.name).catch((err: unknown) => {
        if (q.podMayNotExistYet && isNotFound(err)) return undefined;
        throw err;
      });
      set.named.push({
        namespace: q.namespace,
        fieldSelector: `metadata.name=${ref.name}`,
        source: `pod/${ref.name}`,
        podSpecs: pod ? [schedulingSpec(pod)] : [],
      });
      if (!pod) continue;
      seen.add(pod.metadata?.uid ?? '');
      set.targets.push(describeTarget(pod, selectContainer(pod, q.container)));
    } else if (ref.kind === 'service') {
      const svc = await client.readService(q.namespace, ref.name);
      for (const ip of svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])) {
        if (ip !== 'None') set.names.push({ address: ip, name: `svc/${q.namespace}/${ref.name}` });
      }
      const pods = await servicePods(client, q.namespace, ref.name);
      for (const pod of pods) add(pod, via);
      const selector = selectorOf(svc.spec?.selector);
      if (selector)
        set.follow.push({
          namespace: q.namespace,
          labelSelector: selector,
          source: via,
          podSpecs: pods.map(schedulingSpec),
        });
    } else {
      const { selector, podSpec } = await client.readWorkload(ref.kind, q.namespace, ref.name);
      if (!selector) {
        throw new UserError(`${via} has no matchLabels selector to find its pods`, { exitCode: ExitCode.notFound });
      }
      const pods = await client.listPods(q.namespace, { labelSelector: selector });
      for (const pod of pods) add(pod, via);
      // A DaemonSet's pods get tolerations its controller adds, which its template does not show.
      const spec =
        podSpec && ref.kind === 'daemonset'
          ? { ...podSpec, tolerations: [...(podSpec.tolerations ?? []), ...DAEMONSET_TOLERATIONS] }
          : podSpec;
      set.follow.push({
        namespace: q.namespace,
        labelSelector: selector,
        source: via,
        podSpecs: spec ? [spec] : pods.map(schedulingSpec),
      });
    }
  }
  if (q.selector) {
    const ns = q.allNamespaces ? undefined : q.namespace;
    const pods = await client.listPods(ns, { labelSelector: q.selector });
    for (const pod of pods) add(pod, `-l ${q.selector}`);
    set.follow.push({
      namespace: ns,
      labelSelector: q.selector,
      source: `-l ${q.selector}`,
      podSpecs: pods.map(schedulingSpec),
    });
  }
  return set;
}
