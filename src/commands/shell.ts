// `kubectl netns shell TARGET`: a shell from the debug image inside the pod's network namespace,
// i.e. `exec -it TARGET -- sh` in one word, through exec's own code path. A TTY only when stdin
// is a terminal, so `echo 'ip a' | kubectl netns shell web` works from scripts too.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { withContainer, withTarget } from '../cli/options.ts';
import type { ResolvedTarget } from '../kube/target.ts';
import { runInTargetNetns, type InNetnsPlan } from './shared/in-netns.ts';
import { resolveOneTarget } from './shared/target.ts';

export interface ShellArgs extends GlobalArgs {
  target: string;
  container?: string | undefined;
}

/**
 * bash when the debug image has it, else sh; the prompt names the pod. The pod arrives as $1 (argv,
 * never pasted into the script), and only in the RFC 1123 form pod names have, because shells
 * expand parameters in PS1.
 */
export const SHELL_SCRIPT =
  'if [ -n "$1" ]; then PS1="[netns $1] # "; export PS1; fi; if command -v bash >/dev/null 2>&1; then exec bash; fi; exec sh';

const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The argv run in the pod's network namespace. Pure. */
export function shellCommand(target: Pick<ResolvedTarget, 'namespace' | 'pod'>): string[] {
  const name = `${target.namespace}/${target.pod}`;
  return ['sh', '-c', SHELL_SCRIPT, 'kubectl-netns-shell', SAFE_NAME.test(name) ? name : ''];
}

/** Interactive (TTY, raw local terminal) when stdin is a terminal; otherwise the shell reads commands from stdin. Pure. */
export function planShell(stdinIsTTY: boolean | undefined): InNetnsPlan {
  return { command: shellCommand, tty: stdinIsTTY === true, stdin: true };
}

export const shell = defineCommand<ShellArgs>({
  name: 'shell',
  positionals: '<target>',
  completes: 'pods',
  summary: "Open a shell (with the debug image's tools) inside the pod's network namespace",
  usage: 'shell (POD | TYPE/NAME) [-c CONTAINER]',
  examples: [
    ["Interactive: ip, ss, tcpdump, ping in the pod's network namespace", 'shell web-7d9'],
    ['Non-interactive: commands from stdin', "shell web-7d9 <<< 'ss -tlnp'"],
  ],
  builder: (y) => withContainer(withTarget(y)),
  run: async (a) => {
    const ctx = await runContext(a);
    const target = await resolveOneTarget(ctx, a.target, a.container);
    return runInTargetNetns(ctx, target, planShell(process.stdin.isTTY));
  },
});
