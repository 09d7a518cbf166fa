// One tcpdump on a node, driven through the agent's capture protocol:
//   capture (long exec: pcap on stdout, status lines on stderr) → "listening on" → counters every
//   few seconds on the same stderr when asked (statsEverySeconds) → stop (SIGINT: tcpdump writes its last packet whole and
//   prints its final counts) → "capture finished" → ack once every counted packet has arrived → end.
// The single-pod capture drives one of these; a multi-pod capture drives one per target.
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { ExitCode, UserError } from '../errors.ts';
import { debug, warn } from '../log.ts';
import {
  ackArgv,
  ARMED_UID,
  armedAimLine,
  captureArgv,
  isArmedLine,
  parseAgentInfo,
  parseCaptureInfo,
  parseTcpdumpStatsLine,
  stopArgv,
  type CaptureOptions,
  type TcpdumpStats,
} from './agent.ts';
import { agentFailure, LineCollector } from './agent-errors.ts';
import { CaptureDecompressor } from './capture-decompress.ts';
import { HoldUntilOpen } from './hold-until-open.ts';
import type { AgentExec } from './agent-ops.ts';
import { SpoolFollower, type SpoolFollowHooks, type StdoutChain } from './spool-follow.ts';
import { spoolDir } from './spool-plan.ts';
import type { SpoolGap } from './spool-stream.ts';

/** tcpdump's "listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes". */
const TCPDUMP_LISTENING = /listening on (\S+), (link-type \S+)/;
/** How often to compare what arrived with what tcpdump counted, once it has finished. */
const DELIVERY_POLL_MS = 100;
/**
 * How long the tail may stall before we stop waiting for it. Kubernetes can drop stdout still in
 * flight when the exec ends (kubernetes#124571); a stall this long means the bytes are not coming.
 */
const DELIVERY_IDLE_LIMIT_MS = 10_000;

/** What tcpdump said when it started listening. */
export interface Listening {
  /** The interface really captured (the answer to `-i auto`, or the host-side veth). */
  iface: string;
  /** e.g. "link-type EN10MB". */
  linkType: string;
}

export interface RemoteCaptureHooks {
  /**
   * The interface the agent chose (the answer to `-i auto`), from its info line. The agent prints
   * it before it starts tcpdump, so it is known before the first pcap byte can exist.
   */
  onInterface?: (iface: string) => void;
  /** An armed capture is ready: a pod UID given from now on is captured from its first process. */
  onArmed?: () => void;
  /** tcpdump listens: traffic from now on is in the capture. */
  onListening?: (l: Listening) => void;
  /** tcpdump printed new counters (on SIGUSR1 and at the end). */
  onStats?: (s: Partial<TcpdumpStats>) => void;
  /** Every info line of the agent (its message), e.g. the capture's clock at start and end. */
  onInfo?: (message: string) => void;
  /** Spooled: the node's ring lost packets before they were read (reported before the next packet). */
  onGap?: (gap: SpoolGap) => void;
  /** Spooled: the stream broke and another reader is tried. */
  onReconnecting?: SpoolFollowHooks['onReconnecting'];
  /** Spooled: a new reader streams again. */
  onResumed?: SpoolFollowHooks['onResumed'];
}

/**
 * What a RemoteCapture runs: the agent's capture options, and with `spool` a ring on the node
 * that the stream reads (its directory is named after the capture), so a slow or broken
 * connection loses nothing; `reconnectMs` bounds how long a broken stream is tried again.
 */
export type RemoteCaptureOptions = Omit<CaptureOptions, 'id' | 'awaitAck' | 'spool'> & {
  spool?: { ringFiles: number; fileMB: number; meta?: readonly string[] | undefined } | undefined;
  reconnectMs?: number | undefined;
};

/** How a capture ended. */
export interface CaptureOutcome {
  /** tcpdump's last counters, if it printed any. */
  stats: Partial<TcpdumpStats> | undefined;
  /** The interface from the agent's info line. */
  iface: string | undefined;
}

/** A random id the agent files this capture under, so stop/stats/ack find it. */
function captureId(): string {
  return randomBytes(4).toString('hex');
}

/** A stdout for agent ops whose output we do not need. */
function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}

export class RemoteCapture {
  readonly id = captureId();
  private readonly agent: AgentExec;
  private readonly options: RemoteCaptureOptions;
  private readonly hooks: RemoteCaptureHooks;
  private readonly lines = new LineCollector();
  private stopRequested = false;
  private abandoned = false;
  private acked = false;
  private ended = false;
  private lastStats: Partial<TcpdumpStats> | undefined;
  private capturedIface: string | undefined;
  /** An armed capture's stdin: the pod UID goes there once the pod exists. */
  private readonly uidInput: PassThrough | undefined;
  /** The capture's stdout, held until the agent has said which interface it captures. */
  private stdoutGate: HoldUntilOpen | undefined;
  /** Disconnects the stream from the output and discards the rest (set while running). */
  private dropOutput: (() => void) | undefined;
  private aimed = false;

