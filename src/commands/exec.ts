// `kubectl netns exec TARGET -- CMD...`: runs CMD from the debug image inside the pod's network
// namespace, so `ip`, `ss` and friends work even on distroless pods. Output passes through, the
// exit code is CMD's own; -i forwards stdin, -t allocates a TTY for interactive use.
import type { Argv } from 'yargs';
import { Writable } from 'node:stream';
import { usageError } from '../errors.ts';
import { info, warn } from '../log.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { defaultRunner, type CommandRunner } from '../cli/runner.ts';
import { exitCodeForSignal, receivedSignal, shutdownSignal, trackLeftover } from '../cli/signals.ts';
import { parseTarget, resolveTarget, type ResolvedTarget } from '../kube/target.ts';
import { execArgv } from '../node/agent.ts';
import { agentFailure, isAgentError, LineCollector } from '../node/agent-errors.ts';
import { lookupPid, openTargetSession } from './session-helpers.ts';

export interface ExecArgs extends GlobalArgs {
  target: string;
  container?: string | undefined;
  stdin: boolean;
  tty: boolean;
  '--'?: Array<string | number> | undefined;
}

/** The command words after `--`; at least one is required. Pure. */
export function planExec(a: Pick<ExecArgs, '--' | 'tty' | 'stdin'>, stdinIsTTY: boolean | undefined): { command: string[]; tty: boolean } {
  const command = (a['--'] ?? []).map(String);
  if (command.length === 0) throw usageError('no command given', 'put the command after --, e.g. kubectl netns exec POD -- ip addr');
  if (a.tty && !stdinIsTTY) {
    throw usageError('-t needs a terminal on stdin', 'drop -t when piping input (use -i alone)');
  }
  return { command, tty: a.tty };
}

export function registerExec(y: Argv<GlobalArgs>, run: CommandRunner = defaultRunner): Argv<GlobalArgs> {
  return y.command(
    'exec <target>',
    "Run a command from the debug image inside the pod's network namespace",
    (c) =>
      c
        .positional('target', { type: 'string', demandOption: true, describe: 'POD, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME or job/NAME' })
        .option('container', { alias: 'c', type: 'string', describe: 'Container whose network namespace to use (default: the default container, else the first)' })
        .option('stdin', { alias: 'i', type: 'boolean', default: false, describe: 'Pass stdin to the command' })
        .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'Allocate a TTY (interactive programs: exec -it POD -- bash)' })
        .example('$0 exec web-7d9 -- ip -br addr', "the pod's interfaces and addresses")
        .example('$0 exec web-7d9 -- ss -tlnp', 'listening TCP sockets')
        .example('$0 exec -it web-7d9 -- bash', 'an interactive shell with the debug tools'),
    async (argv) => {
      process.exitCode = await run('exec', argv as unknown as Record<string, unknown>);
    },
  ) as unknown as Argv<GlobalArgs>;
}

export async function runExec(a: ExecArgs): Promise<number> {
  const plan = planExec(a, process.stdin.isTTY);
  if (!a.stdin && a.tty) warn('-t without -i: the command gets a terminal but no keyboard input');
  return runInTargetNetns(a, { command: () => plan.command, tty: plan.tty, stdin: a.stdin });
}

/** How to run a command in a target's network namespace: exec's and shell's shared plan. */
export interface InNetnsPlan {
  /** The argv, given the resolved target (shell names the pod in its prompt). */
  command: (target: Pick<ResolvedTarget, 'namespace' | 'pod'>) => string[];
  tty: boolean;
  stdin: boolean;
}

/**
 * Resolves TARGET, starts a debug pod on its node and runs the command in the pod's network
 * namespace with stdout/stderr (or a TTY) passed through; returns the command's exit code. The
 * one code path of exec and shell.
 */
export async function runInTargetNetns(a: GlobalArgs & { target: string; container?: string | undefined }, run: InNetnsPlan): Promise<number> {
  const ctx = runContext(a);
  const target = await resolveTarget(ctx.client, parseTarget(a.target), ctx.cfg.namespace, a.container);
  if (target.via) info(`${target.via}: using pod ${target.pod}`);
  for (const w of target.warnings) warn(w);

  let untrack = () => {};
  const session = await openTargetSession(ctx, target, { onCreated: (s) => (untrack = trackLeftover(s.podName, `debug pod ${s.namespace}/${s.podName}`)) });
  const restoreTerminal = run.tty ? enterRawMode() : () => {};
  try {
    const { pid } = await lookupPid(session, target);
    // stderr passes through, and is watched for the agent's own error line (e.g. nsenter denied).
    const lines = new LineCollector();
    const stderr = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString('utf8'));
        if (process.stderr.write(chunk)) cb();
        else process.stderr.once('drain', () => cb());
      },
    });
    const result = await session.exec(execArgv({ pid, command: run.command(target) }), {
      stdout: process.stdout,
      stderr: run.tty ? undefined : stderr,
      stdin: run.stdin ? process.stdin : undefined,
      tty: run.tty,
      terminal: run.tty ? process.stdout : undefined,
      signal: shutdownSignal,
    });
    if (result.exitCode !== 0 && isAgentError(lines.all())) throw agentFailure(result.exitCode, lines.all(), 'exec');
    await new Promise<void>((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', () => resolve()) : resolve()));
    const sig = receivedSignal();
    return sig ? exitCodeForSignal(sig) : result.exitCode;
  } finally {
    restoreTerminal();
    await session.close();
    untrack();
  }
}

/** Puts the local terminal in raw mode for a TTY session; returns the undo. */
function enterRawMode(): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  return () => {
    stdin.setRawMode(false);
    stdin.pause();
  };
}
