// `capture` of many pods at once (several TARGETs, -l, a workload's pods, a service's, --follow):
// resolve → one debug pod per node → a capture per target → one merged pcapng (or a file per pod)
// → a summary per target. One target failing leaves the others capturing; the exit code then says
// the capture is partial.
import type { RunContext } from '../../cli/global.ts';
import { exitCodeForSignal, receivedSignal } from '../../signals.ts';
import { asError, ExitCode, UserError } from '../../errors.ts';
import { debug, info, warn, writeStderr } from '../../log.ts';
import type { V1Node } from '../../kube/client.ts';
import { searchableNodes } from '../../kube/nodes.ts';
import { nodesForPods } from '../../kube/placement.ts';
import { watchNewPods } from '../../kube/pod-watch.ts';
import { openDebugPod } from '../../kube/with-debug-pod.ts';
import { pendingTarget, type TargetRef } from '../../kube/target.ts';
import type { FollowQuery, TargetSet } from '../../kube/targets.ts';
import { dropWarning, MultiStatus, renderSummary } from '../../output/capture-status.ts';
import { STATS_EVERY_SECONDS } from '../../output/capture-output.ts';
import { PcapngOutput } from '../../output/pcapng-output.ts';
import { fileSink, type CaptureSink } from '../../output/sink.ts';
import { useColor } from '../../output/terminal.ts';
import { RotationPolicy, type RotationOptions } from '../../pcap/rotation.ts';
import { VERSION } from '../../version.ts';
import { captureTargets, WorkloadCapture, type WorkloadSettings } from './workload-capture.ts';
import { mergedOutput, PerPodFiles, targetNames } from './target-outputs.ts';
import { checkNodeCount, checkPodMemory, checkTargetCount, type Limits } from './limits.ts';
import { incomplete, podSpool, reconnectReports, remoteSpool, type SpoolPlan } from './spool-options.ts';
import { spoolDiskBytes } from '../../node/spool-plan.ts';

/** How the many-target capture was asked for (the capture command's plan, as far as it matters here). */
export interface ManyPlan extends SpoolPlan {
  refs: readonly TargetRef[];
  filter: string[];
  iface: string;
  snaplen: number | undefined;
  count: number | undefined;
  durationSeconds: number | undefined;
  bufferKiB: number;
  hostSide: boolean;
  /** Compress each capture on the node (--compress). */
  compress: boolean;
  follow: boolean;
  /** Wait for the first pod if none runs yet (--wait). */
  wait: boolean;
  container: string | undefined;
  overwrite: boolean;
  rotation: RotationOptions | undefined;
  quiet: boolean;
  /** --max-targets, --max-nodes. */
  maxTargets: number;
  maxNodes: number;
  /** --all-nodes: --follow/--wait arm every Ready node. */
  allNodes: boolean;
}

/** Where the merged capture goes, or a directory for one file per pod. */
export type ManyOutput =
  | { kind: 'sink'; open: () => Promise<CaptureSink> | CaptureSink }
  | { kind: 'rotate'; path: string }
  | { kind: 'dir'; path: string };

/** How long a reordered packet may wait for slower pods' streams: about one exec round trip. */
export const REORDER_WINDOW_MS = 1000;
/** Memory the reorder buffer may hold before it lets packets go early. */
export const REORDER_MAX_BYTES = 32 * 1024 * 1024;
/** Room each node's debug pod keeps for captures that --follow adds there. */
const FOLLOW_SPARE_CAPTURES = 4;
/** How long a capture from a pod's birth waits for its sandbox. */
const BIRTH_WAIT_SECONDS = 120;

