// Turns what the user typed (POD, pod/NAME, deploy/NAME, ...) into one running pod, a container in
// it, and the facts the on-node agent needs (node, container ids, pod UID). The parsing and the
// checks are pure functions over pod objects; only resolveTarget talks to the API.
import { ExitCode, UserError, usageError } from '../errors.ts';
import { splitContainerId } from '../node/container-id.ts';
import type { KubeClient, V1EndpointSlice, V1Pod, WorkloadKind } from './client.ts';

export type TargetRef = { kind: 'pod' | 'service' | WorkloadKind; name: string };

const KIND_ALIASES: Record<string, TargetRef['kind']> = {
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  sts: 'statefulset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  rs: 'replicaset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  job: 'job',
  jobs: 'job',
  svc: 'service',
  service: 'service',
  services: 'service',
};

// RFC 1123 subdomain, which is what pod and workload names must be.
const NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Parses `NAME`, `pod/NAME`, `deploy/NAME`, `sts/NAME`, `ds/NAME`, `rs/NAME`, `job/NAME`. */
export function parseTarget(input: string): TargetRef {
  const slash = input.indexOf('/');
  const kindText =
    slash === -1
      ? 'pod'
      : input
          .slice(0, slash)
          .toLowerCase()
          .replace(/\.(apps|batch)$/, '');
  const name = slash === -1 ? input : input.slice(slash + 1);
  const kind = KIND_ALIASES[kindText];
  if (!kind) {
    throw usageError(
      `unsupported target kind "${kindText}" in "${input}"`,
      'use POD, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME or svc/NAME',
    );
  }
  if (!NAME_RE.test(name)) {
    throw usageError(`"${name}" is not a valid ${kind} name`, 'names are lowercase letters, digits, "-" and "."');
  }
  return { kind, name };
}

export interface ResolvedTarget {
  namespace: string;
  pod: string;
  podUid: string;
  node: string;
  podIP: string | undefined;
  container: string;
  /** Container ids without the runtime prefix; the agent matches them against cgroups. */
  containerIds: string[];
  /** containerd, cri-o, docker, ... (the prefix of the container id), or "unknown". */
  runtime: string;
  hostNetwork: boolean;
  /** The pod object as the API returned it. */
  object: V1Pod;
  /** Set when the pod was picked from a workload, e.g. "deployment/web". */
  via: string | undefined;
  /** Conditions the user should know about (hostNetwork, restarting container). */
  warnings: string[];
}

/** Among a workload's pods, the one kubectl would pick: running and ready first, then oldest. */
export function pickPod(pods: V1Pod[]): V1Pod | undefined {
  const running = pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  const ready = (p: V1Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const created = (p: V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
  return [...running].sort(
    (a, b) =>
      Number(ready(b)) - Number(ready(a)) ||
      created(a) - created(b) ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )[0];
}

/**
 * Native sidecars: init containers with restartPolicy Always (on by default since Kubernetes 1.29,
 * GA in 1.33). They run beside the pod's containers for its whole life, so -c may name them.
 */
function sidecarNames(pod: V1Pod): string[] {
  return (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name);
}

/** The container to enter: -c, else the default-container annotation, else the first. */
export function selectContainer(pod: V1Pod, requested: string | undefined): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const podName = pod.metadata?.name ?? '?';
  if (requested !== undefined) {
    if (names.includes(requested)) return requested;
    const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
    if (ephemeral.includes(requested) || sidecarNames(pod).includes(requested)) return requested;
    throw new UserError(`container "${requested}" not found in pod "${podName}"`, {
      exitCode: ExitCode.notFound,
      hint: `containers in this pod: ${[...names, ...sidecarNames(pod)].join(', ')}`,
    });
  }
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && names.includes(annotated)) return annotated;
  const first = names[0];
  if (!first) throw new UserError(`pod "${podName}" has no containers`, { exitCode: ExitCode.targetState });
  return first;
}

/**
 * A pod that has a node but may not run yet: captured from its birth (the agent waits for its
 * sandbox). Only what the agent and the capture file need; no container ids exist yet. Pure.
 */
export function pendingTarget(pod: V1Pod, container: string | undefined, via?: string): ResolvedTarget {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    pod: pod.metadata?.name ?? '?',
    podUid: pod.metadata?.uid ?? '',
    node: pod.spec?.nodeName ?? '',
    podIP: pod.status?.podIP,
    container: container ?? names[0] ?? '?',
    containerIds: [],
    runtime: 'unknown',
    hostNetwork: pod.spec?.hostNetwork === true,
    object: pod,
    via,
    warnings: [],
  };
}

