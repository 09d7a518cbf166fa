// Runs a command in a pod over the exec websocket, binary-safe and with backpressure, and reports
// its exit code. client-node's Exec resolves when the socket OPENS and writes to the sink without
// looking at write()'s return value (a slow sink once buffered 62 MiB), so this drives the frames
// itself: it pauses the socket while the sink is full and finishes on status + close. A close
// without a status frame means the connection was lost, and is reported as such.
import { stringify } from 'node:querystring';
import type { Readable, Writable } from 'node:stream';
import { asError, ExitCode, UserError } from '../errors.ts';
import type { KubeClient, V1Status } from './client.ts';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const CLOSE = 255;
const V5 = 'v5.channel.k8s.io';
/** Stop reading local stdin while this much is queued on the socket. */
const STDIN_HIGH_WATER = 1 << 20;
/** How often we ping the API server: a quiet capture sends no frames, so silence alone proves nothing. */
const PING_EVERY_MS = 10_000;
/**
 * A connection that answers neither pings nor with frames for this long is dead (a half-open TCP
 * connection after a VPN drop or a suspended laptop never closes by itself).
 */
export const DEAD_AFTER_MS = 30_000;

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  /** Receives the command's stdout. Backpressure is honoured. */
  stdout: Writable;
  /** Receives the command's stderr (not used with tty, where the TTY merges it). */
  stderr?: Writable | undefined;
  /** Forwarded as the command's stdin; omitted means no stdin at all (required for capture). */
  stdin?: Readable | undefined;
  /** Allocate a TTY (interactive shells only: a TTY mangles binary output). */
  tty?: boolean | undefined;
  /** Terminal size source for tty sessions. */
  terminal?:
    | {
        columns: number;
        rows: number;
        on(event: 'resize', fn: () => void): unknown;
        off(event: 'resize', fn: () => void): unknown;
      }
    | undefined;
  /** Aborting closes the socket at once (the remote command is NOT stopped by that). */
  signal?: AbortSignal | undefined;
}

export interface ExecResult {
  exitCode: number;
  /** Bytes received on stdout, for summaries and tests. */
  stdoutBytes: number;
}

/** The API path for an exec request. Every argv word is its own `command=` parameter. */
export function execPath(
  r: Pick<ExecRequest, 'namespace' | 'pod' | 'container' | 'command' | 'stdin' | 'tty'>,
): string {
  const query = stringify({
    command: r.command,
    container: r.container,
    stdin: r.stdin !== undefined,
    stdout: true,
    stderr: !r.tty,
    tty: r.tty === true,
  });
  return `/api/v1/namespaces/${encodeURIComponent(r.namespace)}/pods/${encodeURIComponent(r.pod)}/exec?${query}`;
}

/** Maps the status frame to an exit code; a failure that is not the command's own exit is thrown. */
export function exitCodeFromStatus(status: V1Status): number {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number.parseInt(cause?.message ?? '', 10);
    if (Number.isInteger(code)) return code;
  }
  throw new UserError(`the command could not run in the pod: ${status.message ?? status.reason ?? 'unknown failure'}`, {
    exitCode: ExitCode.agent,
  });
}

/** Translates a failure to OPEN the websocket (the HTTP upgrade was refused). */
export function translateUpgradeError(err: unknown, r: Pick<ExecRequest, 'namespace' | 'pod'>): UserError {
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  const code = /Unexpected server response: (\d{3})/.exec(message)?.[1];
  const where = `pod "${r.pod}" in namespace "${r.namespace}"`;
  if (code === '403') {
    // The exec websocket is a GET, which the API server authorizes as "get" on pods/exec (newer
    // servers also check "create"), so a Role needs both verbs.
    return new UserError(`forbidden: you cannot exec into ${where} (needs "create" and "get" on "pods/exec")`, {
      exitCode: ExitCode.forbidden,
      hint: `ask for RBAC that allows it; check with kubectl auth can-i get pods/exec -n ${r.namespace}`,
      cause: err,
    });
  }
  if (code === '404')
    return new UserError(`${where} not found while starting exec`, { exitCode: ExitCode.notFound, cause: err });
  if (code === '401')
    return new UserError('the API server rejected our credentials (Unauthorized) for exec', {
      exitCode: ExitCode.config,
      cause: err,
    });
  if (code === '400') {
    return new UserError(`the API server refused exec into ${where} (HTTP 400: the container may not be running)`, {
      exitCode: ExitCode.targetState,
      cause: err,
    });
  }
  return new UserError(`cannot open the exec stream to ${where}: ${message}`, {
    exitCode: ExitCode.connection,
    cause: err,
  });
}

