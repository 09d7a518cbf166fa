// The spool protocol, client side. A spooled capture's tcpdump writes a ring of pcap files on the
// node (agent.sh: capture --spool DIR); a reader (agent op `read DIR --from SEQ OFFSET`, and the
// capture op itself from the start) follows the ring and sends this stream on stdout:
//
//   stream  := (MARK line | pcap bytes)*          MARK = 12 bytes 0xFF, only where a record would begin
//   "file SEQ OFFSET"                 the bytes of ring file SEQ from byte OFFSET follow; from 0 they
//                                     begin with that file's 24-byte pcap header. OFFSET is always a
//                                     record boundary (the client asks for one when it resumes).
//   "lost SEQ BYTES PACKETS"          file SEQ was deleted by the ring before it was read: its size
//                                     and packet count ("-" where unknown). The next file follows.
//   "end RC CAPTURED RECEIVED DROPPED"  tcpdump has exited with RC; its final counts. Nothing follows.
//
// Alongside, on the reader's stdin, the client sends "ack SEQ" once it has all of file SEQ (the
// ring may then delete it without counting its packets) and "done" once it has the end marker
// (the reader waits for that, because Kubernetes drops stdout still in flight at exit). On the
// reader's stderr come the capture's log lines (tcpdump's), and "kubectl-netns-spool: written N"
// (bytes tcpdump has written so far: how far behind the client is).
//
// SpoolDemux turns the stream back into one classic pcap stream (the first header, then records;
// later files' headers are checked and dropped) and keeps the position of the last complete
// record, from which a broken stream resumes with no gap and no duplicate.
import { Transform, type TransformCallback } from 'node:stream';
import { PCAP_GLOBAL_HEADER_LEN, PCAP_RECORD_HEADER_LEN, type PcapHeader } from '../pcap/format.ts';
import { parsePcapGlobalHeader } from '../pcap/stream-reader.ts';

/** The marker's prefix: no pcap record starts with it (ts_usec and caplen would be absurd). */
export const SPOOL_MARK = Buffer.alloc(12, 0xff);
/** Longest marker line we accept (they are a few numbers). */
const MAX_MARK_LINE = 256;
/** A record larger than this means the stream is out of step (snaplen is at most 262144). */
const MAX_CAPLEN = 262144 + 65536;

/** Where the stream is: the last complete record (or header) of ring file `seq` ends at `offset`. */
export interface SpoolPosition {
  seq: number;
  offset: number;
}

/** What the ring lost: files deleted before they were read, as told by "lost" markers. */
export interface SpoolGap {
  /** Packets passed on before the gap: the next one is the first after it. */
  afterPackets: number;
  /** The ring files lost (first and last sequence numbers). */
  fromSeq: number;
  toSeq: number;
  /** Packets lost (undefined when the node could not count one of the files). */
  packets: number | undefined;
  /** Bytes of pcap records lost (record headers included). */
  bytes: number | undefined;
}

/** tcpdump's exit status and final counts, from the end marker. */
export interface SpoolEnd {
  rc: number | undefined;
  captured: number | undefined;
  receivedByFilter: number | undefined;
  droppedByKernel: number | undefined;
}

export interface SpoolDemuxHooks {
  /** The client has every byte of file SEQ: the reader may be told ("ack SEQ"). */
  onFileDone?: (seq: number) => void;
  /** Files were lost to the ring; called before the next record is passed on. */
  onGap?: (gap: SpoolGap) => void;
  /** The end marker arrived. */
  onEnd?: (end: SpoolEnd) => void;
}

/** What a gap in the output says, for people (stderr) and for Wireshark (a packet comment). Pure. */
export function describeGap(g: SpoolGap, formatBytes: (n: number) => string): string {
  const what =
    g.packets === undefined
      ? 'packets'
      : `${g.packets} packet${g.packets === 1 ? '' : 's'}${g.bytes === undefined ? '' : ` (${formatBytes(g.bytes)})`}`;
  const files = g.fromSeq === g.toSeq ? `ring file ${g.fromSeq}` : `ring files ${g.fromSeq}-${g.toSeq}`;
  return `${what} lost here: the node's spool wrapped before they were read (${files})`;
}

