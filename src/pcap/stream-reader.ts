// Incremental classic-pcap parser for the live capture stream (tcpdump -U -w - on the node).
// It sits on the hot path of every capture (status line counters, truncation offset for sinks),
// so it never concatenates the stream: records that lie inside one chunk are reported as views
// of that chunk, only a record split across chunks is assembled in its own buffer, and when
// nobody asked for records even that is skipped rather than copied.

import { Buffer } from 'node:buffer';
import { PcapFormatError } from './error.ts';
import {
  DEFAULT_SNAPLEN,
  MAX_RECORD_LEN,
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  PcapMagic,
  PCAPNG_BYTE_ORDER_MAGIC,
  PcapngBlockType,
  type PcapHeader,
  type PcapRecord,
} from './format.ts';

/** Callbacks of a PcapStreamParser; leave onRecord out when only the counters matter (no per-record work). */
export interface PcapStreamHandlers {
  onHeader?: (header: PcapHeader) => void;
  /** `record.data` views the pushed chunk (or a private buffer for a record that spanned chunks). */
  onRecord?: (record: PcapRecord) => void;
}

/** Running totals of what has been parsed so far. */
export interface PcapStreamTotals {
  /** Complete records parsed. */
  readonly packets: number;
  /** Every byte pushed, headers included: the size of the pcap stream so far. */
  readonly streamBytes: number;
  /** Sum of captured lengths (packet bytes actually in the file). */
  readonly capturedBytes: number;
  /** Sum of original lengths (bytes on the wire). */
  readonly wireBytes: number;
  /** Stream offset just past the last complete record (or the global header); 0 before the header is complete. */
  readonly completeOffset: number;
}

// Writers disagree about snaplen (65535 in the header with 64 KiB GSO frames from the kernel,
// cooked headers added after the cut), so snaplen is only a hint. The limit exists to notice a
// corrupt or desynchronised stream quickly rather than to police writers.
const SNAPLEN_SLACK = 65536;

/** Largest captured length we accept for a file whose header says `snaplen`. */
function maxCapLen(snaplen: number): number {
  if (snaplen === 0) return MAX_RECORD_LEN;
  return Math.min(MAX_RECORD_LEN, Math.max(snaplen, DEFAULT_SNAPLEN) + SNAPLEN_SLACK);
}

