// capture --detach: one debug pod per node, labelled with a new ID, a spooled capture per target
// in it; once every tcpdump listens, each pod is marked detached (it stays until its deadline,
// held or not) and let go. stdout gets the ID and nothing else; people read stderr. Anything that
// fails before that deletes every pod this run made: a half-started detached capture is not left.
import type { RunContext } from '../../cli/global.ts';
import { usageError } from '../../errors.ts';
import { info, warn } from '../../log.ts';
import { detachArgv, type CaptureOptions } from '../../node/agent.ts';
import { collectOk } from '../../node/agent-ops.ts';
import { startDetached } from '../../node/spool-detach.ts';
import { spoolDir, spoolDiskBytes } from '../../node/spool-plan.ts';
import { newDetachedId } from '../../kube/detached.ts';
import type { ResolvedTarget } from '../../kube/target.ts';
import { resolveTargets } from '../../kube/targets.ts';
import { openDebugPod, type OpenDebugPod } from '../../kube/with-debug-pod.ts';
import { captureOptions, type CapturePlan } from '../capture.ts';
import { checkNodeCount, checkPodMemory, checkTargetCount } from './limits.ts';
import { resolveOneTarget } from './target.ts';

/** Starts PLAN detached (PLAN.detach set) and prints its ID; resolves with the exit code. */
export async function captureDetached(
  ctx: RunContext,
  plan: CapturePlan,
  container: string | undefined,
): Promise<number> {
  const keepSeconds = plan.detach!.keepSeconds;
  const targets = await detachTargets(ctx, plan, container);
  const what = plan.selector
    ? `-l ${plan.selector}`
    : plan.refs.map((r) => (r.kind === 'pod' ? r.name : `${r.kind}/${r.name}`)).join(' ');
  checkTargetCount(targets.length, what, plan);
  if (targets.length === 0)
    throw usageError(`no running pod to capture in ${what}`, 'a detached capture takes the pods running now');
  const groups = groupByPod(targets, ctx.debugNamespace);
  checkNodeCount([...new Set(targets.map((t) => t.node))], what, '', plan);
  for (const g of groups) checkPodMemory(g.targets.length, plan.bufferKiB / 1024, `on node ${g.node}`);
  const id = newDetachedId();
  const startedBy = await ctx.client.whoAmI?.().catch(() => undefined);
  const pods: OpenDebugPod[] = [];
  let started = false;
  try {
    let k = 0;
    for (const g of groups) {
      const pod = await openDebugPod(ctx, {
        namespace: g.namespace,
        node: g.node,
        target: g.targets.length === 1 ? g.targets[0] : undefined,
        // The pod outlives the capture by the time its data is kept.
        durationSeconds: plan.durationSeconds! + keepSeconds,
        captureBuffersMiB: g.targets.map(() => plan.bufferKiB / 1024),
        spoolBytes: g.targets.length * spoolDiskBytes(plan.spoolBytes!),
        detached: { id, startedBy },
      });
      pods.push(pod);
      for (const target of g.targets) {
        const captureId = `${id}-${k++}`;
        const l = await startDetached(pod.session, detachedCaptureOptions(plan, target, captureId));
        info(`capturing on ${l.iface} in ${target.namespace}/${target.pod} (node ${target.node}, ${l.linkType})`);
      }
    }
    // Only now that every tcpdump listens: a failure above deletes the pods with their captures.
    for (const pod of pods) await collectOk(pod.session, detachArgv(), 'detach');
    // The ID goes out only once `captures`, `fetch` and `stop` can find every pod by its phase.
    await Promise.all(pods.map((p) => p.session.reportedRunning(ctx.podTimeoutMs)));
    for (const pod of pods) pod.leave();
    started = true;
  } finally {
    if (!started) await Promise.all(pods.map((p) => p.close()));
  }
  process.stdout.write(`${id}\n`);
  const ns = pods[0]!.session.namespace;
  const nsFlag = ns === ctx.cfg.namespace ? '' : ` -n ${ns}`;
  info(
    `detached capture ${id}: ${targets.length} pod${targets.length === 1 ? '' : 's'}, capturing for ${plan.durationSeconds}s, kept on the node for ${keepSeconds}s more; kubectl netns fetch ${id}${nsFlag} -w FILE (stop it: kubectl netns stop ${id}${nsFlag})`,
  );
  if (groups.some((g) => g.namespace !== ns))
    warn(`its debug pods are in several namespaces: use -A with fetch and stop`);
  return 0;
}

/** The running pods PLAN names, as a capture without --detach would take them. */
async function detachTargets(
  ctx: RunContext,
  plan: CapturePlan,
  container: string | undefined,
): Promise<ResolvedTarget[]> {
  if (plan.refs.length === 1 && !plan.selector && plan.refs[0]!.kind === 'pod')
    return [await resolveOneTarget(ctx, plan.refs[0]!.name, container)];
  const set = await resolveTargets(ctx.client, {
    refs: plan.refs,
    selector: plan.selector,
    namespace: ctx.cfg.namespace,
    allNamespaces: plan.allNamespaces,
    container,
    podMayNotExistYet: false,
  });
  for (const t of set.targets) for (const w of t.warnings) warn(w);
  if (set.notRunning.length) info(`not captured (not running): ${set.notRunning.join('; ')}`);
  return set.targets;
}

/** One debug pod's share: its node, its namespace, the targets it captures. */
interface PodGroup {
  node: string;
  namespace: string;
  targets: ResolvedTarget[];
}

/** Targets grouped by the debug pod that captures them (one per node and debug namespace). Pure. */
export function groupByPod(targets: readonly ResolvedTarget[], debugNamespace: string | undefined): PodGroup[] {
  const groups = new Map<string, PodGroup>();
  for (const t of targets) {
    const namespace = debugNamespace ?? t.namespace;
    const key = `${t.node}\n${namespace}`;
    const g = groups.get(key) ?? { node: t.node, namespace, targets: [] };
    g.targets.push(t);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** The agent's options for TARGET's detached capture CAPTURE_ID: a spool and no stream. Pure. */
export function detachedCaptureOptions(plan: CapturePlan, target: ResolvedTarget, captureId: string): CaptureOptions {
  const { reconnectMs: _none, spool, ...capture } = captureOptions(plan, target, undefined);
  return { ...capture, id: captureId, spool: { ...spool!, dir: spoolDir(captureId) } };
}
