// The output of a whole-workload capture: one pcapng file (or stream) for many pods. Each pod's
// tcpdump stream (classic pcap) is parsed as it arrives, its records merged with the others' in
// the nodes' kernel-timestamp order (a bounded reorder window: src/pcap/merge.ts), and written as
// Enhanced Packet Blocks on that pod's interface: one IDB per pod interface (if_name
// NAMESPACE/POD/IFACE), a Name Resolution Block naming every pod and service address, and one
// Interface Statistics Block per interface per file carrying tcpdump's own counters, so drops
// travel with the file. With rotation every file is complete on its own (SHB, all IDBs, NRB, ISBs).
import { Writable } from 'node:stream';
import { asError, ExitCode, UserError } from '../errors.ts';
import type { TcpdumpStats } from '../node/agent.ts';
import type { PcapHeader, PcapRecord } from '../pcap/format.ts';
import { fractionToNanos, PacketMerger } from '../pcap/merge.ts';
import { PcapngSection } from '../pcap/pcapng-section.ts';
import { timestampFromMillis, type NameRecord, type SectionHeaderInput } from '../pcap/pcapng-writer.ts';
import type { RotationPolicy } from '../pcap/rotation.ts';
import { PcapStreamParser } from '../pcap/stream-reader.ts';
import { outputFailure, type CaptureSink } from './sink.ts';

/** What a pod's interface is called in the file, and where its counters come from. */
export interface SourceInfo {
  /** if_name, e.g. "shop/web-7d9/eth0"; asked when the stream's header arrives. */
  name: () => string;
  /** if_description, e.g. "pod shop/web-7d9 on node n1, container app, IP 10.1.2.3". */
  description: string;
  /** The tcpdump filter, for if_filter. */
  filter?: string | undefined;
  /** tcpdump's latest counters (for the ISBs). */
  stats: () => Partial<TcpdumpStats> | undefined;
}

/** How many packets and bytes of one source reached the file. */
export interface SourceTotals {
  packets: number;
  bytes: number;
}

export interface PcapngOutputOptions {
  /** Where the single file or stream goes; with rotation, how to open each new file. */
  sink: CaptureSink | { rotation: RotationPolicy; open: (path: string) => Promise<CaptureSink> };
  /** The SHB's options (shb_userappl etc.). */
  header: SectionHeaderInput;
  /** Addresses to name from the start (pods and services). */
  names: readonly NameRecord[];
  /** Longest wait for a slower source before a record goes out anyway. */
  windowMs: number;
  /** Memory the reorder buffer may hold. */
  maxBufferedBytes: number;
  /** Stop after this many packets in all (--count). */
  countLimit?: number | undefined;
  /** Called once when countLimit packets are written. */
  onCountReached?: () => void;
  /** Told about each finished rotated file. */
  onFileDone?: (path: string) => void;
  /** Told once writing failed or the reader went away: the captures must stop. */
  onStopped?: (why: string) => void;
}

interface Source {
  readonly key: string;
  readonly info: SourceInfo;
  interfaceId: number | undefined;
  precision: PcapHeader['precision'];
  readonly totals: SourceTotals;
  ended: boolean;
  startedMs: number;
  endedMs: number | undefined;
  /** Records parsed from its stream so far. */
  seen: number;
  /** Comments for the record that follows N records of the stream (a gap in it, see noteGap). */
  notes: Map<number, string[]>;
  /** Comments for its interface's closing ISB: gaps no packet followed. */
  closingNotes: string[];
}

/** A merged record on its way to the file: the pod's record, copied out of its network chunk. */
interface Held {
  source: Source;
  record: PcapRecord;
  comments: string[] | undefined;
}

/** An ISB with every option we write: 28 bytes of block, two timestamps and five counters of 12, the end. */
const ISB_MAX_BYTES = 28 + 2 * 12 + 5 * 12 + 4;

/** One pcapng stream merged from many pods' captures, optionally rotated across files. */
export class PcapngOutput {
  readonly #opts: PcapngOutputOptions;
  readonly #section: PcapngSection;
  readonly #merger: PacketMerger<Held>;
  readonly #sources = new Map<string, Source>();
  #file: BlockFile | undefined;
  /** Blocks for the current file, written in one go at the end of a pump. */
  #pending: Buffer[] = [];
  /** Interfaces whose ISB the current file already has. */
  #isbWritten = new Set<number>();
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #failure: NodeJS.ErrnoException | undefined;
  /** The next file of the ring could not be opened: the capture stops there, and says so. */
  #openFailure: UserError | undefined;
  /** The reader went away (stdout closed, Wireshark quit): stop, quietly. */
  #gone = false;
  #packets = 0;
  /** After a failed write: the packets the file(s) really hold. */
  #kept: number | undefined;
  #countReached = false;
  #files: string[] = [];
  #removedFiles = 0;

