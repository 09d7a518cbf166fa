// The node-wide half of ls, whohas and inspect: a debug pod on the node's own network (hostNetwork,
// so the agent's namespace IS the node's) runs the agent's `scan`, and the API's pods on that
// node say who owns what. Several nodes are scanned in parallel, a few at a time.
import type { RunContext } from '../cli/global.ts';
import { shutdownSignal, trackLeftover } from '../cli/signals.ts';
import { ExitCode, UserError } from '../errors.ts';
import { debug, info, warn } from '../log.ts';
import { apiCall } from '../kube/api-errors.ts';
import type { V1Node, V1Pod } from '../kube/client.ts';
import { DebugSession } from '../kube/session.ts';
import { splitContainerId } from '../kube/target.ts';
import { scanArgv } from '../node/agent.ts';
import { agentFailure } from '../node/agent-errors.ts';
import { buildNetnsTable, type NetnsEntry, type PodRef } from '../node/netns-table.ts';
import { parseScan, type ScanFacts } from '../node/scan.ts';
import { VERSION } from '../version.ts';
import { runCollect } from './session-helpers.ts';

/** How many nodes are scanned at once: each costs a debug pod start (image pull on a cold node). */
export const DEFAULT_PARALLEL_NODES = 4;

export interface NodeScan {
  node: string;
  facts: ScanFacts;
  pods: PodRef[];
  entries: NetnsEntry[];
  /** Time the agent's scan took, as the client saw it (exec round trip included). */
  scanMs: number;
}

/** What ownership needs from the API's pods. Pure. */
export function podRefs(pods: readonly V1Pod[]): PodRef[] {
  return pods.map((p) => ({
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    uid: p.metadata?.uid ?? '',
    mirrorUid: p.metadata?.annotations?.['kubernetes.io/config.mirror'],
    containerIds: [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? []), ...(p.status?.ephemeralContainerStatuses ?? [])]
      .flatMap((s) => [s.containerID, s.lastState?.terminated?.containerID])
      .filter((x): x is string => !!x)
      .map((x) => splitContainerId(x).id),
  }));
}

/** The pods the API places on NODE, in every namespace. */
export async function podsOnNode(ctx: RunContext, node: string): Promise<V1Pod[]> {
  return apiCall({ verb: 'list', resource: 'pods' }, () => ctx.client.listPods(undefined, { fieldSelector: `spec.nodeName=${node}` }), ctx.cfg.server);
}

/** A hostNetwork debug pod on NODE, in --debug-namespace or else the -n/context namespace. */
export function openNodeSession(ctx: RunContext, node: string): Promise<{ session: DebugSession; untrack: () => void }> {
  const namespace = ctx.debugNamespace ?? ctx.cfg.namespace;
  info(`starting debug pod on node ${node} in namespace ${namespace}...`);
  let untrack = () => {};
  return DebugSession.open(ctx.client, {
    namespace,
    nodeName: node,
    image: ctx.image,
    privileged: ctx.privileged,
    target: undefined,
    hostNetwork: true,
    version: VERSION,
    podTimeoutMs: ctx.podTimeoutMs,
    signal: shutdownSignal,
    onProgress: (d) => debug(`debug pod on ${node}: ${d}`),
    onCreated: (s) => (untrack = trackLeftover(s.podName, `debug pod ${s.namespace}/${s.podName}`)),
  }).then((session) => ({ session, untrack }));
}

/** Runs the agent's scan in SESSION and reads the node's pods meanwhile. */
export async function scanWith(ctx: RunContext, session: DebugSession, node: string): Promise<NodeScan> {
  const started = Date.now();
  const [r, pods] = await Promise.all([runCollect(session, scanArgv()), podsOnNode(ctx, node)]);
  const scanMs = Date.now() - started;
  if (r.exitCode !== 0) throw agentFailure(r.exitCode, r.stderr.split('\n'), 'scan');
  let facts: ScanFacts;
  try {
    facts = parseScan(r.stdout);
  } catch (err) {
    throw new UserError(`node ${node}: ${(err as Error).message}`, { exitCode: ExitCode.agent, cause: err });
  }
  for (const w of facts.warnings) debug(`node ${node}: ${w}`);
  debug(`node ${node}: scanned ${facts.procs.length} processes, ${facts.namespaces} network namespaces in ${scanMs}ms`);
  const refs = podRefs(pods);
  return { node, facts, pods: refs, entries: buildNetnsTable(facts, refs), scanMs };
}

/** Opens a debug pod on NODE, scans, and deletes the pod on every exit path. */
export async function scanNode(ctx: RunContext, node: string): Promise<NodeScan> {
  const { session, untrack } = await openNodeSession(ctx, node);
  try {
    return await scanWith(ctx, session, node);
  } finally {
    await session.close().catch((e: unknown) => warn(`could not delete debug pod ${session.namespace}/${session.podName}: ${String((e as Error).message)}; run kubectl netns cleanup`));
    untrack();
  }
}

export type NodeOutcome = { node: string; scan: NodeScan; error?: undefined } | { node: string; scan?: undefined; error: unknown };

/** Runs FN over ITEMS with at most LIMIT at once, results in input order. Stops starting new work once aborted. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (signal?.aborted) throw signal.reason;
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Scans every node in NODES, LIMIT at a time; a node that fails does not stop the others. */
export function scanNodes(ctx: RunContext, nodes: readonly string[], limit: number): Promise<NodeOutcome[]> {
  return mapLimit(
    nodes,
    limit,
    async (node): Promise<NodeOutcome> => {
      try {
        return { node, scan: await scanNode(ctx, node) };
      } catch (error) {
        if (shutdownSignal.aborted) throw error;
        return { node, error };
      }
    },
    shutdownSignal,
  );
}

/** Is this a Linux node whose kubelet is Ready? Pure. */
export function searchable(n: V1Node): { ok: true } | { ok: false; why: string } {
  const os = n.metadata?.labels?.['kubernetes.io/os'] ?? n.status?.nodeInfo?.operatingSystem;
  if (os !== undefined && os !== 'linux') return { ok: false, why: `it runs ${os}` };
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return { ok: false, why: 'it is not Ready' };
  return { ok: true };
}

/** Every node worth searching; the others are named in a warning. */
export async function allNodes(ctx: RunContext): Promise<string[]> {
  const nodes = await apiCall({ verb: 'list', resource: 'nodes' }, () => ctx.client.listNodes(), ctx.cfg.server);
  const names: string[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name ?? '';
    const s = searchable(n);
    if (s.ok) names.push(name);
    else warn(`skipping node ${name}: ${s.why}`);
  }
  if (names.length === 0) throw new UserError('no Linux node is Ready to search', { exitCode: ExitCode.notFound, hint: 'kubectl get nodes' });
  return names.sort();
}

/** Does NODE exist? (A debug pod pinned to a missing node would wait out --pod-timeout.) */
export async function nodeExists(ctx: RunContext, node: string): Promise<boolean> {
  try {
    await apiCall({ verb: 'get', resource: 'nodes', name: node }, () => ctx.client.readNode(node), ctx.cfg.server);
    return true;
  } catch (err) {
    if (err instanceof UserError && err.exitCode === ExitCode.notFound) return false;
    throw err;
  }
}
