// `kubectl netns fetch ID`: writes what a detached capture holds so far (the node's ring as a tar
// stream over exec, as `kubectl cp` reads one) or follows it live (--follow) into a pcap file or
// stdout. Once its capture has ended and every packet is in a complete file, its debug pod is
// deleted (--keep leaves it until its deadline): the packets are kept until fetched.
import { defineCommand } from '../cli/command.ts';
import { runContext } from '../cli/global.ts';
import { usageError, ExitCode, UserError } from '../errors.ts';
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
  const path = toStdout ? undefined : (a.output ?? `${a.id}.pcap`);
  if (path !== undefined) reportLeftoverPartials(dirname(path));
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
  if (spools.length > 1)
    throw usageError(`detached capture ${a.id} has ${spools.length} targets: fetch writes one for now`);
  const { p: pod, x: spool } = spools[0]!;
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
  } else if (!a.keep && !lost && !source.stopped) {
    for (const p of pods) await deleteDebugPod(ctx.client, p.metadata!.namespace!, p.metadata!.name!);
    info(
      `detached capture ${a.id} has ended and is fetched whole: its debug pod is deleted (--keep would have kept it)`,
    );
  }
  if (lost) throw incomplete(lost);
  return ExitCode.ok;
}
