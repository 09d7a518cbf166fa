// The one error type the CLI shows to people. Everything below main.ts throws these (or lets
// unknown errors bubble up); main.ts formats them exactly once.
import { safeText } from './output/terminal.ts';

/** Exit codes, distinct per cause, so scripts can branch on what went wrong. Documented in docs/flags-and-exit-codes.md. */
export const ExitCode = {
  ok: 0,
  /** Something we did not anticipate; the message says what, -v shows the stack. */
  internal: 1,
  /** Wrong flags or arguments: usage is printed. */
  usage: 2,
  /** Kubeconfig or context problem (missing file, unknown context, no cluster). */
  config: 3,
  /** The target (pod, workload, container, node) does not exist. */
  notFound: 4,
  /** The target exists but cannot be captured/entered (not running, Windows, terminated, no PID). */
  targetState: 5,
  /** The API server refused us: RBAC forbidden, PodSecurity admission, unauthorized. */
  forbidden: 6,
  /** The debug pod could not start (image pull, create error, deadline, unschedulable). */
  debugPod: 7,
  /** The connection to the API server or the exec stream was lost. */
  connection: 8,
  /** The on-node agent refused: bad filter, no such interface, tcpdump/nsenter missing or denied. */
  agent: 9,
  /** Local output problem: terminal stdout for binary data, unwritable file, Wireshark missing. */
  output: 10,
  /** Timed out waiting for something the user asked for (--pod-timeout). */
  timeout: 11,
  /** A many-target capture where some targets could not be captured and the others were. */
  partial: 12,
  /** Over a safety limit (--max-targets, --max-nodes, the debug pod's memory cap): nothing was started. */
  limit: 13,
  /**
   * The node's spool wrapped before the client read some packets: the output holds everything
   * else, and says where the gap is (pcapng: a comment on the first packet after it).
   */
  incomplete: 14,
  /** Stopped by SIGINT (128+2), as shells expect. */
  interrupted: 130,
  /** Stopped by SIGTERM (128+15). */
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the user can act on: a one-line message, an optional hint, and a distinct exit code. */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  /** Usage mistakes get the command's usage printed; runtime failures do not. */
  readonly showUsage: boolean;

  constructor(message: string, opts: { hint?: string; exitCode?: number; showUsage?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.internal;
    this.showUsage = opts.showUsage ?? false;
  }
}

/** Shorthand for an argument mistake (exit 2, usage shown). */
export function usageError(message: string, hint?: string): UserError {
  return new UserError(message, { hint, exitCode: ExitCode.usage, showUsage: true });
}

/** Formats any error as the single line (plus optional hint line) main.ts prints to stderr. */
export function formatError(err: unknown, verbose: boolean): string {
  // Messages carry text from the API and the node: every line is escaped on its own.
  const stack = (e: Error) => (e.stack ?? '').split('\n').map(safeText);
  if (err instanceof UserError) {
    const lines = [`error: ${safeText(err.message)}`];
    if (err.hint) lines.push(`hint: ${safeText(err.hint)}`);
    if (verbose && err.cause instanceof Error && err.cause.stack) lines.push(...stack(err.cause));
    return lines.join('\n');
  }
  const message = err instanceof Error ? err.message : String(err);
  const lines = [`error: ${safeText(message.split('\n')[0] ?? '')}`];
  if (verbose && err instanceof Error && err.stack) lines.push(...stack(err));
  else lines.push('hint: this looks like a bug in kubectl-netns; rerun with -v for details and report it');
  return lines.join('\n');
}

/** REASON as an Error (an abort reason or a rejection may be anything). */
export function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** The exit code for any error: UserError carries its own, anything else is internal. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UserError ? err.exitCode : ExitCode.internal;
}
