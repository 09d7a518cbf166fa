// The one code path of exec and shell: resolve TARGET, start a debug pod on its node, and run a
// command in the pod's network namespace with stdout/stderr (or a TTY) passed through.
import { Writable } from 'node:stream';
import type { RunContext } from '../../cli/global.ts';
import { exitCodeForSignal, receivedSignal } from '../../signals.ts';
import type { ResolvedTarget } from '../../kube/target.ts';
import { withDebugPod } from '../../kube/with-debug-pod.ts';
import { execArgv } from '../../node/agent.ts';
import { agentFailure, isAgentError, LineCollector } from '../../node/agent-errors.ts';
import { lookupPid } from '../../node/agent-ops.ts';
import { onStdoutGone } from '../../output/stdout.ts';
import { passStderr } from '../../log.ts';

/** What a shell reports for a command killed by SIGPIPE (128 + 13): its reader went away. */
export const EXIT_READER_GONE = 141;

/** How to run a command in a target's network namespace: exec's and shell's shared plan. */
export interface InNetnsPlan {
  /** The argv, given the resolved target (shell names the pod in its prompt). */
  command: (target: Pick<ResolvedTarget, 'namespace' | 'pod'>) => string[];
  tty: boolean;
  stdin: boolean;
}

/** Runs PLAN's command next to TARGET; resolves with the command's own exit code. */
export async function runInTargetNetns(ctx: RunContext, target: ResolvedTarget, plan: InNetnsPlan): Promise<number> {
  return withDebugPod(
    ctx,
    { namespace: ctx.debugNamespace ?? target.namespace, node: target.node, target },
    async (pod) => {
      const restoreTerminal = plan.tty ? enterRawMode() : () => {};
      try {
        const { pid } = await lookupPid(pod, target, ctx.signal);
        // stderr passes through, and is watched for the agent's own error line (e.g. nsenter denied).
        const lines = new LineCollector();
        const stderr = new Writable({
          write(chunk: Buffer, _e, cb) {
            lines.push(chunk.toString('utf8'));
            passStderr(chunk, cb);
          },
        });
        // `exec … | head -1`: the reader leaving ends the command (as SIGPIPE would), and the
        // debug pod is still deleted.
        const readerGone = new AbortController();
        const unsubscribe = onStdoutGone(() => readerGone.abort(new Error('stdout closed')));
        let result;
        try {
          result = await pod.exec(execArgv({ pid, command: plan.command(target) }), {
            stdout: process.stdout,
            stderr: plan.tty ? undefined : stderr,
            stdin: plan.stdin ? process.stdin : undefined,
            tty: plan.tty,
            terminal: plan.tty ? process.stdout : undefined,
            signal: AbortSignal.any([ctx.signal, readerGone.signal]),
          });
        } catch (err) {
          if (readerGone.signal.aborted && !ctx.signal.aborted) return EXIT_READER_GONE;
          throw err;
        } finally {
          unsubscribe();
        }
        if (result.exitCode !== 0 && isAgentError(lines.all()))
          throw agentFailure(result.exitCode, lines.all(), 'exec');
        await new Promise<void>((resolve) => {
          if (!process.stdout.writableNeedDrain) return resolve();
          process.stdout.once('drain', () => resolve());
          onStdoutGone(() => resolve());
        });
        const sig = receivedSignal();
        return sig ? exitCodeForSignal(sig) : result.exitCode;
      } finally {
        restoreTerminal();
      }
    },
  );
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