/** Runs the capture of SET's targets (and, with --follow, of pods that appear); returns the exit code. */
export async function captureMany(ctx: RunContext, plan: ManyPlan, set: TargetSet, where: ManyOutput): Promise<number> {
  if (set.targets.length === 0 && !plan.follow && !plan.wait) {
    throw new UserError(`no running pod to capture${set.notRunning.length ? ` (${set.notRunning.join('; ')})` : ''}`, {
      exitCode: ExitCode.targetState,
      hint: 'add --follow to capture pods as they appear, or --wait to wait for the first one',
    });
  }
  const targets = captureTargets(set.targets);
  // The limits first: over one, nothing is created (no debug pod, no file).
  const limits = { maxTargets: plan.maxTargets, maxNodes: plan.maxNodes };
  checkTargetCount(targets.length, sourcesOf(set), limits);
  const targetNodes = [...new Set(targets.map((t) => t.node))].sort();
  checkNodeCount(targetNodes, `capturing these ${targets.length} pods`, '', limits);
  const armNodes = plan.follow || plan.wait ? await nodesToArm(ctx, plan, set, targetNodes, limits) : [];
  for (const note of set.notRunning) info(`not captured: ${note}`);
  for (const t of targets.filter((x) => x.nodeNetwork)) {
    info(
      `${t.pods.map((p) => `${p.namespace}/${p.pod}`).join(', ')} ${t.pods.length > 1 ? 'use' : 'uses'} hostNetwork on node ${t.node}: captured once, as the node's own network (${t.label})`,
    );
  }
  const status = new MultiStatus(process.stderr, !plan.quiet);
  const perNode = new Map<string, number>();
  for (const t of targets) perNode.set(t.node, (perNode.get(t.node) ?? 0) + 1);
  const capturesPerNode = (node: string) =>
    (perNode.get(node) ?? 0) + (plan.follow || plan.wait ? FOLLOW_SPARE_CAPTURES : 0);
  for (const node of new Set([...targetNodes, ...armNodes]))
    checkPodMemory(capturesPerNode(node), plan.bufferKiB / 1024, `on node ${node}`);
  const settings: WorkloadSettings = {
    capture: {
      iface: plan.iface,
      snaplen: plan.snaplen,
      durationSeconds: plan.durationSeconds === undefined ? undefined : Math.ceil(plan.durationSeconds),
      bufferKiB: plan.bufferKiB,
      hostSide: plan.hostSide,
      filter: plan.filter,
      compress: plan.compress ? 'auto' : undefined,
      // The live status shows kernel drops: every capture prints its counters on its own stream.
      statsEverySeconds: status.enabled ? STATS_EVERY_SECONDS : undefined,
      ...remoteSpool(plan, []),
    },
    spoolDiskBytes: plan.spoolBytes === undefined ? undefined : spoolDiskBytes(plan.spoolBytes),
    podReconnectSeconds: podSpool(plan, 1).reconnectSeconds,
    reconnectReports: (label) => reconnectReports(label, plan.reconnectSeconds),
    debugNamespace: ctx.debugNamespace ?? ctx.cfg.namespace,
    bufferMiB: plan.bufferKiB / 1024,
    capturesPerNode,
    birthWaitSeconds: BIRTH_WAIT_SECONDS,
    durationSeconds: plan.durationSeconds,
    hostNetwork: plan.hostSide,
    limits,
  };

  // The outputs' callbacks stop the captures, which need the outputs: the captures come last.
  const captures: { wc?: WorkloadCapture } = {};
  const stop = (why: string) => captures.wc?.stop(why);
  const names = [...targetNames(targets), ...set.names.map((n) => ({ address: n.address, names: [n.name] }))];
  const filter = plan.filter.length ? plan.filter.join(' ') : undefined;
  let merged: PcapngOutput | undefined;
  let perPod: PerPodFiles | undefined;
  if (where.kind === 'dir') perPod = new PerPodFiles(where.path, plan.overwrite);
  else {
    merged = new PcapngOutput({
      sink:
        where.kind === 'rotate'
          ? {
              rotation: new RotationPolicy(where.path, plan.rotation ?? {}),
              open: (path) => fileSink(path, { overwrite: plan.overwrite }),
            }
          : await where.open(),
      header: { userAppl: `kubectl-netns ${VERSION}`, os: `${process.platform} ${process.arch}` },
      names,
      windowMs: REORDER_WINDOW_MS,
      maxBufferedBytes: REORDER_MAX_BYTES,
      countLimit: plan.count,
      onCountReached: () => stop(`${plan.count} packets`),
      onFileDone: (path) => info(`${path} is complete`),
      onStopped: (why) => stop(why),
    });
    await merged.start();
  }
  const output = merged ? mergedOutput(merged, filter) : perPod!;
  const wc = new WorkloadCapture(settings, output, (spec) => openDebugPod(ctx, spec));
  captures.wc = wc;
  const onSignal = () => stop('signal');
  ctx.signal.addEventListener('abort', onSignal, { once: true });
  // Stopped while the targets were being looked up: start nothing that would then run on.
  if (ctx.signal.aborted) onSignal();
  const timers: NodeJS.Timeout[] = [];
  let follower: { stop(): void } | undefined;
  try {
    for (const t of targets) wc.start(t);
    if (plan.follow || (plan.wait && targets.length === 0)) {
      follower = await follow(ctx, plan, set, wc, merged, () => {
        if (plan.wait && !plan.follow) follower?.stop();
      });
      // A capture armed on every node where pods may appear, so a new pod is captured from its birth.
      void armCaptures(wc, armNodes);
    }
    if (plan.durationSeconds !== undefined) {
      timers.push(
        setTimeout(
          () => {
            follower?.stop();
            stop('--duration');
          },
          plan.durationSeconds * 1000 + 2000,
        ),
      );
    }
    if (status.enabled) {
      timers.push(setInterval(() => status.draw(wc.progress()), 500));
    }
    // With --follow new pods may still come: run until stopped. --wait runs until its pod is found.
    if (plan.follow) await waitUntil(() => wc.stopping);
    else if (plan.wait && targets.length === 0) await waitUntil(() => wc.stopping || wc.count > 0);
    await wc.settled();
  } finally {
    follower?.stop();
    for (const t of timers) clearInterval(t);
    ctx.signal.removeEventListener('abort', onSignal);
    status.clear();
    await wc.settled();
  }
  let outputError: unknown;
  try {
    if (merged) await merged.finish();
    else await perPod!.finish();
  } catch (err) {
    outputError = err;
  }
  await wc.close();
  const rows = wc.progress();
  if (!plan.quiet && rows.length) writeStderr(renderSummary(rows, useColor(process.stderr)));
  const drops = dropWarning(rows);
  if (drops) warn(drops);
  const files = merged ? merged.files : perPod!.files;
  const removed = merged?.removedFiles ? ` (${merged.removedFiles} older file(s) removed by --rotate-count)` : '';
  if (!plan.quiet)
    info(
      `${merged?.packets ?? rows.reduce((n, r) => n + r.packets, 0)} packets from ${rows.length} target(s) in ${files.join(', ')}${removed}`,
    );
  if (outputError) throw asError(outputError);
  const sig = receivedSignal();
  if (sig) return exitCodeForSignal(sig);
  const failures = wc.failures();
  if (failures.length > 0 && failures.length === rows.length && wc.refused === 0) throw asError(failures[0]!.error);
  if (wc.refused > 0) {
    warn(
      `${wc.refused} pod(s) that appeared were not captured, over --max-targets (${plan.maxTargets}), --max-nodes (${plan.maxNodes}) or a debug pod's room: the capture is partial`,
    );
  }
  if (failures.length > 0) {
    warn(
      `${failures.length} of ${rows.length} targets could not be captured (${failures.map((f) => f.target.label).join(', ')}): the capture is partial`,
    );
  }
  if (failures.length > 0 || wc.refused > 0) return ExitCode.partial;
  const lost = wc.lost;
  if (lost) throw incomplete(lost);
  return ExitCode.ok;
}

