// `kubectl netns exec TARGET -- CMD...`: runs CMD from the debug image inside the pod's network
// namespace, so `ip`, `ss` and friends work even on distroless pods. Output passes through, the
// exit code is CMD's own; -i forwards stdin, -t allocates a TTY for interactive use.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { withContainer, withTarget } from '../cli/options.ts';
import { usageError } from '../errors.ts';
import { warn } from '../log.ts';
import { runInTargetNetns } from './shared/in-netns.ts';
import { resolveOneTarget } from './shared/target.ts';

export interface ExecArgs extends GlobalArgs {
  target: string;
  container?: string | undefined;
  stdin: boolean;
  tty: boolean;
  '--'?: Array<string | number> | undefined;
}

/** The command words after `--`; at least one is required. Pure. */
export function planExec(
  a: Pick<ExecArgs, '--' | 'tty' | 'stdin'>,
  stdinIsTTY: boolean | undefined,
): { command: string[]; tty: boolean } {
  const command = (a['--'] ?? []).map(String);
  if (command.length === 0)
    throw usageError('no command given', 'put the command after --, e.g. kubectl netns exec POD -- ip addr');
  if (a.tty && !stdinIsTTY) {
    throw usageError('-t needs a terminal on stdin', 'drop -t when piping input (use -i alone)');
  }
  return { command, tty: a.tty };
}

export const exec = defineCommand<ExecArgs>({
  name: 'exec',
  positionals: '<target>',
  completes: 'pods',
  summary: "Run a command from the debug image inside the pod's network namespace",
  usage: 'exec (POD | TYPE/NAME) [-c CONTAINER] -- COMMAND [args...]',
  examples: [
    ["The pod's interfaces and addresses", 'exec web-7d9 -- ip -br addr'],
    ['Listening TCP sockets, with the processes that own them', 'exec web-7d9 -- ss -tlnp'],
    ["An interactive shell with the debug image's tools", 'exec -it web-7d9 -- bash'],
  ],
  builder: (y) =>
    withContainer(withTarget(y))
      .option('stdin', { alias: 'i', type: 'boolean', default: false, describe: 'Pass stdin to the command' })
      .option('tty', {
        alias: 't',
        type: 'boolean',
        default: false,
        describe: 'Allocate a TTY (interactive programs: exec -it POD -- bash)',
      }),
  run: async (a) => {
    const plan = planExec(a, process.stdin.isTTY);
    if (!a.stdin && a.tty) warn('-t without -i: the command gets a terminal but no keyboard input');
    const ctx = await runContext(a);
    const target = await resolveOneTarget(ctx, a.target, a.container);
    return runInTargetNetns(ctx, target, { command: () => plan.command, tty: plan.tty, stdin: a.stdin });
  },
});