  /** Spooled: the follower reading the node's ring. */
  private follower: SpoolFollower | undefined;

  constructor(agent: AgentExec, options: RemoteCaptureOptions, hooks: RemoteCaptureHooks = {}) {
    this.agent = agent;
    this.options = options;
    this.hooks = hooks;
    if (options.waitForPod?.uid === ARMED_UID) this.uidInput = new PassThrough();
  }

  /**
   * Points an armed capture (waitForPod.uid ARMED_UID, already running on the node) at pod UID:
   * one line on its open stdin, no new exec, so it starts waiting for the pod within milliseconds.
   * HOSTNETWORK: the pod shares the node's network.
   */
  aim(uid: string, hostNetwork = false): void {
    if (!this.uidInput || this.aimed) throw new Error('aim() is for an armed capture, once');
    this.aimed = true;
    // A spooled capture's stdin goes on carrying the client's confirmations after the UID.
    if (this.options.spool) this.uidInput.write(armedAimLine(uid, hostNetwork));
    else this.uidInput.end(armedAimLine(uid, hostNetwork));
  }

  /** The node's spool directory of this capture (spooled captures only). */
  get spoolDir(): string | undefined {
    return this.options.spool ? spoolDir(this.id) : undefined;
  }

  /** Spooled: bytes tcpdump has written that have not reached us yet (how far behind the stream is). */
  get behindBytes(): number | undefined {
    return this.follower?.behindBytes;
  }

  /** Whether this is an armed capture that no pod has been given yet. */
  get unaimed(): boolean {
    return this.uidInput !== undefined && !this.aimed;
  }

  /** tcpdump's latest counters. */
  get stats(): Partial<TcpdumpStats> | undefined {
    return this.lastStats;
  }

  /**
   * Runs the capture with pcap bytes into OUT until tcpdump ends (count, duration, stop) and the
   * stream is closed. DELIVERED counts the packets that have reached OUT's consumer.
   */
  async run(out: Writable, delivered: () => number): Promise<CaptureOutcome> {
    if (this.options.spool) return this.runSpooled(out);
    const stderr = new Writable({
      write: (chunk: Buffer, _e, cb) => {
        for (const line of this.lines.push(chunk.toString('utf8'))) this.onLine(line, delivered);
        cb();
      },
    });
    // --compress: the agent's stdout is zstd frames or gzip members; OUT still gets plain pcap.
    let inflateError: Error | undefined;
    const inflate = this.options.compress
      ? new CaptureDecompressor((err) => {
          inflateError = err;
          this.abandon(`the compressed stream is unreadable: ${err.message}`);
        })
      : undefined;
    inflate?.pipe(out, { end: false });
    // Nothing reaches OUT before the interface is known: the name goes into the file with it.
    const gate = new HoldUntilOpen();
    this.stdoutGate = gate;
    gate.pipe(inflate ?? out, { end: false });
    this.dropOutput = () => {
      gate.unpipe();
      gate.resume();
      inflate?.unpipe();
      inflate?.resume();
    };
    if (this.abandoned) this.dropOutput();
    try {
      const { spool: _none, reconnectMs: _unused, ...capture } = this.options;
      const result = await this.agent.exec(captureArgv({ ...capture, id: this.id, awaitAck: true }), {
        stdout: gate,
        stderr,
        stdin: this.uidInput,
      });
      gate.end();
      await finished(gate);
      if (inflate) {
        inflate.end();
        await finished(inflate);
      }
      if (inflateError) {
        throw new UserError(`the capture's compressed stream could not be read: ${inflateError.message}`, {
          exitCode: ExitCode.agent,
          hint: 'capture without --compress',
        });
      }
      // 130: tcpdump stopped by our own SIGINT before it finished starting.
      if (result.exitCode !== 0 && !(this.stopRequested && result.exitCode === 130)) {
        throw agentFailure(result.exitCode, this.lines.all(), 'capture');
      }
      return { stats: this.lastStats, iface: this.capturedIface };
    } finally {
      this.ended = true;
    }
  }

