// `kubectl netns fetch ID`: writes what a detached capture holds so far (the node's ring as a tar
// stream over exec, as `kubectl cp` reads one) or follows it live (--follow) into a pcap file or
// stdout. Once its capture has ended and every packet is in a complete file, its debug pod is
// deleted (--keep leaves it until its deadline): the packets are kept until fetched.
import { defineCommand } from '../cli/command.ts';
import { runContext, type RunContext } from '../cli/global.ts';
import type { V1Pod } from '../kube/client.ts';
import type { DetachedSpool } from '../output/captures-view.ts';
import { fetchMany } from './shared/fetch-many.ts';
import { ExitCode, UserError } from '../errors.ts';
import { info } from '../log.ts';
import { exitCodeForSignal, receivedSignal } from '../signals.ts';
import { findDetached, podAgent, podSpools } from '../kube/detached.ts';
import { deleteDebugPod } from '../kube/leftovers.ts';
import { SpoolFetch } from '../node/spool-fetch.ts';
import { spoolDir } from '../node/spool-plan.ts';
import { CaptureOutput } from '../output/capture-output.ts';
import { reportLeftoverPartials } from '../output/partial-files.ts';
import { assertNotTerminal, fileSink, stdoutSink } from '../output/sink.ts';
import { detachedNamespace, withDetachedId, type DetachedArgs } from './shared/detached-args.ts';
import { incomplete } from './shared/spool-options.ts';
import { dirname } from 'node:path';

interface FetchArgs extends DetachedArgs {
  output?: string | undefined;
  overwrite: boolean;
  follow: boolean;
  keep: boolean;
}

/** How long fetch --follow keeps reconnecting after its stream broke. */
const FOLLOW_RECONNECT_MS = 60_000;

export const fetch = defineCommand<FetchArgs>({
  name: 'fetch',
  positionals: '<id>',
  summary: 'Write what a detached capture holds so far, or follow it live',
  usage: 'fetch ID [-w FILE | -w -] [--follow] [--keep] [-n NS | -A]',
  examples: [
    ['What detached capture 7f3a9c21 holds now, into 7f3a9c21.pcap', 'fetch 7f3a9c21'],
    ['Follow it live into Wireshark', 'fetch 7f3a9c21 --follow -w - | wireshark -k -i -'],
  ],
  notes:
    'Each fetch writes everything the capture holds, from its first packet. Once the capture has ended and a fetch wrote all of it, its debug pod and packets are deleted, unless --keep.',
  builder: (y) =>
    withDetachedId(y)
      .option('output', {
        alias: ['w', 'o'],
        type: 'string',
        describe: 'Write to FILE, or - for stdout (refused on a terminal). Default: ID.pcap',
      })
      .option('overwrite', {
        alias: 'force',
        type: 'boolean',
        default: false,
        describe: 'Replace the output file if it exists',
      })
      .option('follow', {
        type: 'boolean',
        default: false,
        describe:
          'Go on writing packets as they are captured, until the capture ends or Ctrl-C (which leaves it running)',
      })
      .option('keep', {
        type: 'boolean',
        default: false,
        describe: 'Leave an ended capture on the node after fetching it all (until its deadline)',
      }),
  run: runFetch,
});

