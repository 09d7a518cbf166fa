// Follows a spooled capture (see spool-stream.ts for the protocol) through as many execs as it
// takes. The first exec starts the capture and reads the ring from the start; when an exec stream
// breaks (the API server restarts, a proxy cuts the connection, a laptop sleeps) while tcpdump
// goes on writing the ring on the node, a new reader is started at the last complete record the
// client has, so the output has no gap and no duplicate. Retries back off (250 ms doubling to
// 5 s) for a bounded time after the break, and say so on the way.
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { asError, ExitCode, UserError } from '../errors.ts';
import { debug } from '../log.ts';
import { AGENT_EXIT, readArgv, type CaptureCompression } from './agent.ts';
import type { AgentExec } from './agent-ops.ts';
import { LineCollector } from './agent-errors.ts';
import { SpoolDemux, type SpoolEnd, type SpoolGap, type SpoolPosition } from './spool-stream.ts';

/** The reader's own stderr lines (not the capture's log): where its log ends, what tcpdump wrote. */
const SPOOL_LINE = /^kubectl-netns-spool: (log|written) ([0-9]{1,15})$/;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

export interface SpoolFollowHooks {
  /** A line of the capture's log or of the agent (everything on stderr but the reader's own). */
  onLine?: (line: string) => void;
  /** The ring lost files before they were read (see SpoolDemux). */
  onGap?: (gap: SpoolGap) => void;
  /** The stream broke; another reader will be tried (attempt counts from 1). */
  onReconnecting?: (r: { attempt: number; error: Error; lostForMs: number }) => void;
  /** A new reader streams again, from POSITION. */
  onResumed?: (r: { attempts: number; position: SpoolPosition | undefined; lostForMs: number }) => void;
}

export interface SpoolFollowOptions {
  /** The capture's spool directory on the node. */
  dir: string;
  /** The stream is compressed on the node (each reader's own stream, decompressed by decompress()). */
  compress?: CaptureCompression | undefined;
  /** How long after a break to keep trying (0: do not reconnect). */
  reconnectMs: number;
  /** Aborting stops the retries (a running exec is left to the caller's stop). */
  signal?: AbortSignal | undefined;
  /** Tell the reader which files we have, so the ring may delete them uncounted (default true). */
  ack?: boolean | undefined;
  /** The first exec's stdin (an armed capture's: its pod UID goes first); later execs get their own. */
  firstStdin?: PassThrough | undefined;
  hooks?: SpoolFollowHooks | undefined;
}

/** How a followed capture ended. */
export interface SpoolOutcome {
  /** The last exec's exit status (0 once the end marker arrived). */
  exitCode: number;
  /** The end marker (tcpdump's status and counts); undefined if the stream never got that far. */
  end: SpoolEnd | undefined;
  /** Stderr lines of the last exec, for the caller's error reporting. */
  lines: string[];
}

/** What one exec's stdout goes through before the demultiplexer: an interface gate, a decompressor. */
export type StdoutChain = (into: Writable, attempt: number) => { head: Writable; done: () => Promise<void> };

/** Whether ERR is a lost connection (worth another reader), not a refusal or the agent's own failure. */
export function isConnectionLoss(err: unknown): boolean {
  return err instanceof UserError && err.exitCode === ExitCode.connection;
}

export class SpoolFollower {
  readonly demux: SpoolDemux;
  readonly #agent: AgentExec;
  readonly #o: SpoolFollowOptions;
  /** The current reader's stdin: acks and "done" go there. */
  #stdin: PassThrough | undefined;
  #logOffset = 0;
  #written: number | undefined;
  #demuxError: Error | undefined;
  /** leave() was called: the reader's end is ours, not a break. */
  #leaving = false;

