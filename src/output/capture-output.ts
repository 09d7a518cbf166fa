// The local end of one capture: the sink, the packet-counting writer in front of it, and the
// status line. It decides how the output ends: whole records only, no file when nothing arrived,
// and an error with the errno (and what was kept) when the output itself failed.
import { asError } from '../errors.ts';
import { info, warn } from '../log.ts';
import type { CaptureOutcome, RemoteCapture } from '../node/remote-capture.ts';
import { describeGap, type SpoolGap } from '../node/spool-stream.ts';
import { CaptureWriter } from './capture-writer.ts';
import { outputFailure, type CaptureSink } from './sink.ts';
import { formatBytes, StatusLine } from './status-line.ts';

/** What CaptureOutput pumps from: a live capture (RemoteCapture), or a detached one fetched (SpoolFetch). */
export type PacketSource = Pick<RemoteCapture, 'run' | 'stop' | 'abandon' | 'stats' | 'behindBytes'>;

/** How often tcpdump prints its kernel-drop counters for the status line (on the capture's own stream). */
export const STATS_EVERY_SECONDS = 2;

export class CaptureOutput {
  private readonly sink: CaptureSink;
  private readonly writer: CaptureWriter;
  private readonly status: StatusLine;
  private readonly started = Date.now();
  private finishing: Promise<void> | undefined;
  private finishError: unknown;
  private sinkFailure: NodeJS.ErrnoException | undefined;
  /** What the node's ring lost before it was read (a spooled capture whose stream fell too far behind). */
  private readonly gaps: SpoolGap[] = [];

  constructor(sink: CaptureSink, showStatus: boolean) {
    this.sink = sink;
    this.writer = new CaptureWriter(sink.stream);
    this.status = new StatusLine(process.stderr, showStatus);
    void sink.failed.then((err) => (this.sinkFailure = err));
  }

  /** How often the capture should print tcpdump's counters: only a status line shown needs them. */
  get statsEverySeconds(): number | undefined {
    return this.status.enabledFor(() => STATS_EVERY_SECONDS);
  }

  get description(): string {
    return this.sink.description;
  }

  /** Streams REMOTE's packets into the sink until it ends; SIGNAL, a reader that goes away or a failing output stops it. */
  async pump(remote: PacketSource, signal: AbortSignal): Promise<CaptureOutcome> {
    const onSignal = () => remote.stop('signal');
    signal.addEventListener('abort', onSignal, { once: true });
    // A stop that came while the debug pod was starting: the capture must not begin as if none had.
    if (signal.aborted) onSignal();
    void this.sink.gone.then(() => remote.abandon('the reader went away'));
    void this.sink.failed.then((err) => remote.abandon(`writing the output failed: ${err.code ?? err.message}`));
    this.status.start(() => ({
      packets: this.writer.parser.packets,
      bytes: this.writer.parser.streamBytes,
      elapsedMs: Date.now() - this.started,
      droppedByKernel: remote.stats?.droppedByKernel,
      behindBytes: remote.behindBytes,
    }));
    try {
      return await remote.run(this.writer, () => this.writer.parser.packets);
    } finally {
      signal.removeEventListener('abort', onSignal);
    }
  }

  /**
   * Ends the output once: complete records only (after a failed write, only those the sink
   * confirmed), or no file at all when nothing usable arrived. Never rejects, so an earlier
   * failure stays the one reported; see throwIfFailed.
   */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.status.stop();
      await new Promise<void>((resolve) => this.writer.end(() => resolve()));
      let kept = { offset: this.writer.parser.completeOffset, packets: this.writer.parser.packets };
      if (!this.writer.parser.header) await this.sink.discard().catch(() => {});
      else {
        await this.sink.finish((written) => {
          // What the file holds decides, not whether the failure has been reported yet: its error
          // event can arrive after the stream has closed, and the file then ends inside a record.
          kept = this.writer.completeWithin(written);
          return kept.offset;
        });
      }
      if (this.sinkFailure) throw outputFailure(this.sinkFailure, this.sink.description, kept.packets);
    })().catch((err: unknown) => {
      this.finishError = err;
    });
    return this.finishing;
  }

  /**
   * The node's ring lost packets before they were read. Classic pcap has no place to say so in the
   * file, so it is said here (and in the summary and the exit code).
   */
  noteGap(gap: SpoolGap): void {
    this.gaps.push(gap);
    warn(`${describeGap(gap, formatBytes)}; pcap cannot mark this in the file (--format pcapng would)`);
  }

  /** Packets and bytes the node's ring lost before they were read; undefined when nothing was lost. */
  get lost(): { packets: number | undefined; bytes: number | undefined } | undefined {
    if (this.gaps.length === 0) return undefined;
    const sum = (k: 'packets' | 'bytes') =>
      this.gaps.some((g) => g[k] === undefined) ? undefined : this.gaps.reduce((n, g) => n + g[k]!, 0);
    return { packets: sum('packets'), bytes: sum('bytes') };
  }

  /** Throws what finishing the output failed with, if anything. */
  throwIfFailed(): void {
    if (this.finishError !== undefined) throw asError(this.finishError);
  }

  /** The closing line: what was captured, and tcpdump's own counters. Nothing when the output failed (the error says it). */
  summary(outcome: CaptureOutcome | undefined): void {
    if (!this.writer.parser.header || this.sinkFailure) return;
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const st = outcome?.stats;
    const kernel = st
      ? `; tcpdump: ${st.captured ?? '?'} captured, ${st.receivedByFilter ?? '?'} received by filter, ${st.droppedByKernel ?? '?'} dropped by kernel`
      : '';
    info(
      `captured ${this.writer.parser.packets} packets (${formatBytes(this.writer.parser.streamBytes)}) in ${secs}s to ${this.sink.description}${kernel}`,
    );
  }
}
