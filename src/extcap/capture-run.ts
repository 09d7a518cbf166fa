// A capture Wireshark started: the capture command's own code, handed the typed request
// (capture-request.ts) and Wireshark's FIFO, with the toolbar's log window told each step. The
// capture is handed in by `wireshark-extcap run` (src/commands): the extcap never imports the
// command line, whose commands import the extcap.
//
// How it stops: Wireshark (on Linux and macOS) sends SIGTERM when the user presses Stop, and
// SIGKILL 30 s later if we are still there; SIGTERM takes the same path as Ctrl-C in a terminal:
// tcpdump is stopped, the output finished, the debug pod deleted, then we exit. Wireshark closing
// the FIFO (EPIPE on the next write) and our parent process going away (Windows terminates the
// launcher, not us) take that path too. If we are killed before that, the debug pod ends by
// itself within seconds: its main process lives only as long as our connection (MAIN_SCRIPT in
// debug-pod.ts), and its deadline bounds it in any case.
import type { Socket } from 'node:net';
import {
  exitCodeForSignal,
  installSignalHandlers,
  Interrupted,
  receivedSignal,
  repeatedSignalsWait,
  shutdownSignal,
  stopAsIfSignalled,
} from '../signals.ts';
import { ExitCode, exitCodeOf, formatError, UserError } from '../errors.ts';
import { configureLog, info } from '../log.ts';
import { openPipeReader, openPipeWriter, preopenPipeWriter } from '../output/fifo.ts';
import { VERSION } from '../version.ts';
import { commandLine, wiresharkCapture, type WiresharkCapture } from './capture-request.ts';
import type { WiresharkInterface } from './interfaces.ts';
import type { ExtcapRequest } from './request.ts';
import { ToolbarLog } from './toolbar-log.ts';

type CaptureRequest = Extract<ExtcapRequest, { kind: 'capture' }>;

/** Runs one capture into Wireshark's FIFO; resolves with the exit code. */
export type RunCapture = (capture: WiresharkCapture) => Promise<number>;

/** How often we check that the process that started us is still there. */
const PARENT_CHECK_MS = 1000;

/** Is process PID alive? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops the capture (as SIGHUP would) once the process that started us is gone; returns the stopper. */
function watchParent(): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    // On Linux and macOS an orphan is adopted by another process; on Windows the id just dies.
    if (process.ppid !== parent || !alive(parent)) {
      info('Wireshark went away: stopping');
      stopAsIfSignalled('SIGHUP');
    }
  }, PARENT_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Opens Wireshark's control pipes: what it sends is read and dropped, what we log goes to it. */
function openControlPipes(req: CaptureRequest, log: ToolbarLog, signal: AbortSignal): () => void {
  const sockets: Socket[] = [];
  // Wireshark opens its end of --extcap-control-in for writing and waits until we open ours, so
  // this comes first. We have no controls that take input: the messages are only read.
  if (req.controlIn) {
    openPipeReader(req.controlIn).then(
      (s) => {
        sockets.push(s);
        s.on('error', () => {});
        s.resume();
      },
      () => {},
    );
  }
  if (req.controlOut) {
    openPipeWriter(req.controlOut, signal).then(
      (s) => {
        sockets.push(s);
        log.attach(s);
      },
      () => {},
    );
  }
  return () => {
    for (const s of sockets) if (s !== undefined && !s.destroyed) s.destroy();
  };
}

/** --fifo PATH could not be opened as a FIFO (a regular file, not there): the protocol was not followed. */
function notWiresharksFifo(path: string, err: unknown): UserError {
  const e = err as { code?: string; found?: string; message?: string };
  const what =
    e.code === 'ENOTFIFO' ? e.found : e.code === 'ENOENT' ? 'not there' : `not writable (${e.code ?? e.message})`;
  return new UserError(`--fifo ${path} is ${what}: the extcap writes only into the named pipe Wireshark makes`, {
    exitCode: ExitCode.usage,
    hint: 'start the capture from Wireshark or tshark, which make that pipe and pass it; by hand: mkfifo PATH, and read it while the capture runs',
    cause: err,
  });
}

/** What we tell Wireshark when a capture cannot start because no pod was chosen. */
function noPodChosen(iface: WiresharkInterface): UserError {
  return new UserError('no pod chosen', {
    exitCode: ExitCode.usage,
    hint: `open the interface's options (the gear next to it), choose the namespace, press Load pods and pick one (tshark: -o extcap.${iface.name}.pod:POD)`,
  });
}

/** Runs the capture REQ asks for on IFACE with CAPTURE; resolves with the exit code. Errors go to stderr, which Wireshark shows. */
export async function runWiresharkCapture(
  req: CaptureRequest,
  iface: WiresharkInterface,
  capture: RunCapture,
): Promise<number> {
  installSignalHandlers();
  // Wireshark may send SIGTERM more than once; what ends us at once is its SIGKILL 30 s later.
  repeatedSignalsWait();
  const log = new ToolbarLog();
  configureLog({ stream: log });
  const stopControl = openControlPipes(req, log, AbortSignal.timeout(30_000));
  const stopWatch = watchParent();
  const onStop = () =>
    info(`stopping (${receivedSignal() ?? 'stop'}): ending tcpdump, finishing the capture, deleting the debug pod`);
  shutdownSignal.addEventListener('abort', onStop, { once: true });
  let code: number;
  let fifo: { release(): void } | undefined;
  try {
    // First thing: Wireshark waits for the FIFO's writer (see preopenPipeWriter).
    fifo = await preopenPipeWriter(req.fifo, shutdownSignal).catch((err: unknown) => {
      throw shutdownSignal.aborted ? err : notWiresharksFifo(req.fifo, err);
    });
    const wanted = wiresharkCapture({
      iface,
      fifo: req.fifo,
      filter: req.filter,
      options: req.options,
      verbose: req.controlOut !== undefined,
    });
    if (!wanted.target && !wanted.selector) throw noPodChosen(iface);
    configureLog({ level: wanted.verbose ? 'verbose' : 'normal' });
    info(`kubectl-netns ${VERSION} for Wireshark: ${commandLine(wanted)}`);
    code = await capture(wanted);
  } catch (err) {
    const sig = receivedSignal();
    if (err instanceof Interrupted || (sig && !(err as { exitCode?: number }).exitCode)) {
      code = exitCodeForSignal(sig ?? 'SIGTERM');
    } else {
      const text = formatError(err, false);
      info(text);
      process.stderr.write(`${text}\n`);
      code = exitCodeOf(err);
    }
  } finally {
    // Not taken by the capture (it failed before opening its output): closing it ends Wireshark's wait.
    fifo?.release();
    stopWatch();
    shutdownSignal.removeEventListener('abort', onStop);
  }
  info(`stopped (exit ${code})`);
  await log.close();
  stopControl();
  return code;
}