/** Checks that the pod can be entered and extracts what the agent needs. Pure. */
export function describeTarget(pod: V1Pod, container: string, via?: string): ResolvedTarget {
  const name = pod.metadata?.name ?? '?';
  const namespace = pod.metadata?.namespace ?? 'default';
  const phase = pod.status?.phase ?? 'Unknown';
  if (pod.spec?.os?.name === 'windows' || pod.spec?.nodeSelector?.['kubernetes.io/os'] === 'windows') {
    throw new UserError(`pod "${name}" runs on Windows, which has no Linux network namespaces to enter`, {
      exitCode: ExitCode.targetState,
      hint: 'kubectl-netns supports Linux nodes only',
    });
  }
  if (phase !== 'Running') {
    throw new UserError(`pod "${name}" is ${phase}, not Running`, {
      exitCode: ExitCode.targetState,
      hint:
        phase === 'Pending'
          ? 'wait until it runs (kubectl get pod -w), or look at kubectl describe pod for why it is stuck'
          : 'only a running pod has a network namespace to enter',
    });
  }
  const node = pod.spec?.nodeName;
  if (!node) throw new UserError(`pod "${name}" is not scheduled to a node`, { exitCode: ExitCode.targetState });
  const sidecars = new Set(sidecarNames(pod));
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.ephemeralContainerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []).filter((s) => sidecars.has(s.name)),
  ];
  const status = statuses.find((s) => s.name === container);
  const warnings: string[] = [];
  if (status?.state?.terminated) {
    const t = status.state.terminated;
    throw new UserError(
      `container "${container}" in pod "${name}" has terminated (${t.reason ?? 'exit code ' + t.exitCode})`,
      {
        exitCode: ExitCode.targetState,
        hint: 'all containers of a pod share its network namespace: pick a running one with -c',
      },
    );
  }
  if (status?.state?.waiting) {
    warnings.push(
      `container "${container}" is waiting (${status.state.waiting.reason ?? 'unknown reason'}); entering the pod's network namespace through its sandbox`,
    );
  }
  const ids = [status?.containerID, status?.lastState?.terminated?.containerID]
    .filter((x): x is string => !!x)
    .map(splitContainerId);
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (hostNetwork) {
    warnings.push(`pod "${name}" uses hostNetwork: you will see the node's whole network, not just this pod's traffic`);
  }
  return {
    namespace,
    pod: name,
    podUid: pod.metadata?.uid ?? '',
    node,
    podIP: pod.status?.podIP,
    container,
    containerIds: ids.map((i) => i.id),
    runtime: ids[0]?.runtime ?? 'unknown',
    hostNetwork,
    object: pod,
    via,
    warnings,
  };
}

/** Resolves a target against the API server. */
export async function resolveTarget(
  client: KubeClient,
  ref: TargetRef,
  namespace: string,
  container: string | undefined,
): Promise<ResolvedTarget> {
  if (ref.kind === 'pod') {
    const pod = await client.readPod(namespace, ref.name);
    return describeTarget(pod, selectContainer(pod, container));
  }
  if (ref.kind === 'service') {
    const pods = await servicePods(client, namespace, ref.name);
    const pod = pickPod(pods);
    if (!pod) {
      throw new UserError(`service/${ref.name} has no running pod behind it (${pods.length} pod(s) in its endpoints)`, {
        exitCode: ExitCode.targetState,
        hint: `kubectl get endpointslices -n ${namespace} -l kubernetes.io/service-name=${ref.name}`,
      });
    }
    return describeTarget(pod, selectContainer(pod, container), `service/${ref.name}`);
  }
  const { selector } = await client.readWorkload(ref.kind, namespace, ref.name);
  if (!selector) {
    throw new UserError(`${ref.kind}/${ref.name} has no matchLabels selector to find its pods`, {
      exitCode: ExitCode.notFound,
    });
  }
  const pods = await client.listPods(namespace, { labelSelector: selector });
  const pod = pickPod(pods);
  if (!pod) {
    throw new UserError(`${ref.kind}/${ref.name} has no running pod (${pods.length} pod(s) match ${selector})`, {
      exitCode: ExitCode.targetState,
      hint: `kubectl get pods -n ${namespace} -l ${selector}`,
    });
  }
  return describeTarget(pod, selectContainer(pod, container), `${ref.kind}/${ref.name}`);
}

/** The pods a Service's EndpointSlices point at (ready endpoints first), by name. Pure. */
export function endpointPodNames(slices: readonly V1EndpointSlice[]): string[] {
  const endpoints = slices
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.targetRef?.kind === 'Pod' && e.targetRef.name);
  const ready = endpoints.filter((e) => e.conditions?.ready !== false);
  const rest = endpoints.filter((e) => e.conditions?.ready === false);
  return [...new Set([...ready, ...rest].map((e) => e.targetRef!.name!))];
}

/** The pods behind Service NAME, as its EndpointSlices list them (the Service must exist). */
export async function servicePods(client: KubeClient, namespace: string, name: string): Promise<V1Pod[]> {
  await client.readService(namespace, name);
  const names = new Set(endpointPodNames(await client.listEndpointSlices(namespace, name)));
  if (names.size === 0) return [];
  return (await client.listPods(namespace)).filter((p) => names.has(p.metadata?.name ?? ''));
}
