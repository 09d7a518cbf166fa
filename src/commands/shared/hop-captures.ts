// The captures of `kubectl netns path`: one tcpdump per hop, all at once, through the hop's node's
// debug pod (hostNetwork: it reaches the pods' namespaces, their veths' host ends and the node's
// own interfaces). Each hop's pcap stream is kept in a private spool file on this machine: the
// packets are correlated, commented and merged once every hop has stopped. A hop that fails is
// reported; the others go on.
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { debug, info, warn } from '../../log.ts';
import type { AgentExec } from '../../node/agent-ops.ts';
import { parseCaptureClock, type CaptureOptions, type TcpdumpStats } from '../../node/agent.ts';
import { RemoteCapture } from '../../node/remote-capture.ts';
import type { TargetProgress } from '../../output/capture-status.ts';
import type { PlannedHop } from '../../path/hops.ts';
import { PcapStreamParser } from '../../pcap/stream-reader.ts';

/** What every hop's capture shares. */
export interface HopCaptureSettings {
  /** Address filter words (every hop), and the user's filter words (the first hop only). */
  addressFilter: readonly string[];
  userFilter: readonly string[];
  durationSeconds: number | undefined;
  /** Stop after this many packets at the first hop. */
  count: number | undefined;
  bufferKiB: number;
  /** Stop every capture once the spool files hold this much. */
  maxSpoolBytes: number;
}

/** One hop's capture as it stands, and its spool file. */
export interface HopRun {
  hop: PlannedHop;
  index: number;
  file: string;
  parser: PcapStreamParser;
  remote: RemoteCapture | undefined;
  state: string;
  error: unknown;
  listening: boolean;
  stats: Partial<TcpdumpStats> | undefined;
  /** The node's clock when tcpdump started and ended (ns since the epoch). */
  clock: { start?: bigint; end?: bigint };
  done: Promise<void>;
}

/** How long the other hops keep listening after the first hop reached --count: packets in flight. */
const COUNT_GRACE_MS = 1000;

/** The filter of hop INDEX: the endpoints' addresses, and at the first hop the user's filter too. */
export function hopFilter(s: Pick<HopCaptureSettings, 'addressFilter' | 'userFilter'>, index: number): string[] {
  if (index !== 0 || s.userFilter.length === 0) return [...s.addressFilter];
  return ['(', ...s.userFilter, ')', 'and', '(', ...s.addressFilter, ')'];
}

/** The agent's capture options for a hop. Pure. */
export function hopCaptureOptions(
  hop: PlannedHop,
  filter: readonly string[],
  s: HopCaptureSettings,
  first: boolean,
): Omit<CaptureOptions, 'id' | 'awaitAck'> {
  const common = {
    filter,
    bufferKiB: s.bufferKiB,
    durationSeconds: s.durationSeconds === undefined ? undefined : Math.ceil(s.durationSeconds),
    count: first ? s.count : undefined,
  };
  if (hop.role === 'node') return { ...common, node: true, iface: hop.iface };
  const find = { podUid: hop.pod!.podUid, containerIds: hop.pod!.containerIds };
  if (hop.role === 'veth') return { ...common, find, iface: hop.podIface!, hostSide: true };
  return { ...common, find, iface: hop.iface };
}

/** Every hop's capture of one path command. */
export class HopCaptures {
  readonly runs: HopRun[] = [];
  readonly #settings: HopCaptureSettings;
  readonly #dir: string;
  #stopping = false;
  #countReached = false;
  #spooled = 0;

  constructor(settings: HopCaptureSettings, spoolDir: string) {
    this.#settings = settings;
    this.#dir = spoolDir;
  }

  /** Starts capturing HOP through AGENT (in the background); its failure is recorded, not thrown. */
  start(hop: PlannedHop, agent: AgentExec): void {
    const index = this.runs.length;
    const run: HopRun = {
      hop,
      index,
      file: join(this.#dir, `hop-${index}.pcap`),
      parser: new PcapStreamParser(),
      remote: undefined,
      state: 'starting',
      error: undefined,
      listening: false,
      stats: undefined,
      clock: {},
      done: Promise.resolve(),
    };
    this.runs.push(run);
    run.done = this.#run(run, agent);
  }

  /** Asks every capture to finish; their last packets still arrive. */
  stop(why: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    debug(`stopping every hop's capture: ${why}`);
    for (const r of this.runs) r.remote?.stop(why);
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Resolves once every capture has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.runs.map((r) => r.done));
  }

  /** Resolves once every capture listens or has ended. */
  async listening(): Promise<void> {
    const ready = (r: HopRun) => r.listening || r.state === 'ended' || r.error !== undefined;
    while (!this.runs.every(ready) && !this.#stopping) await new Promise((r) => setTimeout(r, 50));
  }

  /** For the live lines and the summary. */
  progress(): TargetProgress[] {
    return this.runs.map((r) => ({
      label: `${r.index + 1} ${r.hop.name}`,
      node: r.hop.node,
      packets: r.parser.packets,
      bytes: r.parser.capturedBytes,
      captured: r.stats?.captured,
      receivedByFilter: r.stats?.receivedByFilter,
      droppedByKernel: r.stats?.droppedByKernel,
      state: r.state,
    }));
  }

  async #run(run: HopRun, agent: AgentExec): Promise<void> {
    const s = this.#settings;
    const filter = hopFilter(s, run.index);
    const first = run.index === 0;
    const file = createWriteStream(run.file, { flags: 'wx', mode: 0o600 });
    const out = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _e, cb) => {
        run.parser.push(chunk);
        this.#spooled += chunk.length;
        if (this.#spooled > s.maxSpoolBytes && !this.#stopping) {
          warn(
            `the hops' captures hold ${Math.round(s.maxSpoolBytes / 2 ** 20)} MiB: stopping (narrow the filter for longer captures)`,
          );
          this.stop('spool limit');
        }
        if (first && s.count !== undefined && run.parser.packets >= s.count && !this.#countReached) {
          this.#countReached = true;
          setTimeout(() => this.stop(`${s.count} packets at the first hop`), COUNT_GRACE_MS);
        }
        if (file.write(chunk)) cb();
        else file.once('drain', () => cb());
      },
    });
    try {
      const remote = new RemoteCapture(agent, hopCaptureOptions(run.hop, filter, s, first), {
        onListening: (l) => {
          run.listening = true;
          run.state = 'capturing';
          info(`hop ${run.index + 1}: capturing on ${l.iface} (${run.hop.name}, ${l.linkType})`);
        },
        onStats: (st) => (run.stats = st),
        onInfo: (message) => {
          const c = parseCaptureClock(message);
          if (c) run.clock[c.edge] = c.epochNs;
        },
      });
      run.remote = remote;
      if (this.#stopping) return;
      const outcome = await remote.run(out, () => run.parser.packets);
      run.stats = outcome.stats ?? run.stats;
      run.state = 'ended';
    } catch (err) {
      run.error = err;
      run.state = `failed: ${err instanceof Error ? err.message : String(err)}`;
      if (!this.#stopping)
        warn(
          `hop ${run.index + 1} (${run.hop.name}): ${err instanceof Error ? err.message : String(err)}; the other hops go on`,
        );
    } finally {
      await new Promise<void>((resolve) => file.end(() => resolve()));
    }
  }

  /** Removes the spool files. */
  async removeSpool(): Promise<void> {
    await fs.rm(this.#dir, { recursive: true, force: true });
  }
}