  constructor(agent: AgentExec, o: SpoolFollowOptions) {
    this.#agent = agent;
    this.#o = o;
    this.demux = new SpoolDemux({
      onFileDone: (seq) => {
        if (o.ack !== false) this.#stdin?.write(`ack ${seq}\n`);
      },
      onGap: (g) => o.hooks?.onGap?.(g),
      onEnd: () => this.#stdin?.write('done\n'),
    });
    this.demux.on('error', (err: Error) => (this.#demuxError ??= err));
  }

  /** Bytes tcpdump had written when the reader last said so, minus what has been read or lost. */
  get behindBytes(): number | undefined {
    return this.#written === undefined ? undefined : Math.max(0, this.#written - this.demux.consumed);
  }

  /**
   * Stops reading without stopping the capture (a fetch --follow of a detached capture that is
   * interrupted): the reader's input ends, which ends the reader on the node, and run() returns.
   */
  leave(): void {
    this.#leaving = true;
    this.#stdin?.end();
  }

  /**
   * Streams the capture into OUT (classic pcap): FIRST is the exec that starts it (capture --spool),
   * later ones are readers. CHAIN puts per-exec stages in front of the demultiplexer.
   */
  async run(first: string[], out: Writable, chain?: StdoutChain): Promise<SpoolOutcome> {
    this.demux.pipe(out, { end: false });
    let attempt = 0;
    let brokeAt: number | undefined;
    let lastError: Error | undefined;
    for (;;) {
      const argv =
        attempt === 0
          ? first
          : readArgv({
              dir: this.#o.dir,
              from: this.demux.position ?? { seq: 0, offset: 0 },
              logOffset: this.#logOffset,
              compress: this.#o.compress,
            });
      const lines = new LineCollector();
      try {
        const since = brokeAt;
        const r = await this.#once(argv, lines, attempt, chain, () => {
          // The new reader streams: say so once, from where it picks up.
          if (since === undefined) return;
          this.#o.hooks?.onResumed?.({
            attempts: attempt,
            position: this.demux.position,
            lostForMs: Date.now() - since,
          });
          brokeAt = undefined;
        });
        // A reader that finds no spool (74) may have come before the first exec created it.
        const early = attempt > 0 && r === AGENT_EXIT.NO_CAPTURE.code && this.demux.position === undefined;
        if (this.demux.ended || this.#leaving || (r !== 0 && !early)) {
          // Everything the demultiplexer still holds goes into OUT before the caller ends it (a
          // slow reader is still behind when the last exec ends).
          this.demux.end();
          await finished(this.demux);
          return { exitCode: r, end: this.demux.ended, lines: lines.all() };
        }
        // A clean exit without the end marker: the reader was cut off some other way. Try again.
        lastError = new Error('the reader ended before the capture did');
      } catch (err) {
        if (this.#demuxError) throw this.#demuxError;
        if (this.#leaving && !this.#demuxError) {
          this.demux.end();
          await finished(this.demux);
          return { exitCode: 0, end: undefined, lines: [] };
        }
        if (!isConnectionLoss(err) || this.demux.ended) throw err;
        lastError = asError(err);
      }
      brokeAt ??= Date.now();
      const lostForMs = Date.now() - brokeAt;
      if (lostForMs >= this.#o.reconnectMs || this.#o.signal?.aborted) {
        throw new UserError(
          `the capture's stream was lost (${lastError.message}) and did not come back within ${Math.round(this.#o.reconnectMs / 1000)}s`,
          {
            exitCode: ExitCode.connection,
            hint: 'raise --reconnect-timeout for a link that breaks for longer, or capture with --detach and fetch it later',
            cause: lastError,
          },
        );
      }
      attempt++;
      this.#o.hooks?.onReconnecting?.({ attempt, error: lastError, lostForMs });
      const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt - 1, 5));
      await delay(Math.min(wait, Math.max(0, this.#o.reconnectMs - lostForMs)), undefined, {
        signal: this.#o.signal,
      }).catch(() => {});
    }
  }

  // One exec: its stdout into the demultiplexer (whole records only survive a break), its stderr
  // split into the reader's own lines and the capture's. Resolves with its exit status.
  async #once(
    argv: string[],
    lines: LineCollector,
    attempt: number,
    chain: StdoutChain | undefined,
    onData: () => void,
  ): Promise<number> {
    this.demux.restart();
    let flowing = false;
    const feed = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _e, cb) => {
        if (this.#demuxError) return cb(this.#demuxError);
        if (!flowing) {
          flowing = true;
          onData();
        }
        if (this.demux.write(chunk)) cb();
        else this.demux.once('drain', () => cb());
      },
    });
    const stage = chain?.(feed, attempt) ?? { head: feed, done: () => finished(feed) };
    const stderr = new Writable({
      write: (chunk: Buffer, _e, cb) => {
        for (const line of lines.push(chunk.toString('utf8'))) this.#line(line);
        cb();
      },
    });
    const stdin = attempt === 0 && this.#o.firstStdin ? this.#o.firstStdin : new PassThrough();
    this.#stdin = stdin;
    if (this.#leaving) stdin.end();
    try {
      const r = await this.#agent.exec(argv, { stdout: stage.head, stderr, stdin });
      stage.head.end();
      await stage.done().catch(() => {});
      return r.exitCode;
    } catch (err) {
      // What arrived before the break still goes in (whole records of it count).
      stage.head.end();
      await stage.done().catch(() => {});
      debug(`spool reader ${attempt} of ${this.#o.dir} broke: ${String(err)}`);
      throw err;
    } finally {
      this.#stdin = undefined;
      stdin.end();
    }
  }

  #line(line: string): void {
    const m = SPOOL_LINE.exec(line);
    if (!m) {
      this.#o.hooks?.onLine?.(line);
      return;
    }
    if (m[1] === 'log') this.#logOffset = Number(m[2]);
    else this.#written = Number(m[2]);
  }
}
