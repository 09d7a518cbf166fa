// The node-wide half of ls, whohas and inspect: a debug pod on the node's own network (hostNetwork,
// so the agent's namespace IS the node's) runs the agent's `scan`, and the API's pods on that
// node say who owns what. Several nodes are scanned in parallel, a few at a time.
import type { RunContext } from '../../cli/global.ts';
import { ExitCode, UserError } from '../../errors.ts';
import { debug, warn } from '../../log.ts';
import type { V1Pod } from '../../kube/client.ts';
import { debugPodRights, type ResourceRight } from '../../kube/access.ts';
import { podsOnNode, searchableNodes } from '../../kube/nodes.ts';
import { withDebugPod } from '../../kube/with-debug-pod.ts';
import { scanArgv } from '../../node/agent.ts';
import { collectOk, type AgentExec } from '../../node/agent-ops.ts';
import { splitContainerId } from '../../node/container-id.ts';
import { buildNetnsTable, type NetnsEntry, type PodRef } from '../../node/netns-table.ts';
import { parseScan, type ScanFacts } from '../../node/scan.ts';

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
    containerIds: [
      ...(p.status?.containerStatuses ?? []),
      ...(p.status?.initContainerStatuses ?? []),
      ...(p.status?.ephemeralContainerStatuses ?? []),
    ]
      .flatMap((s) => [s.containerID, s.lastState?.terminated?.containerID])
      .filter((x): x is string => !!x)
      .map((x) => splitContainerId(x).id),
  }));
}

/**
 * What a node scan takes besides the debug pod: every node's pods (ownership) and, to search all
 * nodes, the node list; checked up front so every missing right is named at once.
 */
export function assertScanRights(
  ctx: RunContext,
  opts: { nodes: 'list' | 'get' | 'none'; debugNamespace?: string },
): Promise<void> {
  const ns = opts.debugNamespace ?? nodeDebugNamespace(ctx);
  const rights: ResourceRight[] = [...debugPodRights(ns), { verb: 'list', resource: 'pods' }];
  if (opts.nodes !== 'none') rights.push({ verb: opts.nodes, resource: 'nodes' });
  return ctx.rights.assert(rights);
}

/** Where node-wide debug pods go: --debug-namespace, else the -n/context namespace. */
export function nodeDebugNamespace(ctx: RunContext): string {
  return ctx.debugNamespace ?? ctx.cfg.namespace;
}

/**
 * Which namespaces the agent enters (reads the interfaces of): all by default; see scanArgv. The
 * others are still listed, without interfaces.
 */
export type ScanFilter = Parameters<typeof scanArgv>[0];

/** Runs the agent's scan in a node-network debug pod and reads the node's pods meanwhile. */
export async function scanWith(
  ctx: RunContext,
  agent: AgentExec,
  node: string,
  filter?: ScanFilter,
): Promise<NodeScan> {
  const started = Date.now();
  const [out, pods] = await Promise.all([
    collectOk(agent, scanArgv(filter), 'scan', ctx.signal),
    podsOnNode(ctx.client, node),
  ]);
  const scanMs = Date.now() - started;
  let facts: ScanFacts;
  try {
    facts = parseScan(out);
  } catch (err) {
    throw new UserError(`node ${node}: ${(err as Error).message}`, { exitCode: ExitCode.agent, cause: err });
  }
  for (const w of facts.warnings) debug(`node ${node}: ${w}`);
  debug(
    `node ${node}: scanned ${facts.procs.length} processes, ${facts.namespaces} network namespaces (${facts.interfaces.size} listed, ${facts.entered ?? '?'} entered) in ${scanMs}ms`,
  );
  const refs = podRefs(pods);
  return { node, facts, pods: refs, entries: buildNetnsTable(facts, refs), scanMs };
}

/** Opens a debug pod on NODE's own network, scans, and deletes the pod on every exit path. */
function scanNode(ctx: RunContext, node: string, filter: ScanFilter): Promise<NodeScan> {
  return withDebugPod(ctx, { namespace: nodeDebugNamespace(ctx), node, hostNetwork: true, removeAtOnce: true }, (pod) =>
    scanWith(ctx, pod, node, filter),
  );
}

export type NodeOutcome =
  { node: string; scan: NodeScan; error?: undefined } | { node: string; scan?: undefined; error: unknown };

/** Runs FN over ITEMS with at most LIMIT at once, results in input order. Stops starting new work once aborted. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
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
export function scanNodes(
  ctx: RunContext,
  nodes: readonly string[],
  limit: number,
  filter?: ScanFilter,
): Promise<NodeOutcome[]> {
  return mapLimit(
    nodes,
    limit,
    async (node): Promise<NodeOutcome> => {
      try {
        return { node, scan: await scanNode(ctx, node, filter) };
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        return { node, error };
      }
    },
    ctx.signal,
  );
}

/** Every Ready Linux node, naming the ones skipped and why. */
export async function nodesToSearch(ctx: RunContext): Promise<string[]> {
  const { names, skipped } = await searchableNodes(ctx.client);
  for (const s of skipped) warn(`skipping node ${s.name}: ${s.why}`);
  return names;
}