/** Resolves once COND holds (checked every 100 ms). */
async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 100));
}

/** Watches for pods of the same targets appearing, and captures each from its birth. */
async function follow(
  ctx: RunContext,
  plan: ManyPlan,
  set: TargetSet,
  wc: WorkloadCapture,
  merged: PcapngOutput | undefined,
  onFirst: () => void,
): Promise<{ stop(): void }> {
  const queries = followQueries(set);
  if (queries.length === 0) {
    throw new UserError('--follow and --wait need pods that can appear: a workload, a service, or -l SELECTOR', {
      exitCode: ExitCode.usage,
    });
  }
  const known = new Set(set.targets.map((t) => t.podUid));
  return watchNewPods(ctx.client, queries, known, {
    onPod(pod, source) {
      const t = captureTargets([pendingTarget(pod, plan.container, source)], true)[0]!;
      const refused = wc.start(t);
      if (refused) {
        warn(`${source}: new pod ${t.label} on node ${t.node} is not captured: ${refused}`);
        return;
      }
      info(`${source}: new pod ${t.label} on node ${t.node}; capturing it from its birth`);
      if (pod.status?.podIP) merged?.addNames(targetNames([t]));
      onFirst();
    },
    onAddresses(pod) {
      merged?.addNames(targetNames(captureTargets([pendingTarget(pod, plan.container)])));
    },
    onGone(pod) {
      const label = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      info(`${label} ended; its interface keeps its final counters`);
      wc.podEnded(pod.metadata?.uid ?? '', 'pod ended');
    },
    onError(err) {
      warn(
        `watching for new pods failed: ${err instanceof Error ? err.message : String(err)}; capturing what runs already`,
      );
    },
  });
}