async function runFetch(a: FetchArgs): Promise<number> {
  const toStdout = a.output === '-';
  if (toStdout) assertNotTerminal(process.stdout.isTTY);
  if (!toStdout) reportLeftoverPartials(dirname(a.output ?? '.'));
  const ctx = await runContext(a);
  const pods = await findDetached(ctx.client, detachedNamespace(ctx, a), a.id);
  const spools = (
    await Promise.all(pods.map((p) => podSpools(ctx.client, p).then((s) => s.map((x) => ({ p, x })))))
  ).flat();
  if (spools.length === 0) {
    throw new UserError(`detached capture ${a.id} holds no packets yet`, {
      exitCode: ExitCode.notFound,
      hint: 'its capture may still be starting; try again in a moment',
    });
  }
  if (spools.length > 1) return fetchMerged(ctx, a, pods, spools, toStdout);
  const { p: pod, x: spool } = spools[0]!;
  const path = toStdout ? undefined : (a.output ?? `${a.id}.pcap`);
  const sink = path === undefined ? stdoutSink() : await fileSink(path, { overwrite: a.overwrite, signal: ctx.signal });
  const output = new CaptureOutput(sink, a.quiet !== true);
  const source = new SpoolFetch(podAgent(ctx.client, pod), {
    dir: spoolDir(spool.spool.id),
    follow: a.follow,
    reconnectMs: FOLLOW_RECONNECT_MS,
    onGap: (g) => output.noteGap(g),
  });
  info(
    `fetching detached capture ${a.id} (${spool.spool.meta.target ?? '?'}, node ${spool.node})${a.follow ? ', following it' : ''} to ${output.description}`,
  );
  let outcome;
  try {
    outcome = await output.pump(source, ctx.signal);
  } finally {
    await output.finish();
    output.summary(outcome);
  }
  output.throwIfFailed();
  const sig = receivedSignal();
  if (sig) return exitCodeForSignal(sig);
  const lost = output.lost;
  if (source.end === undefined) {
    info(`detached capture ${a.id} is still running: this is what it held so far; fetch again later, or --follow`);
  } else if (!a.keep && !lost && !source.stopped) await deleteFetched(ctx, a, pods);
  if (lost) throw incomplete(lost);
  return ExitCode.ok;
}

/** The capture has ended and a file holds all of it: its pods go, unless --keep. */
async function deleteFetched(ctx: RunContext, a: FetchArgs, pods: readonly V1Pod[]): Promise<void> {
  for (const p of pods) await deleteDebugPod(ctx.client, p.metadata!.namespace!, p.metadata!.name!);
  info(
    `detached capture ${a.id} has ended and is fetched whole: its debug pod${pods.length === 1 ? ' is' : 's are'} deleted (--keep would have kept ${pods.length === 1 ? 'it' : 'them'})`,
  );
}

/** Several pods' spools into one pcapng (default ID.pcapng), as a workload capture writes it. */
async function fetchMerged(
  ctx: RunContext,
  a: FetchArgs,
  pods: readonly V1Pod[],
  spools: ReadonlyArray<{ p: V1Pod; x: DetachedSpool }>,
  toStdout: boolean,
): Promise<number> {
  const path = toStdout ? undefined : (a.output ?? `${a.id}.pcapng`);
  const sink = path === undefined ? stdoutSink() : await fileSink(path, { overwrite: a.overwrite, signal: ctx.signal });
  info(
    `fetching detached capture ${a.id} (${spools.length} pods: ${spools.map((s) => s.x.spool.meta.target ?? '?').join(', ')})${a.follow ? ', following it' : ''} into one pcapng to ${sink.description}`,
  );
  const r = await fetchMany(
    (pod) => podAgent(ctx.client, pod),
    spools.map((s) => ({ pod: s.p, spool: s.x })),
    sink,
    { follow: a.follow, reconnectMs: FOLLOW_RECONNECT_MS, signal: ctx.signal },
  );
  info(
    `fetched ${r.packets} packets of ${spools.length} pods to ${sink.description}${r.captured === undefined ? '' : `; tcpdump: ${r.captured} captured`}`,
  );
  const sig = receivedSignal();
  if (sig) return exitCodeForSignal(sig);
  if (!r.ended)
    info(`detached capture ${a.id} is still running: this is what it held so far; fetch again later, or --follow`);
  else if (!a.keep && r.gaps.length === 0 && !r.stopped) await deleteFetched(ctx, a, pods);
  if (r.gaps.length) {
    const sum = (k: 'packets' | 'bytes') =>
      r.gaps.some((g) => g[k] === undefined) ? undefined : r.gaps.reduce((n, g) => n + (g[k] ?? 0), 0);
    throw incomplete({ packets: sum('packets'), bytes: sum('bytes') });
  }
  return ExitCode.ok;
}
