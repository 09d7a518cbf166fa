// fetch of a detached capture of several pods: each pod's spool read as fetch reads one (a tar
// snapshot, or followed), all of them merged into one pcapng in the nodes' timestamp order, each
// pod its own interface (NAMESPACE/POD/IFACE), as a workload capture writes it; a ring that
// wrapped is marked with a comment on the first packet after the gap.
import { warn } from '../../log.ts';
import type { V1Pod } from '../../kube/client.ts';
import type { AgentExec } from '../../node/agent-ops.ts';
import { SpoolFetch } from '../../node/spool-fetch.ts';
import { spoolDir } from '../../node/spool-plan.ts';
import { describeGap, type SpoolGap } from '../../node/spool-stream.ts';
import type { DetachedSpool } from '../../output/captures-view.ts';
import { PcapngOutput } from '../../output/pcapng-output.ts';
import type { CaptureSink } from '../../output/sink.ts';
import { formatBytes } from '../../output/status-line.ts';
import { VERSION } from '../../version.ts';
import { REORDER_MAX_BYTES, REORDER_WINDOW_MS } from './capture-many.ts';

/** What a merged fetch wrote and whether it got every spool to its end. */
export interface ManyFetched {
  packets: number;
  /** Every spool's capture had ended and was read to its end. */
  ended: boolean;
  /** Reading stopped early (Ctrl-C, the reader went away, the output failed). */
  stopped: boolean;
  gaps: SpoolGap[];
  /** tcpdump's captured counts, summed over the spools that said. */
  captured: number | undefined;
}

/** Fetches SPOOLS (each with its pod, reached through AGENT) into one pcapng on SINK; SIGNAL stops reading. */
export async function fetchMany(
  agent: (pod: V1Pod) => AgentExec,
  spools: ReadonlyArray<{ pod: V1Pod; spool: DetachedSpool }>,
  sink: CaptureSink,
  o: { follow: boolean; reconnectMs: number; signal: AbortSignal },
): Promise<ManyFetched> {
  const fetches: SpoolFetch[] = [];
  const stopAll = (why: string) => fetches.forEach((f) => f.stop(why));
  const out = new PcapngOutput({
    sink,
    header: { userAppl: `kubectl-netns ${VERSION}`, os: `${process.platform} ${process.arch}` },
    names: [],
    windowMs: REORDER_WINDOW_MS,
    maxBufferedBytes: REORDER_MAX_BYTES,
    onStopped: stopAll,
  });
  await out.start();
  const gaps: SpoolGap[] = [];
  const onAbort = () => stopAll('signal');
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // Every spool to its end even when one fails, so the file closes with all the others hold.
    const results = await Promise.allSettled(
      spools.map(async ({ pod, spool }) => {
        const key = spool.spool.id;
        const target = spool.spool.meta.target ?? key;
        const f = new SpoolFetch(agent(pod), {
          dir: spoolDir(key),
          follow: o.follow,
          reconnectMs: o.reconnectMs,
          onGap: (g) => {
            gaps.push(g);
            const what = describeGap(g, formatBytes);
            warn(`${target}: ${what}; marked on the first packet after it in the file`);
            out.noteGap(key, g.afterPackets, `kubectl-netns: ${what}`);
          },
        });
        fetches.push(f);
        if (o.signal.aborted) f.stop('signal');
        const src = out.source(key, {
          name: () => `${target}/${spool.spool.meta.iface ?? 'eth0'}`,
          description: `pod ${target} on node ${spool.node}, detached capture ${spool.id}`,
          stats: () => f.stats,
        });
        try {
          await f.run(src);
        } finally {
          out.endSource(key);
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    await out.finish();
  }
  const counts = fetches.map((f) => f.stats?.captured);
  return {
    packets: out.packets,
    ended: fetches.every((f) => f.end !== undefined),
    stopped: fetches.some((f) => f.stopped),
    gaps,
    captured: counts.every((c) => c !== undefined) ? counts.reduce((a: number, b) => a + (b ?? 0), 0) : undefined,
  };
}