/** Runs the command and resolves with its exit code once the status frame and the close arrived. */
export async function execInPod(client: KubeClient, r: ExecRequest): Promise<ExecResult> {
  let status: V1Status | undefined;
  let stdoutBytes = 0;
  let socket: Awaited<ReturnType<KubeClient['openExec']>> | undefined;
  let paused = 0;
  let lastHeard = Date.now();
  const resumeWhenDrained = (w: Writable) => {
    paused++;
    socket?.pause();
    w.once('drain', () => {
      // A paused socket reads nothing, pongs included: the silence was ours, not the server's.
      lastHeard = Date.now();
      if (--paused === 0) socket?.resume();
    });
  };
  const onFrame = (channel: number, payload: Buffer) => {
    lastHeard = Date.now();
    if (payload.length === 0) return;
    if (channel === STDOUT) {
      stdoutBytes += payload.length;
      if (!r.stdout.write(payload)) resumeWhenDrained(r.stdout);
    } else if (channel === STDERR) {
      if (r.stderr && !r.stderr.write(payload)) resumeWhenDrained(r.stderr);
    } else if (channel === STATUS) {
      try {
        status = JSON.parse(payload.toString('utf8')) as V1Status;
      } catch {
        status = { status: 'Failure', message: payload.toString('utf8') };
      }
    }
    // CLOSE frames from the server only announce a stream's end; the socket close follows.
  };

  if (r.signal?.aborted) throw r.signal.reason;
  try {
    socket = await client.openExec(execPath(r), onFrame);
  } catch (err) {
    throw translateUpgradeError(err, r);
  }
  const ws = socket;

  return await new Promise<ExecResult>((resolve, reject) => {
    const cleanups: Array<() => void> = [];
    let done = false;
    let silent = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      for (const c of cleanups) c();
      fn();
    };

    ws.on('close', (code) => {
      if (status) {
        const s = status;
        finish(() => {
          try {
            resolve({ exitCode: exitCodeFromStatus(s), stdoutBytes });
          } catch (err) {
            reject(asError(err));
          }
        });
      } else if (r.signal?.aborted) {
        finish(() => reject(asError(r.signal?.reason)));
      } else {
        const why = silent
          ? `no answer from the API server for ${DEAD_AFTER_MS / 1000}s`
          : `websocket closed with code ${code} and no exit status`;
        finish(() =>
          reject(
            new UserError(`the connection to the API server was lost during exec into pod "${r.pod}" (${why})`, {
              exitCode: ExitCode.connection,
              hint: 'the command may still be running on the node; rerun, and check connectivity to the cluster',
            }),
          ),
        );
      }
    });
    ws.on('error', () => {
      // 'close' always follows 'error' in ws, and carries the verdict.
    });
    ws.on('pong', () => (lastHeard = Date.now()));
    const pinger = setInterval(() => {
      if (paused > 0) {
        // No ping while we do not read: the server's pong would find the connection full, and
        // the API server gives up on a write that cannot finish, closing the stream (1006).
        lastHeard = Date.now();
        return;
      }
      if (Date.now() - lastHeard > DEAD_AFTER_MS) {
        silent = true;
        ws.terminate();
        return;
      }
      try {
        ws.ping();
      } catch {
        // Not open (closing): 'close' decides.
      }
    }, PING_EVERY_MS);
    cleanups.push(() => clearInterval(pinger));

    if (r.signal) {
      const onAbort = () => ws.terminate();
      r.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => r.signal?.removeEventListener('abort', onAbort));
    }

    if (r.stdin) {
      const stdin = r.stdin;
      const onData = (chunk: Buffer | string) => {
        const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        ws.send(Buffer.concat([Buffer.from([STDIN]), data]));
        if (ws.bufferedAmount > STDIN_HIGH_WATER) {
          stdin.pause();
          const poll = setInterval(() => {
            if (ws.bufferedAmount < STDIN_HIGH_WATER / 2) {
              clearInterval(poll);
              stdin.resume();
            }
          }, 10);
          cleanups.push(() => clearInterval(poll));
        }
      };
      // v5 can half-close stdin; older protocols cannot, and closing the socket would lose the
      // output, so there the remote side sees EOF only when the session ends.
      const onEnd = () => {
        if (ws.protocol === V5) ws.send(Buffer.from([CLOSE, STDIN]));
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      cleanups.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      });
    }

    if (r.tty && r.terminal) {
      const term = r.terminal;
      const sendSize = () =>
        ws.send(
          Buffer.concat([
            Buffer.from([RESIZE]),
            Buffer.from(JSON.stringify({ Width: term.columns, Height: term.rows })),
          ]),
        );
      sendSize();
      term.on('resize', sendSize);
      cleanups.push(() => term.off('resize', sendSize));
    }
  });
}