// Reading u32s by hand avoids a Buffer method call per field and works for both byte orders.
function u32le(b: Uint8Array, o: number): number {
  return (
    ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0
  );
}
function u32be(b: Uint8Array, o: number): number {
  return (
    (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0
  );
}
function u16le(b: Uint8Array, o: number): number {
  return (b[o] as number) | ((b[o + 1] as number) << 8);
}
function u16be(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/** Parses the 24-byte global header at `off` of `b`; `streamOffset` only feeds error messages. */
export function parsePcapGlobalHeader(b: Uint8Array, off: number, streamOffset = off): PcapHeader {
  const magicLe = u32le(b, off);
  let byteOrder: PcapHeader['byteOrder'];
  let magic: number;
  if (magicLe === PcapMagic.usec || magicLe === PcapMagic.nsec) {
    byteOrder = 'le';
    magic = magicLe;
  } else {
    magic = u32be(b, off);
    if (magic !== PcapMagic.usec && magic !== PcapMagic.nsec) {
      const looksPcapng =
        magicLe === PcapngBlockType.SHB &&
        (u32le(b, off + 8) === PCAPNG_BYTE_ORDER_MAGIC || u32be(b, off + 8) === PCAPNG_BYTE_ORDER_MAGIC);
      const what = looksPcapng
        ? 'this is pcapng, not classic pcap'
        : `not a pcap stream: magic 0x${magicLe.toString(16).padStart(8, '0')}`;
      throw new PcapFormatError('bad-magic', streamOffset, what);
    }
    byteOrder = 'be';
  }
  const u16 = byteOrder === 'le' ? u16le : u16be;
  const u32 = byteOrder === 'le' ? u32le : u32be;
  const versionMajor = u16(b, off + 4);
  const versionMinor = u16(b, off + 6);
  if (versionMajor !== 2) {
    throw new PcapFormatError(
      'unsupported-version',
      streamOffset + 4,
      `unsupported pcap version ${versionMajor}.${versionMinor}`,
    );
  }
  const linkField = u32(b, off + 20);
  return {
    byteOrder,
    precision: magic === PcapMagic.nsec ? 'nsec' : 'usec',
    versionMajor,
    versionMinor,
    snaplen: u32(b, off + 16),
    linkType: linkField & 0xffff,
    // libpcap's LT_FCS_LENGTH: a count of 16-bit words in the top nibble, valid when bit 26 is set.
    fcsLen: linkField & 0x04000000 ? (linkField >>> 28) * 2 : undefined,
  };
}

/** Incremental classic-pcap parser: push chunks split anywhere, get the header, records and totals. */
export class PcapStreamParser implements PcapStreamTotals {
  #packets = 0;
  #streamBytes = 0;
  #capturedBytes = 0;
  #wireBytes = 0;
  #completeOffset = 0;
  #header: PcapHeader | undefined = undefined;
  readonly #onHeader: PcapStreamHandlers['onHeader'];
  readonly #onRecord: PcapStreamHandlers['onRecord'];
  #le = true;
  #maxCapLen = MAX_RECORD_LEN;
  // The item (global header or record) that straddles chunks, assembled in its own buffer:
  // #carry holds #carryNeed bytes once complete; #carryNeed grows from the header size to the whole
  // record size once the record header is known.
  #carry: Buffer | undefined = undefined;
  #carryLen = 0;
  #carryNeed = 0;
  // Without onRecord nobody looks at packet bytes, so a straddling record's body is skipped rather
  // than assembled: only its remaining length and its header's lengths are kept. This keeps the
  // counting path free of copies (a 64 KiB GSO record straddles almost every chunk).
  #skipRemaining = 0;
  #skipCapLen = 0;
  #skipOrigLen = 0;
  // Set by the first throw (corrupt input or a throwing handler): the position in the stream is
  // unknown after that, so every later push rethrows instead of parsing garbage.
  #failed: { error: unknown } | undefined = undefined;

  constructor(handlers: PcapStreamHandlers = {}) {
    this.#onHeader = handlers.onHeader;
    this.#onRecord = handlers.onRecord;
  }

  get packets(): number {
    return this.#packets;
  }
  get streamBytes(): number {
    return this.#streamBytes;
  }
  get capturedBytes(): number {
    return this.#capturedBytes;
  }
  get wireBytes(): number {
    return this.#wireBytes;
  }
  get completeOffset(): number {
    return this.#completeOffset;
  }
  /** The global header, once its 24 bytes have arrived. */
  get header(): PcapHeader | undefined {
    return this.#header;
  }
  /** Bytes after completeOffset: a partial record (or header) still waiting for the rest. */
  get pendingBytes(): number {
    return this.#streamBytes - this.#completeOffset;
  }

  /** Feeds the next chunk of the stream; throws PcapFormatError on corrupt input, and again on every later push. */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed.error;
    if (chunk.length === 0) return;
    // A Buffer view over the same memory (no copy), so records come out as Buffers.
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const base = this.#streamBytes;
    this.#streamBytes += buf.length;
    try {
      let off = 0;
      // First finish whatever straddled the previous chunk boundary (possibly several steps:
      // header bytes, then the body to assemble or skip).
      while (this.#carry || this.#skipRemaining > 0) {
        if (off === buf.length) return;
        off = this.#skipRemaining > 0 ? this.#skipBody(buf, off, base) : this.#fillCarry(buf, off, base);
      }
      if (!this.#header) {
        if (buf.length - off < PCAP_GLOBAL_HEADER_LEN) {
          this.#startCarry(buf, off, base);
          return;
        }
        this.#acceptHeader(buf, off, base + off);
        off += PCAP_GLOBAL_HEADER_LEN;
      }
      off = this.#parseRecords(buf, off, base);
      if (off < buf.length) this.#startCarry(buf, off, base);
    } catch (error) {
      this.#failed = { error };
      throw error;
    }
  }

  #acceptHeader(b: Uint8Array, off: number, streamOffset: number): void {
    const header = parsePcapGlobalHeader(b, off, streamOffset);
    this.#header = header;
    this.#le = header.byteOrder === 'le';
    this.#maxCapLen = maxCapLen(header.snaplen);
    this.#completeOffset = streamOffset + PCAP_GLOBAL_HEADER_LEN;
    this.#onHeader?.(header);
  }

  #checkCapLen(capLen: number, streamOffset: number): void {
    if (capLen > this.#maxCapLen) {
      throw new PcapFormatError(
        'record-too-large',
        streamOffset,
        `pcap record claims ${capLen} captured bytes (snaplen ${this.#header?.snaplen}); the stream is corrupt`,
      );
    }
  }

  // The hot loop: state lives in locals and is written back once per chunk.
  #parseRecords(buf: Buffer, start: number, base: number): number {
    const end = buf.length;
    const le = this.#le;
    const onRecord = this.#onRecord;
    const max = this.#maxCapLen;
    let off = start;
    let packets = 0;
    let captured = 0;
    let wire = 0;
    while (end - off >= PCAP_RECORD_HEADER_LEN) {
      const capLen = le ? u32le(buf, off + 8) : u32be(buf, off + 8);
      if (capLen > max) {
        this.#commit(packets, captured, wire, base + off);
        this.#checkCapLen(capLen, base + off);
      }
      const next = off + PCAP_RECORD_HEADER_LEN + capLen;
      if (next > end) break;
      const origLen = le ? u32le(buf, off + 12) : u32be(buf, off + 12);
      packets++;
      captured += capLen;
      wire += origLen;
      if (onRecord) {
        onRecord({
          tsSec: le ? u32le(buf, off) : u32be(buf, off),
          tsFrac: le ? u32le(buf, off + 4) : u32be(buf, off + 4),
          capLen,
          origLen,
          data: buf.subarray(off + PCAP_RECORD_HEADER_LEN, next),
        });
      }
      off = next;
    }
    this.#commit(packets, captured, wire, base + off);
    return off;
  }

  #commit(packets: number, captured: number, wire: number, completeOffset: number): void {
    this.#packets += packets;
    this.#capturedBytes += captured;
    this.#wireBytes += wire;
    this.#completeOffset = completeOffset;
  }

  // Remembers the unparsed tail [off, end) of buf: skips a record body when nobody wants the bytes,
  // otherwise sizes the buffer for the whole record once its header is there.
  #startCarry(buf: Buffer, off: number, base: number): void {
    const have = buf.length - off;
    let need: number;
    if (!this.#header) need = PCAP_GLOBAL_HEADER_LEN;
    else if (have >= PCAP_RECORD_HEADER_LEN) {
      const capLen = this.#le ? u32le(buf, off + 8) : u32be(buf, off + 8);
      this.#checkCapLen(capLen, base + off);
      need = PCAP_RECORD_HEADER_LEN + capLen;
      if (!this.#onRecord) {
        this.#startSkip(buf, off, need - have);
        return;
      }
    } else need = PCAP_RECORD_HEADER_LEN;
    const carry = Buffer.allocUnsafe(need);
    buf.copy(carry, 0, off);
    this.#carry = carry;
    this.#carryLen = have;
    this.#carryNeed = need;
  }

  // Enters skip mode for the record whose 16-byte header is at `off` of `hdr`.
  #startSkip(hdr: Uint8Array, off: number, remaining: number): void {
    this.#skipCapLen = this.#le ? u32le(hdr, off + 8) : u32be(hdr, off + 8);
    this.#skipOrigLen = this.#le ? u32le(hdr, off + 12) : u32be(hdr, off + 12);
    this.#skipRemaining = remaining;
  }

  // Consumes the skipped record's remaining body from buf at off; returns the new offset.
  #skipBody(buf: Buffer, off: number, base: number): number {
    const take = Math.min(this.#skipRemaining, buf.length - off);
    this.#skipRemaining -= take;
    off += take;
    if (this.#skipRemaining === 0) this.#commit(1, this.#skipCapLen, this.#skipOrigLen, base + off);
    return off;
  }

  // Continues the straddling item from buf at off; returns the new offset. Leaves #carry set when
  // buf ran out first, or switches to skip mode once a record header is complete and unwanted.
  #fillCarry(buf: Buffer, off: number, base: number): number {
    for (;;) {
      const carry = this.#carry as Buffer;
      const take = Math.min(this.#carryNeed - this.#carryLen, buf.length - off);
      buf.copy(carry, this.#carryLen, off, off + take);
      this.#carryLen += take;
      off += take;
      if (this.#carryLen < this.#carryNeed) return off;

      if (!this.#header) {
        this.#carry = undefined;
        this.#acceptHeader(carry, 0, 0);
        return off;
      }
      if (this.#carryNeed === PCAP_RECORD_HEADER_LEN) {
        // Only the record header was wanted so far: now we know how big the record is.
        const capLen = this.#le ? u32le(carry, 8) : u32be(carry, 8);
        this.#checkCapLen(capLen, this.#completeOffset);
        if (capLen > 0) {
          if (!this.#onRecord) {
            this.#carry = undefined;
            this.#startSkip(carry, 0, capLen);
            return off;
          }
          const whole = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LEN + capLen);
          carry.copy(whole, 0, 0, PCAP_RECORD_HEADER_LEN);
          this.#carry = whole;
          this.#carryNeed = whole.length;
          continue;
        }
      }
      this.#carry = undefined;
      this.#emitCarried(carry, base + off);
      return off;
    }
  }

  #emitCarried(rec: Buffer, completeOffset: number): void {
    const le = this.#le;
    const capLen = rec.length - PCAP_RECORD_HEADER_LEN;
    const origLen = le ? u32le(rec, 12) : u32be(rec, 12);
    this.#commit(1, capLen, origLen, completeOffset);
    this.#onRecord?.({
      tsSec: le ? u32le(rec, 0) : u32be(rec, 0),
      tsFrac: le ? u32le(rec, 4) : u32be(rec, 4),
      capLen,
      origLen,
      data: rec.subarray(PCAP_RECORD_HEADER_LEN),
    });
  }
}
