// Classic pcap encoding: the global header and single records, as Buffers the caller writes
// wherever it likes (tests, benchmarks, and later merge/rotation sinks that start new files).

import { Buffer } from 'node:buffer';
import {
  DEFAULT_SNAPLEN,
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  PcapMagic,
  type ByteOrder,
} from './format.ts';

/** Options of a classic pcap global header. */
export interface PcapGlobalHeaderOptions {
  linkType: number;
  /** Defaults to tcpdump's 262144. */
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d); microseconds otherwise. */
  nanos?: boolean;
  /** Defaults to little-endian, what tcpdump writes on x86 and arm64. */
  byteOrder?: ByteOrder;
}

/** The 24-byte global header that starts every classic pcap file. */
export function pcapGlobalHeader(opts: PcapGlobalHeaderOptions): Buffer {
  const b = Buffer.alloc(PCAP_GLOBAL_HEADER_LEN);
  const le = (opts.byteOrder ?? 'le') === 'le';
  const u32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const u16 = (v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  u32(opts.nanos ? PcapMagic.nsec : PcapMagic.usec, 0);
  u16(2, 4);
  u16(4, 6);
  // thiszone and sigfigs stay 0, as every modern writer leaves them.
  u32(opts.snaplen ?? DEFAULT_SNAPLEN, 16);
  u32(opts.linkType, 20);
  return b;
}

/** One pcap record to encode; the byte order must match the header's. */
export interface PcapRecordInput {
  tsSec: number;
  /** Microseconds or nanoseconds, matching the header's `nanos`. */
  tsFrac: number;
  /** Bytes on the wire; defaults to data.length (i.e. not truncated by a snaplen). */
  origLen?: number;
  data: Uint8Array;
  byteOrder?: ByteOrder;
}

/** A record header followed by the packet bytes (captured length = data.length). */
export function pcapRecord(rec: PcapRecordInput): Buffer {
  const b = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LEN + rec.data.length);
  writePcapRecordHeader(b, 0, rec.tsSec, rec.tsFrac, rec.data.length, rec.origLen ?? rec.data.length, rec.byteOrder);
  b.set(rec.data, PCAP_RECORD_HEADER_LEN);
  return b;
}

/** Writes a 16-byte record header into `target` at `offset`, for callers that lay out many records in one buffer. */
export function writePcapRecordHeader(
  target: Uint8Array,
  offset: number,
  tsSec: number,
  tsFrac: number,
  capLen: number,
  origLen: number,
  byteOrder: ByteOrder = 'le',
): void {
  const view = new DataView(target.buffer, target.byteOffset + offset, PCAP_RECORD_HEADER_LEN);
  const le = byteOrder === 'le';
  view.setUint32(0, tsSec, le);
  view.setUint32(4, tsFrac, le);
  view.setUint32(8, capLen, le);
  view.setUint32(12, origLen, le);
}
