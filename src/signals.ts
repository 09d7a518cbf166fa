// Signal wiring for every command. The first SIGINT/SIGTERM/SIGHUP aborts the running command,
// whose `finally` stops tcpdump and deletes the debug pod; a second Ctrl-C exits at once and says
// what may be left behind. Commands register what they leave behind while it exists.
import { ExitCode } from './errors.ts';
import { warn } from './log.ts';

export class Interrupted extends Error {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
    this.signal = signal;
  }
}

const leftovers = new Map<string, string>();
const controller = new AbortController();
let installed = false;
let received: NodeJS.Signals | undefined;
let repeatExits = true;

/** Aborted on the first terminating signal; commands pass it to everything that waits. */
export const shutdownSignal: AbortSignal = controller.signal;

/** The exit code a signal implies (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP). */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  if (signal === 'SIGINT') return ExitCode.interrupted;
  if (signal === 'SIGTERM') return ExitCode.terminated;
  return 129;
}

/** The signal that stopped us, if any. */
export function receivedSignal(): NodeJS.Signals | undefined {
  return received;
}

/** Records something a hard exit would leave behind (e.g. "debug pod ns/name"); returns its remover. */
export function trackLeftover(key: string, description: string): () => void {
  leftovers.set(key, description);
  return () => leftovers.delete(key);
}

/** What a terminating signal does: the first aborts the command, a second exits at once. */
function onSignal(signal: NodeJS.Signals): void {
  if (received === undefined) {
    received = signal;
    controller.abort(new Interrupted(signal));
    return;
  }
  // Second signal: the user wants out now.
  if (!repeatExits) return;
  for (const d of leftovers.values()) warn(`${d} may be left behind; \`kubectl netns cleanup\` removes it`);
  process.exit(exitCodeForSignal(received));
}

/**
 * Stops the running command as SIGNAL would, for a stop that arrives another way (Wireshark
 * closing our pipe, or our parent process dying) and where no signal can be sent (Windows).
 */
export function stopAsIfSignalled(signal: NodeJS.Signals): void {
  if (received === undefined) onSignal(signal);
}

/**
 * Makes a second signal a repeat of the first instead of an exit at once. For a program that stops
 * us by signal and may send it again (Wireshark sends SIGTERM for each stop request, and SIGKILL
 * when it stops waiting): an exit at once would skip deleting the debug pod.
 */
export function repeatedSignalsWait(): void {
  repeatExits = false;
}

/** Installs the handlers once. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
}