  constructor(opts: PcapngOutputOptions) {
    this.#opts = opts;
    this.#section = new PcapngSection(opts.header);
    this.#merger = new PacketMerger<Held>({ windowMs: opts.windowMs, maxBufferedBytes: opts.maxBufferedBytes });
  }

  /** The files written so far that are still there (one without rotation). */
  get files(): readonly string[] {
    return this.#files;
  }

  /** How many older files --rotate-count has removed. */
  get removedFiles(): number {
    return this.#removedFiles;
  }

  /** Packets written to the file(s) so far, in all. */
  get packets(): number {
    return this.#packets;
  }

  /** Set once writing failed (disk full, I/O error) or the reader went away: the capture must stop. */
  get stopped(): boolean {
    return this.#failure !== undefined || this.#openFailure !== undefined || this.#gone;
  }

  /** Opens the first file and writes its SHB and the names known so far. */
  async start(): Promise<void> {
    if (this.#opts.names.length) this.#section.addNames(this.#opts.names);
    await this.#openFile();
  }

  /**
   * A Writable for one pod's tcpdump stream. KEY names the source (one per capture); its packets
   * arrive in that pod's interface. `packets` counts what has arrived, for the capture's ack.
   */
  source(key: string, info: SourceInfo): Writable & { readonly packets: number } {
    const src: Source = {
      key,
      info,
      interfaceId: undefined,
      precision: 'usec',
      totals: { packets: 0, bytes: 0 },
      ended: false,
      startedMs: Date.now(),
      endedMs: undefined,
      seen: 0,
      notes: new Map(),
      closingNotes: [],
    };
    this.#sources.set(key, src);
    this.#merger.addSource(key);
    const parser = new PcapStreamParser({
      onHeader: (h) => this.#interface(src, h),
      onRecord: (r) => {
        // Records are views of the network chunk: copy, so the chunk can go once read.
        const record: PcapRecord = { ...r, data: Buffer.from(r.data) };
        const nanos = fractionToNanos(r.tsFrac, src.precision);
        const comments = src.notes.get(src.seen);
        if (comments) src.notes.delete(src.seen);
        src.seen++;
        this.#merger.push(key, r.tsSec, nanos, record.data.length + 64, { source: src, record, comments });
      },
    });
    const writable = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        if (this.stopped || this.#countReached) return cb(); // nobody will read these any more
        try {
          parser.push(chunk);
        } catch {
          // A corrupt stream from one pod: what parsed so far stays; the rest of it is dropped.
        }
        this.#pump().then(
          () => cb(),
          () => cb(),
        );
      },
    });
    // defineProperty, not Object.assign: assign would copy the getter's value once (0).
    return Object.defineProperty(writable, 'packets', { get: () => parser.packets }) as Writable & {
      readonly packets: number;
    };
  }

  /**
   * Marks a gap in KEY's stream: COMMENT goes on the first packet after its first AFTERPACKETS
   * packets (where Wireshark shows it), or on its interface's closing statistics if none follows.
   */
  noteGap(key: string, afterPackets: number, comment: string): void {
    const src = this.#sources.get(key);
    if (!src) return;
    if (afterPackets < src.seen) {
      src.closingNotes.push(comment);
      return;
    }
    src.notes.set(afterPackets, [...(src.notes.get(afterPackets) ?? []), comment]);
  }

  /** Adds names (a pod that appeared later); the NRB goes into the current file, and every later one. */
  addNames(records: readonly NameRecord[]): void {
    if (records.length) this.#metadata(this.#section.addNames(records));
  }

  /** The source's capture ended: it holds nothing back any more, and its interface gets its final ISB. */
  endSource(key: string): void {
    const src = this.#sources.get(key);
    if (!src || src.ended) return;
    src.ended = true;
    src.endedMs = Date.now();
    this.#merger.endSource(key);
    void this.#pump();
  }

  /** What reached the file(s) per source. */
  totals(key: string): SourceTotals | undefined {
    return this.#sources.get(key)?.totals;
  }

  /**
   * Writes everything still buffered and the ISBs, and ends the output. Rejects with the output's
   * failure (errno, what was kept) if writing failed at any point.
   */
  async finish(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    await this.#pump(true);
    await this.#serial(() => this.#closeFile());
    if (this.#failure) throw outputFailure(this.#failure, this.#files.at(-1) ?? 'the output', this.#kept);
    if (this.#openFailure) throw this.#openFailure;
  }

  /** The IDB of a source, once its stream's header says link type, snaplen and precision. */
  #interface(src: Source, h: PcapHeader): void {
    src.precision = h.precision;
    const { id, block } = this.#section.addInterface({
      linkType: h.linkType,
      snaplen: h.snaplen,
      precision: h.precision,
      name: src.info.name(),
      description: src.info.description,
      ...(src.info.filter ? { filter: src.info.filter } : {}),
      os: 'Linux',
    });
    src.interfaceId = id;
    this.#metadata(block);
  }

  /** Queues a block that holds no packet (IDB, NRB), counting it against the file's size. */
  #metadata(block: Buffer): void {
    this.#rotation?.wroteMetadata(block.length);
    this.#pending.push(block);
  }

  /** The rotation policy, when files rotate. */
  get #rotation(): RotationPolicy | undefined {
    return 'rotation' in this.#opts.sink ? this.#opts.sink.rotation : undefined;
  }

  /** Runs FN after everything queued before it: file operations never interleave. */
  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Moves what the merger releases (everything, when FINAL) into the file. */
  #pump(final = false): Promise<void> {
    return this.#serial(async () => {
      const released = final ? this.#merger.flush() : this.#merger.drain();
      for (const r of released) {
        const src = r.value.source;
        if (src.interfaceId === undefined || this.stopped || this.#countReached) continue;
        const block = this.#section.packet(src.interfaceId, r.value.record, r.value.comments);
        const rotation = this.#rotation;
        // Room is kept for the ISBs that close the file, so it never grows past --rotate-size.
        const closing = ISB_MAX_BYTES * this.#section.interfaceCount;
        if (rotation?.due(block.length + closing, Date.now())) await this.#rotate();
        // The next file could not be opened: this packet and the rest have nowhere to go.
        if (this.stopped) continue;
        this.#pending.push(block);
        rotation?.wrotePacket(block.length);
        src.totals.packets++;
        src.totals.bytes += r.value.record.data.length;
        this.#packets++;
        if (this.#opts.countLimit !== undefined && this.#packets >= this.#opts.countLimit) {
          this.#countReached = true;
          this.#opts.onCountReached?.();
        }
      }
      for (const src of this.#sources.values()) {
        if (src.ended && src.interfaceId !== undefined && !this.#isbWritten.has(src.interfaceId)) {
          this.#pending.push(this.#isb(src));
        }
      }
      await this.#flush();
      this.#schedule();
    });
  }

  /** Wakes the pump when the oldest buffered record's wait runs out (no source may deliver meanwhile). */
  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    const deadline = this.#merger.nextDeadline();
    if (deadline === undefined) return;
    this.#timer = setTimeout(() => void this.#pump(), Math.max(0, deadline - performance.now()) + 1);
  }

  /** Writes the pending blocks to the current file in one write, waiting if the reader is slow. */
  async #flush(): Promise<void> {
    const file = this.#file;
    if (!file || this.#pending.length === 0) return;
    const chunk = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    this.#pending = [];
    if (this.stopped) return;
    await file.write(chunk, this.#packets);
  }

  /** This file's ISB for SRC: tcpdump's counters as they stand, one per interface per file. */
  #isb(src: Source): Buffer {
    const id = src.interfaceId!;
    this.#isbWritten.add(id);
    const st = src.info.stats();
    const now = src.endedMs ?? Date.now();
    const ts = (ms: number) => timestampFromMillis(ms, src.precision);
    return this.#section.statistics({
      interfaceId: id,
      time: ts(now),
      startTime: ts(src.startedMs),
      endTime: ts(now),
      ifRecv: st?.receivedByFilter,
      ifDrop: st?.droppedByKernel === undefined ? undefined : st.droppedByKernel + (st.droppedByInterface ?? 0),
      usrDeliv: src.totals.packets,
      comments: [...src.closingNotes, ...[...src.notes.values()].flat()],
    });
  }

  /** Opens the next file (the first one too) and writes what it must start with. */
  async #openFile(): Promise<void> {
    const sink = this.#opts.sink;
    if ('rotation' in sink) {
      const step = sink.rotation.open(Date.now());
      for (const old of step.remove) {
        const { rm } = await import('node:fs/promises');
        await rm(old, { force: true });
        this.#files = this.#files.filter((f) => f !== old);
        this.#removedFiles++;
      }
      let opened: CaptureSink;
      try {
        opened = await sink.open(step.path);
      } catch (err) {
        // The first file: nothing has started yet, the caller reports it as it is.
        if (this.#files.length === 0) throw err;
        this.#stopAtNextFile(step.path, err);
        return;
      }
      this.#file = new BlockFile(opened, this.#packets);
      this.#files.push(step.path);
    } else {
      this.#file = new BlockFile(sink, this.#packets);
      this.#files.push(sink.description);
    }
    this.#watch(this.#file.sink);
    this.#isbWritten = new Set();
    const preamble = this.#section.preamble();
    if ('rotation' in sink) sink.rotation.wroteMetadata(preamble.length);
    this.#pending.unshift(preamble);
    await this.#flush();
  }

  /**
   * PATH, the next file of the ring, could not be opened (it exists, the directory went or is not
   * writable): stop rather than drop its packets, or pour them into a later file past --rotate-size.
   */
  #stopAtNextFile(path: string, err: unknown): void {
    const e = err as Error & { hint?: string; code?: string };
    const message = e instanceof UserError ? e.message : (e.code ?? e.message);
    const why = message.startsWith(`${path} `)
      ? `it ${message.slice(path.length + 1)}`
      : message.replace(`cannot write ${path}: `, '');
    const files = this.#files.length;
    this.#openFailure = new UserError(
      `cannot open the next capture file ${path}: ${why}; stopped there, kept ${this.#packets} complete packets in ${files} file${files === 1 ? '' : 's'} before it`,
      {
        exitCode: ExitCode.output,
        hint: e.hint ?? 'check the directory of the files and its permissions, or write elsewhere with -w',
        cause: err,
      },
    );
    this.#pending = [];
    this.#opts.onStopped?.(`cannot open the next capture file ${path}`);
  }

  /** Notes the first failure of SINK, or that its reader went away. */
  #watch(sink: CaptureSink): void {
    void sink.failed.then((err) => {
      this.#failure ??= err;
      this.#opts.onStopped?.(`writing the output failed: ${err.code ?? err.message}`);
    });
    void sink.gone.then(() => {
      this.#gone = true;
      this.#opts.onStopped?.('the reader went away');
    });
  }

  /** Closes the current file: its ISBs, then the file itself (moved into place, complete). */
  async #closeFile(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    for (const src of this.#sources.values()) {
      if (src.interfaceId !== undefined && !this.#isbWritten.has(src.interfaceId)) this.#pending.push(this.#isb(src));
    }
    await this.#flush();
    this.#file = undefined;
    try {
      // Whole blocks only: what a failed write left half on disk is cut back to the last complete one.
      await file.sink.finish((written) => {
        const kept = file.completeWithin(written);
        if (this.#failure) this.#kept = kept.packets;
        return kept.offset;
      });
    } catch (err) {
      this.#failure ??= Object.assign(asError(err), { code: (err as NodeJS.ErrnoException).code ?? 'EIO' });
    }
    const path = this.#files.at(-1);
    if (path && 'rotation' in this.#opts.sink) this.#opts.onFileDone?.(path);
  }

  /** Closes the current file and opens the next one (rotation). */
  async #rotate(): Promise<void> {
    await this.#flush();
    await this.#closeFile();
    await this.#openFile();
  }
}

