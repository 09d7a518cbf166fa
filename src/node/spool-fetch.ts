// One target's spool of a detached capture, read into a pcap stream: as it stands (the agent's
// spool-tar op, a tar stream over exec as `kubectl cp` reads one), or followed live (a spool
// reader that stays, as a spooled capture's stream does). It never stops the capture itself:
// stop() only stops reading. The ring is never told that files were read (no acks), so a later
// fetch still finds them, and what the ring lost is reported the same way to every fetch.
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { debug } from '../log.ts';
import { readArgv, spoolTarArgv, type TcpdumpStats } from './agent.ts';
import type { AgentExec } from './agent-ops.ts';
import { agentFailure, LineCollector } from './agent-errors.ts';
import type { CaptureOutcome } from './remote-capture.ts';
import { SpoolFollower } from './spool-follow.ts';
import { SpoolDemux, type SpoolEnd, type SpoolGap } from './spool-stream.ts';
import { spoolTarToStream } from './spool-tar.ts';

export interface SpoolFetchOptions {
  /** The spool's directory in the debug pod. */
  dir: string;
  /** Follow it until its capture ends (or stop()), instead of taking what it holds now. */
  follow: boolean;
  /** Following: how long to keep reconnecting after the stream breaks. */
  reconnectMs: number;
  onGap?: ((gap: SpoolGap) => void) | undefined;
}

export class SpoolFetch {
  readonly #agent: AgentExec;
  readonly #o: SpoolFetchOptions;
  #stats: Partial<TcpdumpStats> | undefined;
  #follower: SpoolFollower | undefined;
  #stopped = false;
  #tarInput: PassThrough | undefined;
  /** The capture's end (tcpdump's status and counts), once it has ended. */
  end: SpoolEnd | undefined;

  constructor(agent: AgentExec, o: SpoolFetchOptions) {
    this.#agent = agent;
    this.#o = o;
  }

  get stats(): Partial<TcpdumpStats> | undefined {
    return this.#stats;
  }

  /** Whether reading stopped before the end (Ctrl-C, a reader that went away). */
  get stopped(): boolean {
    return this.#stopped;
  }

  get behindBytes(): number | undefined {
    return this.#follower?.behindBytes;
  }

  /** Writes the spool's packets into OUT (classic pcap); resolves when they are all there. */
  async run(out: Writable): Promise<CaptureOutcome> {
    if (this.#o.follow) await this.#follow(out);
    else await this.#snapshot(out);
    if (this.end) {
      const e = this.end;
      this.#stats = {
        ...(e.captured === undefined ? {} : { captured: e.captured }),
        ...(e.receivedByFilter === undefined ? {} : { receivedByFilter: e.receivedByFilter }),
        ...(e.droppedByKernel === undefined ? {} : { droppedByKernel: e.droppedByKernel }),
      };
    }
    return { stats: this.#stats, iface: undefined };
  }

  /** Stops reading (the capture on the node goes on). */
  stop(why: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    debug(`fetch of ${this.#o.dir}: stop reading (${why})`);
    this.#follower?.leave();
    this.#tarInput?.destroy();
  }

  abandon(why: string): void {
    this.stop(why);
  }

  async #snapshot(out: Writable): Promise<void> {
    const demux = new SpoolDemux({ onGap: (g) => this.#o.onGap?.(g), onEnd: (e) => (this.end = e) });
    demux.pipe(out, { end: false });
    const input = new PassThrough();
    this.#tarInput = input;
    const lines = new LineCollector();
    const stderr = new Writable({
      write: (chunk: Buffer, _e, cb) => {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const reading = spoolTarToStream(input, demux);
    const r = await this.#agent.exec(spoolTarArgv(this.#o.dir), { stdout: input, stderr });
    input.end();
    const fetched = await reading.catch((err: unknown) => {
      if (this.#stopped) return undefined;
      throw err;
    });
    demux.end();
    await finished(demux);
    // tar exits 1 when a file changed while it read it (the one tcpdump writes): its header's size
    // was read whole, and the demux keeps only whole records of it.
    if (r.exitCode !== 0 && (!fetched || fetched.files.length === 0) && !this.#stopped)
      throw agentFailure(r.exitCode, lines.all(), 'fetch');
    if (r.exitCode !== 0) debug(`spool-tar of ${this.#o.dir} exited ${r.exitCode}: ${lines.all().join(' | ')}`);
  }

  async #follow(out: Writable): Promise<void> {
    this.#follower = new SpoolFollower(this.#agent, {
      dir: this.#o.dir,
      reconnectMs: this.#o.reconnectMs,
      ack: false,
      hooks: { onGap: (g) => this.#o.onGap?.(g), onLine: (l) => debug(`node: ${l}`) },
    });
    if (this.#stopped) this.#follower.leave();
    const outcome = await this.#follower.run(readArgv({ dir: this.#o.dir }), out);
    if (outcome.exitCode !== 0 && !this.#stopped) throw agentFailure(outcome.exitCode, outcome.lines, 'fetch');
    this.end = outcome.end;
  }
}