/** The stream does not follow the protocol (a bug, or bytes that are not ours). */
export class SpoolStreamError extends Error {
  constructor(message: string) {
    super(`spool stream: ${message}`);
    this.name = 'SpoolStreamError';
  }
}

function num(word: string | undefined): number | undefined {
  if (word === undefined || !/^[0-9]{1,15}$/.test(word)) return undefined;
  return Number(word);
}

/** Whether a marker starts at B[I] (the caller knows that 12 bytes are there). */
function isMarker(b: Buffer, i: number): boolean {
  for (let k = 0; k < SPOOL_MARK.length; k++) if (b[i + k] !== 0xff) return false;
  return true;
}

/** Whether two pcap headers describe the same capture (the files of one ring always do). */
function sameCapture(a: PcapHeader, b: PcapHeader): boolean {
  return a.byteOrder === b.byteOrder && a.precision === b.precision && a.linkType === b.linkType;
}

type Expect = 'marker' | 'header' | 'records' | 'ended';

/** The spool stream in, one classic pcap stream out (see the top of this file). */
export class SpoolDemux extends Transform {
  readonly #hooks: SpoolDemuxHooks;
  #expect: Expect = 'marker';
  #header: PcapHeader | undefined;
  #le = true;
  #seq = -1;
  #offset = 0;
  /** Packets received from the current file (to tell what a lost marker for it still lost). */
  #filePackets = 0;
  /** Lost files not yet reported (reported as one gap before the next record). */
  #gap: SpoolGap | undefined;
  /** Bytes of an item that straddles chunks (a marker line, a header or a record). */
  #carry: Buffer[] = [];
  #carryLen = 0;
  #packets = 0;
  #end: SpoolEnd | undefined;
  /** Ring bytes of the files behind the current one (read or lost). */
  #doneBytes = 0;