/**
 * One output file (or stream) written in chunks that each end on a block boundary. It remembers
 * where each chunk ends, so a file whose last write failed half way (disk full) can be cut back
 * to the last whole block the disk holds.
 */
class BlockFile {
  readonly sink: CaptureSink;
  #offset = 0;
  #ends: Array<{ end: number; packets: number }> = [];

  readonly #packetsBefore: number;

  constructor(sink: CaptureSink, packetsBefore: number) {
    this.sink = sink;
    this.#packetsBefore = packetsBefore;
  }

  /** Writes CHUNK (whole blocks; PACKETS written in all once it is); resolves when the sink can take more. */
  async write(chunk: Buffer, packets: number): Promise<void> {
    this.#offset += chunk.length;
    this.#ends.push({ end: this.#offset, packets });
    if (this.sink.stream.write(chunk)) return;
    const stream = this.sink.stream;
    await new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('error', done);
        stream.off('close', done);
        resolve();
      };
      stream.once('drain', done);
      stream.once('error', done);
      stream.once('close', done);
    });
  }

  /** The last block boundary within the first WRITTEN bytes, and the packets written by then. */
  completeWithin(written: number): { offset: number; packets: number } {
    let keep = { offset: 0, packets: this.#packetsBefore };
    for (const e of this.#ends) if (e.end <= written) keep = { offset: e.end, packets: e.packets };
    return keep;
  }
}
