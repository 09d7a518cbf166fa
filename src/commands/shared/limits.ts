// What one capture command may start without being asked for more, after kubectl's own
// convention (`kubectl logs -l` follows at most --max-log-requests streams, default 5): at most
// --max-targets captures at once and debug pods on at most --max-nodes nodes, each pod's memory
// limit capped. Over a limit, the command stops before it creates anything, with the count and
// the flag that raises it. Pure.
import { ExitCode, UserError } from '../../errors.ts';
import { debugPodMemoryMiB, MAX_MEMORY_MIB } from '../../kube/debug-pod.ts';

/** Captures one command runs at once unless --max-targets says otherwise. */
export const DEFAULT_MAX_TARGETS = 5;
/** Nodes one command starts a debug pod on unless --max-nodes says otherwise. */
export const DEFAULT_MAX_NODES = 5;
/** Debug pods being created at the same time (the others wait for a slot). */
export const DEBUG_POD_CONCURRENCY = 5;

export interface Limits {
  maxTargets: number;
  maxNodes: number;
}

/** Refuses COUNT targets (from WHAT, e.g. "-l app=web") over LIMITS.maxTargets. */
export function checkTargetCount(count: number, what: string, limits: Limits): void {
  if (count <= limits.maxTargets) return;
  throw new UserError(`${count} pods match ${what}, more than --max-targets allows (${limits.maxTargets})`, {
    exitCode: ExitCode.limit,
    hint: `narrow the selection, or raise the limit: --max-targets ${count}`,
  });
}

/**
 * Refuses debug pods on NODES over LIMITS.maxNodes: "WHAT would start a debug pod on each of N
 * nodesWHERE, more than --max-nodes allows (M)".
 */
export function checkNodeCount(nodes: readonly string[], what: string, where: string, limits: Limits): void {
  if (nodes.length <= limits.maxNodes) return;
  throw new UserError(
    `${what} would start a debug pod on each of ${nodes.length} nodes${where}, more than --max-nodes allows (${limits.maxNodes})`,
    { exitCode: ExitCode.limit, hint: `raise the limit: --max-nodes ${nodes.length}` },
  );
}

/**
 * Refuses a debug pod whose CAPTURES tcpdumps of BUFFER_MIB each would need more memory than a
 * debug pod may have: kernel capture buffers are pinned memory on the node. WHERE names the node.
 */
export function checkPodMemory(captures: number, bufferMiB: number, where: string): void {
  const need = debugPodMemoryMiB(Array.from({ length: captures }, () => bufferMiB));
  if (need <= MAX_MEMORY_MIB) return;
  const what = captures === 1 ? 'a capture' : `${captures} captures`;
  throw new UserError(
    `${what} with --buffer-size ${bufferMiB} MiB need${captures === 1 ? 's' : ''} ${need} MiB in the debug pod ${where}, more than a debug pod may have (${MAX_MEMORY_MIB} MiB): capture buffers are pinned kernel memory`,
    {
      exitCode: ExitCode.limit,
      hint: `lower --buffer-size (at most ${maxBufferMiB(captures)} MiB for ${what}), or capture fewer pods on one node`,
    },
  );
}

/** The largest --buffer-size (MiB) that fits CAPTURES captures in one debug pod. */
export function maxBufferMiB(captures: number): number {
  let lo = 0;
  while (debugPodMemoryMiB(Array.from({ length: captures }, () => lo + 1)) <= MAX_MEMORY_MIB) lo++;
  return lo;
}