  constructor(hooks: SpoolDemuxHooks = {}) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.#hooks = hooks;
  }

  /** Where to resume: just past the last complete record (undefined before the first file marker). */
  get position(): SpoolPosition | undefined {
    return this.#seq < 0 ? undefined : { seq: this.#seq, offset: this.#offset };
  }

  /** The pcap header of the capture, once seen. */
  get header(): PcapHeader | undefined {
    return this.#header;
  }

  /** Ring bytes passed (read or lost) so far: against what tcpdump has written, how far behind we are. */
  get consumed(): number {
    return this.#doneBytes + this.#offset;
  }

  /** Complete records passed on. */
  get packets(): number {
    return this.#packets;
  }

  /** The end marker's contents, once it arrived. */
  get ended(): SpoolEnd | undefined {
    return this.#end;
  }

  /**
   * Starts over at a record boundary for a new reader's stream (after a broken one): drops the
   * part of an item that had arrived, and expects the new stream's first marker.
   */
  restart(): void {
    this.#carry = [];
    this.#carryLen = 0;
    if (this.#expect !== 'ended') this.#expect = 'marker';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    this.#flushGap();
    cb();
  }

  // Walks CHUNK item by item. A run of whole records is passed on as one view of the chunk; only an
  // item that straddles chunks is copied (into #carry, then passed on whole).
  #consume(chunk: Buffer): void {
    let i = 0;
    if (this.#carryLen > 0) {
      const took = this.#completeCarry(chunk);
      if (took < 0) return;
      i = took;
    }
    let runStart = -1;
    const flushRun = (end: number) => {
      if (runStart >= 0 && end > runStart) this.push(chunk.subarray(runStart, end));
      runStart = -1;
    };
    while (i < chunk.length) {
      const need = this.#itemLength(chunk, i, chunk.length);
      if (need === undefined || i + need > chunk.length) {
        flushRun(i);
        this.#carry = [Buffer.from(chunk.subarray(i))];
        this.#carryLen = chunk.length - i;
        return;
      }
      if (this.#expect === 'records' && !isMarker(chunk, i)) {
        if (runStart < 0) {
          this.#flushGap();
          runStart = i;
        }
        this.#record(need);
      } else {
        flushRun(i);
        this.#item(chunk.subarray(i, i + need));
      }
      i += need;
    }
    flushRun(i);
  }

  // Adds bytes from CHUNK to the straddling item and handles it once whole; returns how many bytes
  // of CHUNK it took, or -1 if the item is still incomplete (then all of CHUNK was taken).
  #completeCarry(chunk: Buffer): number {
    let taken = 0;
    for (;;) {
      const joined = this.#carry.length === 1 ? this.#carry[0]! : Buffer.concat(this.#carry);
      this.#carry = [joined];
      const need = this.#itemLength(joined, 0, joined.length);
      if (need !== undefined && need <= joined.length) {
        this.#carry = [];
        this.#carryLen = 0;
        if (this.#expect === 'records' && !isMarker(joined, 0)) {
          this.#flushGap();
          this.#record(need);
          this.push(joined.subarray(0, need));
        } else this.#item(joined.subarray(0, need));
        // Bytes past the item came from CHUNK: the caller goes on from there.
        return taken - (joined.length - need);
      }
      if (taken >= chunk.length) return -1;
      // What the item still needs; for a marker or a header whose length is unknown yet, a little.
      const piece = chunk.subarray(taken, taken + (need === undefined ? MAX_MARK_LINE : need - joined.length));
      this.#carry.push(Buffer.from(piece));
      this.#carryLen += piece.length;
      taken += piece.length;
    }
  }

  // Length of the item at B[i]: a marker line, the pcap header, or a record; undefined while too
  // few bytes are there to tell.
  #itemLength(b: Buffer, i: number, end: number): number | undefined {
    const avail = end - i;
    if (this.#expect === 'ended') throw new SpoolStreamError('bytes after the end marker');
    if (this.#expect === 'header') return PCAP_GLOBAL_HEADER_LEN;
    if (this.#expect === 'records') {
      // A marker or a record header: the first 12 bytes tell them apart.
      const probe = Math.min(avail, SPOOL_MARK.length);
      let marker = true;
      for (let k = 0; k < probe; k++) if (b[i + k] !== 0xff) marker = false;
      if (!marker) {
        if (avail < PCAP_RECORD_HEADER_LEN) return undefined;
        const capLen = this.#le ? b.readUInt32LE(i + 8) : b.readUInt32BE(i + 8);
        if (capLen > MAX_CAPLEN) throw new SpoolStreamError(`a record of ${capLen} bytes at ring file ${this.#seq}`);
        return PCAP_RECORD_HEADER_LEN + capLen;
      }
      if (probe < SPOOL_MARK.length) return undefined;
    } else if (avail < SPOOL_MARK.length) return undefined;
    if (!b.subarray(i, i + SPOOL_MARK.length).equals(SPOOL_MARK)) {
      throw new SpoolStreamError(`expected a marker at ring file ${this.#seq}, byte ${this.#offset}`);
    }
    const nl = b.indexOf(0x0a, i + SPOOL_MARK.length);
    if (nl < 0 || nl >= end) {
      if (avail > SPOOL_MARK.length + MAX_MARK_LINE) throw new SpoolStreamError('a marker line without its end');
      return undefined;
    }
    return nl + 1 - i;
  }

  #record(length: number): void {
    this.#offset += length;
    this.#packets++;
    this.#filePackets++;
  }

  // A marker line or a pcap header.
  #item(item: Buffer): void {
    if (this.#expect === 'header') {
      const h = parsePcapGlobalHeader(item, 0);
      if (!this.#header) {
        this.#header = h;
        this.#le = h.byteOrder === 'le';
        this.push(Buffer.from(item));
      } else if (!sameCapture(this.#header, h)) {
        throw new SpoolStreamError(`ring file ${this.#seq} has another link type or byte order than the first`);
      }
      this.#offset = PCAP_GLOBAL_HEADER_LEN;
      this.#expect = 'records';
      return;
    }
    const words = item
      .subarray(SPOOL_MARK.length, item.length - 1)
      .toString('latin1')
      .split(' ');
    switch (words[0]) {
      case 'file':
        this.#file(num(words[1]), num(words[2]));
        return;
      case 'lost':
        this.#lost(num(words[1]), words[2], words[3]);
        return;
      case 'end':
        this.#flushGap();
        this.#end = {
          rc: num(words[1]),
          captured: num(words[2]),
          receivedByFilter: num(words[3]),
          droppedByKernel: num(words[4]),
        };
        this.#expect = 'ended';
        this.#hooks.onEnd?.(this.#end);
        return;
      default:
        throw new SpoolStreamError(`unknown marker ${JSON.stringify(words.join(' ').slice(0, 40))}`);
    }
  }

  #file(seq: number | undefined, offset: number | undefined): void {
    if (seq === undefined || offset === undefined) throw new SpoolStreamError('a file marker without its numbers');
    if (seq === this.#seq) {
      // A new reader's stream resumes where we are: anything else would be a gap or a duplicate.
      if (offset !== this.#offset) {
        throw new SpoolStreamError(`resumed ring file ${seq} at byte ${offset}, but we are at byte ${this.#offset}`);
      }
    } else {
      if (seq < this.#seq) throw new SpoolStreamError(`ring file ${seq} after ring file ${this.#seq}`);
      if (this.#seq >= 0 && seq > this.#seq + 1 && !this.#gap) {
        throw new SpoolStreamError(`ring file ${seq} follows ring file ${this.#seq} with no lost marker`);
      }
      if (offset !== 0 && this.#header === undefined) {
        throw new SpoolStreamError(`the stream starts inside ring file ${seq} (byte ${offset})`);
      }
      if (this.#seq >= 0 && !this.#gap) this.#hooks.onFileDone?.(this.#seq);
      this.#doneBytes += this.#offset;
      this.#seq = seq;
      this.#offset = offset;
      this.#filePackets = 0;
    }
    this.#expect = this.#offset === 0 ? 'header' : 'records';
  }

  #lost(seq: number | undefined, bytesWord: string | undefined, packetsWord: string | undefined): void {
    if (seq === undefined) throw new SpoolStreamError('a lost marker without its file');
    // Part of a file we had begun (before a resume) arrived; the rest of it is what was lost.
    const had =
      seq === this.#seq
        ? { bytes: Math.max(this.#offset, PCAP_GLOBAL_HEADER_LEN), packets: this.#filePackets }
        : { bytes: PCAP_GLOBAL_HEADER_LEN, packets: 0 };
    if (seq !== this.#seq && this.#seq >= 0 && !this.#gap) this.#hooks.onFileDone?.(this.#seq);
    if (seq !== this.#seq) this.#doneBytes += this.#offset;
    const size = num(bytesWord);
    const count = num(packetsWord);
    const bytes = size === undefined ? undefined : Math.max(0, size - had.bytes);
    const packets = count === undefined ? undefined : Math.max(0, count - had.packets);
    const g = this.#gap;
    this.#gap = g
      ? {
          afterPackets: g.afterPackets,
          fromSeq: g.fromSeq,
          toSeq: seq,
          packets: g.packets === undefined || packets === undefined ? undefined : g.packets + packets,
          bytes: g.bytes === undefined || bytes === undefined ? undefined : g.bytes + bytes,
        }
      : { afterPackets: this.#packets, fromSeq: seq, toSeq: seq, packets, bytes };
    this.#seq = seq;
    this.#offset = size ?? 0;
    this.#filePackets = count ?? 0;
    this.#expect = 'marker';
  }

  #flushGap(): void {
    const g = this.#gap;
    if (!g) return;
    this.#gap = undefined;
    this.#hooks.onGap?.(g);
  }
}
