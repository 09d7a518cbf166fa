// Turns the agent's parsable error line (`kubectl-netns-agent: error: CODE: message`) into the
// error people see, with the hint that belongs to that cause. Also splits stderr into lines.
import { ExitCode, UserError } from '../errors.ts';
import { AGENT_EXIT, agentExitName, parseAgentError } from './agent.ts';

/** Lines a collector keeps: an agent's error line is its last, and a capture's stderr grows for as long as it runs. */
const KEEP_LINES = 200;

/** Splits a stream of text chunks into complete lines, keeping the last KEEP_LINES for later inspection. */
export class LineCollector {
  private partial = '';
  private lines: string[] = [];

  /** Adds a chunk; returns the lines it completed. */
  push(text: string): string[] {
    const parts = (this.partial + text).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > 2 * KEEP_LINES) this.lines = this.lines.slice(-KEEP_LINES);
    return parts;
  }

  /** The last lines so far (at least KEEP_LINES of them when there were that many), including an unterminated last one. */
  all(): string[] {
    return this.partial ? [...this.lines, this.partial] : [...this.lines];
  }
}

/** True when the agent itself (not the user's command) reported the failure. */
export function isAgentError(stderrLines: string[]): boolean {
  return parseAgentError(stderrLines.join('\n')) !== undefined;
}

/** The user error for a failed agent op, from its exit status and stderr. */
export function agentFailure(exitStatus: number, stderrLines: string[], op: string): UserError {
  const parsed = parseAgentError(stderrLines.join('\n'));
  const name = parsed?.code ?? agentExitName(exitStatus);
  if (name) {
    const exitCode = name === 'NO_CONTAINER' || name === 'NETNS_GONE' ? ExitCode.targetState : ExitCode.agent;
    return new UserError(parsed?.message ?? `the on-node ${op} failed (${name})`, {
      exitCode,
      hint: AGENT_EXIT[name].hint,
    });
  }
  // Not the agent's own error: show the last thing the node said, which is usually the reason.
  const last = stderrLines
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  return new UserError(`the on-node ${op} failed with exit status ${exitStatus}${last ? `: ${last}` : ''}`, {
    exitCode: ExitCode.agent,
    hint:
      exitStatus === 127
        ? 'the debug image lacks a tool the agent needs (sh, tcpdump, nsenter); pass another --image'
        : "rerun with -v to see the agent's output",
  });
}