  /**
   * The spooled capture: one exec starts tcpdump writing the ring and reads it; when a stream
   * breaks, SpoolFollower starts readers at the last whole record until tcpdump has ended and
   * every packet is here (its end marker carries tcpdump's final counts).
   */
  private async runSpooled(out: Writable): Promise<CaptureOutcome> {
    const { spool, reconnectMs, ...capture } = this.options;
    const dir = spoolDir(this.id);
    let inflateError: Error | undefined;
    const chain: StdoutChain = (into, attempt) => {
      // --compress: each reader's stream is compressed on its own.
      const inflate = capture.compress
        ? new CaptureDecompressor((err) => {
            inflateError = err;
            this.abandon(`the compressed stream is unreadable: ${err.message}`);
          })
        : undefined;
      inflate?.pipe(into);
      let head: Writable = inflate ?? into;
      if (attempt === 0) {
        // Nothing reaches OUT before the interface is known: the name goes into the file with it.
        const gate = new HoldUntilOpen();
        this.stdoutGate = gate;
        gate.pipe(head);
        head = gate;
      }
      return { head, done: () => finished(into) };
    };
    this.follower = new SpoolFollower(this.agent, {
      dir,
      compress: capture.compress,
      reconnectMs: reconnectMs ?? 0,
      firstStdin: this.uidInput,
      hooks: {
        onLine: (line) => {
          this.lines.push(`${line}\n`);
          this.onLine(line, () => 0);
        },
        onGap: (g) => this.hooks.onGap?.(g),
        onReconnecting: (r) => this.hooks.onReconnecting?.(r),
        onResumed: (r) => {
          this.hooks.onResumed?.(r);
          // A stop asked for while the connection was down may not have reached the node.
          if (this.stopRequested) this.fire(stopArgv(this.id), 'stop');
        },
      },
    });
    try {
      const outcome = await this.follower.run(
        captureArgv({ ...capture, id: this.id, spool: { dir, ...spool! } }),
        out,
        chain,
      );
      if (inflateError) {
        throw new UserError(`the capture's compressed stream could not be read: ${inflateError.message}`, {
          exitCode: ExitCode.agent,
          hint: 'capture without --compress',
        });
      }
      if (outcome.exitCode !== 0) throw agentFailure(outcome.exitCode, outcome.lines, 'capture');
      const end = outcome.end;
      // 130: tcpdump stopped by our own SIGINT before it finished starting.
      if (end?.rc !== undefined && end.rc !== 0 && !(this.stopRequested && end.rc === 130)) {
        throw agentFailure(end.rc, this.lines.all(), 'capture');
      }
      if (end) {
        const final: Partial<TcpdumpStats> = {};
        if (end.captured !== undefined) final.captured = end.captured;
        if (end.receivedByFilter !== undefined) final.receivedByFilter = end.receivedByFilter;
        if (end.droppedByKernel !== undefined) final.droppedByKernel = end.droppedByKernel;
        this.lastStats = { ...this.lastStats, ...final };
        this.hooks.onStats?.(this.lastStats);
      }
      return { stats: this.lastStats, iface: this.capturedIface };
    } finally {
      this.ended = true;
    }
  }

  /** Asks tcpdump to finish (SIGINT), so its last packet is written whole and its counters arrive. */
  stop(why: string): void {
    if (this.stopRequested || this.ended) return;
    this.stopRequested = true;
    // An armed capture still reading its stdin ends there: end of input releases it.
    if (this.unaimed) {
      this.aimed = true;
      this.uidInput?.end();
      return;
    }
    debug(`stopping capture ${this.id}: ${why}`);
    this.fire(stopArgv(this.id), 'stop');
  }

  /** Stops, and does not wait for the rest of the packets: nobody reads them any more. */
  abandon(why: string): void {
    this.abandoned = true;
    // What still arrives is dropped: the output may never drain again (a reader that quit while
    // something else holds its pipe), and the stream and the ack must not wait on it.
    this.dropOutput?.();
    this.stop(why);
  }

  private onLine(line: string, delivered: () => number): void {
    debug(`node: ${line}`);
    const chosen = parseCaptureInfo(line);
    if (chosen) {
      this.capturedIface = chosen.iface;
      this.hooks.onInterface?.(chosen.iface);
      this.stdoutGate?.open();
    }
    const st = parseTcpdumpStatsLine(line);
    if (st) {
      this.lastStats = { ...this.lastStats, ...st };
      this.hooks.onStats?.(this.lastStats);
    }
    const message = parseAgentInfo(line);
    if (message !== undefined) this.hooks.onInfo?.(message);
    if (message?.startsWith('capture finished')) void this.ackWhenDelivered(delivered);
    if (isArmedLine(line)) this.hooks.onArmed?.();
    const listening = TCPDUMP_LISTENING.exec(line);
    if (listening) this.hooks.onListening?.({ iface: this.capturedIface ?? listening[1]!, linkType: listening[2]! });
  }

  // The agent stays after tcpdump ends until we confirm that every packet tcpdump counted has
  // arrived, because Kubernetes drops stdout still in flight when the exec'd command exits.
  private async ackWhenDelivered(delivered: () => number): Promise<void> {
    let last = -1;
    let idleSince = Date.now();
    for (;;) {
      const have = delivered();
      const want = this.lastStats?.captured;
      if (want === undefined || have >= want || this.abandoned) break;
      if (have !== last) {
        last = have;
        idleSince = Date.now();
      } else if (Date.now() - idleSince >= DELIVERY_IDLE_LIMIT_MS) {
        warn(`${want - have} of the ${want} packets tcpdump captured did not arrive`);
        break;
      }
      await new Promise((r) => setTimeout(r, DELIVERY_POLL_MS));
    }
    if (this.acked) return;
    this.acked = true;
    this.fire(ackArgv(this.id), 'ack');
  }

  /** Runs a short op next to the capture; its failure only matters for -v. */
  private fire(argv: string[], op: string): void {
    this.agent.exec(argv, { stdout: discard() }).catch((err: unknown) => {
      debug(`${op} failed: ${String(err)}`);
    });
  }
}