/** The queries that find pods appearing later: the workloads' and selectors', else the pods named. */
function followQueries(set: TargetSet): FollowQuery[] {
  return set.follow.length ? set.follow : set.named;
}

/** What the user asked for, for messages: "deployment/web, -l app=api". */
function sourcesOf(set: TargetSet): string {
  const sources = [...set.follow, ...set.named].map((q) => q.source);
  return sources.length ? sources.join(', ') : 'the targets';
}

/**
 * The nodes --follow/--wait arm a capture on: where the pods run now, and every Ready node where
 * pods of the targets may be scheduled (placement.ts: nodeSelector, required node affinity, taints
 * and tolerations); where that is not known (a selector with no pod yet), every Ready node. With
 * --all-nodes every Ready node. More than --max-nodes is an error. Without the right to list
 * nodes, only where the pods run now.
 */
async function nodesToArm(
  ctx: RunContext,
  plan: ManyPlan,
  set: TargetSet,
  targetNodes: readonly string[],
  limits: Limits,
): Promise<string[]> {
  let ready: { names: string[]; nodes: V1Node[] };
  try {
    ready = await searchableNodes(ctx.client);
  } catch (err) {
    info(
      `not arming captures ahead on other nodes (${err instanceof Error ? err.message : String(err)}): a pod that appears elsewhere is captured about a second after it starts`,
    );
    return [...targetNodes];
  }
  if (plan.allNodes) {
    checkNodeCount(ready.names, '--all-nodes', ' (every Ready Linux node)', limits);
    return ready.names;
  }
  const queries = followQueries(set);
  const nodes = new Set(targetNodes);
  for (const q of queries) {
    const where = q.podSpecs.length ? nodesForPods(ready.nodes, q.podSpecs) : ready.names;
    debug(`${q.source}: pods may run on ${where.length ? where.join(', ') : 'no Ready node'}`);
    for (const n of where) nodes.add(n);
  }
  const list = [...nodes].sort();
  checkNodeCount(
    list,
    `${plan.follow ? '--follow' : '--wait'} for ${sourcesOf(set)}`,
    ' where its pods run or may be scheduled',
    limits,
  );
  return list;
}

/**
 * Arms a capture on each of NODES and says once when they are ready: from then on a new pod there
 * is captured from its first packet.
 */
async function armCaptures(wc: WorkloadCapture, nodes: readonly string[]): Promise<void> {
  const ready = await Promise.all(nodes.map((n) => wc.arm(n)));
  if (wc.stopping) return;
  const armed = nodes.filter((_, i) => ready[i]);
  const missed = nodes.filter((_, i) => !ready[i]);
  if (armed.length > 0)
    info(`armed on ${nodeList(armed)}: a pod that appears there now is captured from its first packet`);
  if (missed.length > 0)
    warn(`not armed on ${nodeList(missed)}: a pod that appears there is captured about a second after it starts`);
}

/** Node names for one line: all of them when few, else how many. */
function nodeList(nodes: readonly string[]): string {
  return nodes.length <= 5 ? `node${nodes.length > 1 ? 's' : ''} ${nodes.join(', ')}` : `${nodes.length} nodes`;
}
