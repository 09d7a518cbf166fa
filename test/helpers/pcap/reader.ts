// Whole-file readers: classic pcap (through the same stream parser the live path uses, so both
// agree by construction), pcapng, and a sniffing front door that normalises either into one shape.
// Packet bytes are views of the input buffer, never copies.

import type { Buffer } from 'node:buffer';
import { PcapFormatError } from '../../../src/pcap/error.ts';
import {
  PCAP_GLOBAL_HEADER_LEN,
  PcapMagic,
  PCAPNG_BYTE_ORDER_MAGIC,
  PcapngBlockType,
  PcapngOption,
  type ByteOrder,
  type PcapHeader,
  type PcapRecord,
} from '../../../src/pcap/format.ts';
import { PcapStreamParser } from '../../../src/pcap/stream-reader.ts';

/** A classic pcap file: header, complete records, and how many trailing bytes were a cut-off record. */
export interface PcapFile {
  readonly header: PcapHeader;
  readonly records: PcapRecord[];
  /** Offset just past the last complete record: truncating the file here makes it valid. */
  readonly completeOffset: number;
  /** Bytes after completeOffset (a record cut short when the capture was interrupted). */
  readonly truncatedBytes: number;
}

/** Reads a whole classic pcap file (any byte order, usec or nsec). Throws PcapFormatError. */
export function readPcap(buf: Buffer): PcapFile {
  const records: PcapRecord[] = [];
  const parser = new PcapStreamParser({ onRecord: (r) => records.push(r) });
  parser.push(buf);
  const header = parser.header;
  if (!header) {
    throw new PcapFormatError(
      'truncated-header',
      0,
      `a pcap file needs a ${PCAP_GLOBAL_HEADER_LEN}-byte header, got ${buf.length} bytes`,
    );
  }
  return { header, records, completeOffset: parser.completeOffset, truncatedBytes: parser.pendingBytes };
}

/** One interface described by a pcapng IDB. */
export interface PcapngInterface {
  /** Index of the section (SHB) this interface belongs to. */
  readonly section: number;
  readonly linkType: number;
  readonly snaplen: number;
  readonly name: string | undefined;
  readonly description: string | undefined;
  /** Timestamp ticks per second (if_tsresol; 10^6 when absent). */
  readonly ticksPerSecond: bigint;
  /** Seconds added to every timestamp (if_tsoffset). */
  readonly tsOffset: bigint;
  readonly fcsLen: number | undefined;
}

/** One packet of a pcapng file (from an EPB, SPB or obsolete PB). */
export interface PcapngPacket {
  readonly blockType: number;
  /** Index into PcapngFile.interfaces, flattened over all sections (tshark numbers them per section). */
  readonly interfaceId: number;
  /** Seconds since the epoch; SPBs carry no timestamp and get 0 (check blockType). */
  readonly tsSec: number;
  /** Nanoseconds past tsSec (resolutions finer than 1 ns are truncated). */
  readonly tsNanos: number;
  readonly capLen: number;
  readonly origLen: number;
  readonly data: Buffer;
}

/** One address-to-names record of a Name Resolution Block. */
export interface PcapngNameRecord {
  /** Dotted IPv4, or IPv6 in RFC 5952 form ("::1", "fd00::5"). */
  readonly address: string;
  readonly names: string[];
}

/** One Interface Statistics Block; counters are undefined when the block does not carry them. */
export interface PcapngStatistics {
  /** Index into PcapngFile.interfaces (flattened, like PcapngPacket.interfaceId). */
  readonly interfaceId: number;
  readonly tsSec: number;
  readonly tsNanos: number;
  readonly startTime: { readonly tsSec: number; readonly tsNanos: number } | undefined;
  readonly endTime: { readonly tsSec: number; readonly tsNanos: number } | undefined;
  readonly ifRecv: bigint | undefined;
  readonly ifDrop: bigint | undefined;
  readonly filterAccept: bigint | undefined;
  readonly osDrop: bigint | undefined;
  readonly usrDeliv: bigint | undefined;
  /** Its opt_comment options, in order. */
  readonly comments: string[];
}

/** A pcapng file: its interfaces over all sections, its packets, and any cut-off trailing bytes. */
export interface PcapngFile {
  readonly sections: { readonly byteOrder: ByteOrder; readonly versionMajor: number; readonly versionMinor: number }[];
  readonly interfaces: PcapngInterface[];
  readonly packets: PcapngPacket[];
  /** Every NRB record, in file order. */
  readonly names: PcapngNameRecord[];
  readonly statistics: PcapngStatistics[];
  readonly completeOffset: number;
  readonly truncatedBytes: number;
}

const NANOS = 1_000_000_000n;

// NRB record types and ISB option codes, spelled out here so the reader does not lean on the
// writer's constants (it checks the writer).
const NRB_IPV4 = 1;
const NRB_IPV6 = 2;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;
const ISB_FILTERACCEPT = 6;
const ISB_OSDROP = 7;
const ISB_USRDELIV = 8;

// Smallest valid total length per block type (8 bytes of type+length, the fixed body, 4 of trailer).
const MIN_BLOCK_LEN = new Map<number, number>([
  [PcapngBlockType.SHB, 28],
  [PcapngBlockType.IDB, 20],
  [PcapngBlockType.EPB, 32],
  [PcapngBlockType.PB, 32],
  [PcapngBlockType.SPB, 16],
  [PcapngBlockType.ISB, 24],
]);

// Decodes if_tsresol: high bit clear = 10^-n seconds, set = 2^-n seconds.
function ticksFromTsresol(v: number): bigint {
  const exp = BigInt(v & 0x7f);
  return v & 0x80 ? 1n << exp : 10n ** exp;
}

// Splits a tick count into seconds and nanoseconds (plus if_tsoffset) for the given interface.
function ticksToTime(ticks: bigint, iface: PcapngInterface): { tsSec: number; tsNanos: number } {
  const sec = ticks / iface.ticksPerSecond;
  return {
    tsSec: Number(sec + iface.tsOffset),
    tsNanos: Number(((ticks - sec * iface.ticksPerSecond) * NANOS) / iface.ticksPerSecond),
  };
}

// RFC 5952 text of 16 address octets: lowercase, no leading zeros, the longest run of 2+ zero groups as "::".
function ipv6Text(b: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i] as number) << 8) | (b[2 * i + 1] as number));
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/** Reads a whole pcapng file: SHB (both byte orders, many sections), IDB, EPB, SPB, PB, NRB, ISB; skips other blocks. */
export function readPcapng(buf: Buffer): PcapngFile {
  const sections: PcapngFile['sections'][number][] = [];
  const interfaces: PcapngInterface[] = [];
  const packets: PcapngPacket[] = [];
  const names: PcapngNameRecord[] = [];
  const statistics: PcapngStatistics[] = [];
  // Interface ids in EPBs are per section; this maps them to the flattened list.
  let sectionFirstInterface = 0;
  let le = true;
  let off = 0;

  while (buf.length - off >= 12) {
    const typeLe = buf.readUInt32LE(off);
    if (typeLe === PcapngBlockType.SHB) {
      const bom = buf.readUInt32LE(off + 8);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (buf.readUInt32BE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else throw new PcapFormatError('bad-magic', off + 8, 'pcapng section header with an unknown byte-order magic');
    } else if (off === 0) {
      throw new PcapFormatError('bad-magic', 0, `not a pcapng file: first block type 0x${typeLe.toString(16)}`);
    }
    const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
    const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const type = u32(off);
    const total = u32(off + 4);
    if (total < 12 || total % 4 !== 0) {
      throw new PcapFormatError(
        'bad-block',
        off + 4,
        `pcapng block of type 0x${type.toString(16)} has invalid length ${total}`,
      );
    }
    if (total > buf.length - off) break; // cut short: the rest is a partial block
    if (u32(off + total - 4) !== total) {
      throw new PcapFormatError(
        'bad-block',
        off + total - 4,
        `pcapng block of type 0x${type.toString(16)} has mismatched lengths`,
      );
    }
    const body = off + 8;
    const bodyEnd = off + total - 4;
    if (total < (MIN_BLOCK_LEN.get(type) ?? 12)) {
      throw new PcapFormatError(
        'bad-block',
        off + 4,
        `pcapng block of type 0x${type.toString(16)} is too short (${total} bytes)`,
      );
    }

    switch (type) {
      case PcapngBlockType.SHB: {
        sections.push({ byteOrder: le ? 'le' : 'be', versionMajor: u16(body + 4), versionMinor: u16(body + 6) });
        sectionFirstInterface = interfaces.length;
        break;
      }
      case PcapngBlockType.IDB: {
        let ticksPerSecond = 1_000_000n;
        let tsOffset = 0n;
        let name: string | undefined;
        let description: string | undefined;
        let fcsLen: number | undefined;
        forEachOption(body + 8, bodyEnd, u16, (code, vOff, vLen) => {
          if (code === PcapngOption.ifTsresol && vLen >= 1) ticksPerSecond = ticksFromTsresol(buf[vOff] as number);
          else if (code === PcapngOption.ifTsoffset && vLen >= 8)
            tsOffset = le ? buf.readBigInt64LE(vOff) : buf.readBigInt64BE(vOff);
          else if (code === PcapngOption.ifName) name = buf.toString('utf8', vOff, vOff + vLen);
          else if (code === PcapngOption.ifDescription) description = buf.toString('utf8', vOff, vOff + vLen);
          else if (code === PcapngOption.ifFcslen && vLen >= 1) fcsLen = buf[vOff];
        });
        interfaces.push({
          section: sections.length - 1,
          linkType: u16(body),
          snaplen: u32(body + 4),
          name,
          description,
          ticksPerSecond,
          tsOffset,
          fcsLen,
        });
        break;
      }
      case PcapngBlockType.EPB:
      case PcapngBlockType.PB: {
        // EPB: if_id u32; obsolete PB: if_id u16 + drops u16. Both then carry ts high/low, caplen, len.
        const localId = type === PcapngBlockType.EPB ? u32(body) : u16(body);
        const iface = interfaceAt(interfaces, sectionFirstInterface + localId, off);
        const capLen = u32(body + 12);
        const data = body + 20;
        if (data + capLen > bodyEnd)
          throw new PcapFormatError(
            'bad-block',
            off,
            `pcapng packet block claims ${capLen} bytes, more than the block holds`,
          );
        const ticks = (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8));
        const sec = ticks / iface.ticksPerSecond;
        packets.push({
          blockType: type,
          interfaceId: sectionFirstInterface + localId,
          tsSec: Number(sec + iface.tsOffset),
          tsNanos: Number(((ticks - sec * iface.ticksPerSecond) * NANOS) / iface.ticksPerSecond),
          capLen,
          origLen: u32(body + 16),
          data: buf.subarray(data, data + capLen),
        });
        break;
      }
      case PcapngBlockType.SPB: {
        // SPB: no timestamp, no caplen; the data is min(original length, snaplen), always interface 0.
        const iface = interfaceAt(interfaces, sectionFirstInterface, off);
        const origLen = u32(body);
        const room = bodyEnd - (body + 4);
        const capLen = Math.min(origLen, iface.snaplen === 0 ? origLen : iface.snaplen, room);
        packets.push({
          blockType: type,
          interfaceId: sectionFirstInterface,
          tsSec: 0,
          tsNanos: 0,
          capLen,
          origLen,
          data: buf.subarray(body + 4, body + 4 + capLen),
        });
        break;
      }
      case PcapngBlockType.NRB: {
        // Records share the option layout; each value is an address then zero-terminated names.
        forEachOption(body, bodyEnd, u16, (code, vOff, vLen) => {
          const addrLen = code === NRB_IPV4 ? 4 : code === NRB_IPV6 ? 16 : 0;
          if (addrLen === 0 || vLen <= addrLen) return;
          const addr = buf.subarray(vOff, vOff + addrLen);
          const text = buf.toString('utf8', vOff + addrLen, vOff + vLen);
          names.push({
            address: addrLen === 4 ? [...addr].join('.') : ipv6Text(addr),
            names: text.split('\0').filter((n) => n !== ''),
          });
        });
        break;
      }
      case PcapngBlockType.ISB: {
        const id = sectionFirstInterface + u32(body);
        const iface = interfaceAt(interfaces, id, off);
        const ticksAt = (o: number) => (BigInt(u32(o)) << 32n) | BigInt(u32(o + 4));
        const u64 = (o: number) => (le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
        const opt = new Map<number, number>();
        const comments: string[] = [];
        forEachOption(body + 12, bodyEnd, u16, (code, vOff, vLen) => {
          if (code === 1) comments.push(buf.toString('utf8', vOff, vOff + vLen));
          else if (vLen === 8) opt.set(code, vOff);
        });
        const counter = (code: number) => (opt.has(code) ? u64(opt.get(code) as number) : undefined);
        const time = (code: number) =>
          opt.has(code) ? ticksToTime(ticksAt(opt.get(code) as number), iface) : undefined;
        const at = ticksToTime(ticksAt(body + 4), iface);
        statistics.push({
          interfaceId: id,
          tsSec: at.tsSec,
          tsNanos: at.tsNanos,
          startTime: time(ISB_STARTTIME),
          endTime: time(ISB_ENDTIME),
          ifRecv: counter(ISB_IFRECV),
          ifDrop: counter(ISB_IFDROP),
          filterAccept: counter(ISB_FILTERACCEPT),
          osDrop: counter(ISB_OSDROP),
          usrDeliv: counter(ISB_USRDELIV),
          comments,
        });
        break;
      }
      default:
        break; // DSB, custom blocks: nothing a packet summary needs
    }
    off += total;
  }
  if (sections.length === 0) {
    throw new PcapFormatError(
      'truncated-header',
      0,
      `a pcapng file needs a complete section header block, got ${buf.length} bytes`,
    );
  }
  return { sections, interfaces, packets, names, statistics, completeOffset: off, truncatedBytes: buf.length - off };
}

function interfaceAt(interfaces: PcapngInterface[], id: number, blockOffset: number): PcapngInterface {
  const iface = interfaces[id];
  if (!iface)
    throw new PcapFormatError(
      'bad-block',
      blockOffset,
      `pcapng packet refers to interface ${id}, which no IDB described`,
    );
  return iface;
}

// Walks a pcapng option list (code u16, length u16, value padded to 4) until opt_endofopt or the end.
function forEachOption(
  start: number,
  end: number,
  u16: (o: number) => number,
  visit: (code: number, valueOffset: number, valueLength: number) => void,
): void {
  let o = start;
  while (end - o >= 4) {
    const code = u16(o);
    const len = u16(o + 2);
    if (code === PcapngOption.endOfOpt || o + 4 + len > end) return;
    visit(code, o + 4, len);
    o += 4 + ((len + 3) & ~3);
  }
}

/** A capture in either format, in the shape the summary code wants. */
export interface Capture {
  readonly format: 'pcap' | 'pcapng';
  readonly interfaces: { readonly linkType: number; readonly snaplen: number; readonly name: string | undefined }[];
  readonly packets: {
    readonly interfaceId: number;
    readonly tsSec: number;
    readonly tsNanos: number;
    readonly capLen: number;
    readonly origLen: number;
    readonly data: Buffer;
  }[];
  readonly truncatedBytes: number;
}

/** Which format a capture starts with, from its first four bytes; undefined when it is neither. */
export function sniffFormat(buf: Uint8Array): 'pcap' | 'pcapng' | undefined {
  if (buf.length < 4) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, 4);
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  if (le === PcapngBlockType.SHB) return 'pcapng';
  const pcap: number[] = [PcapMagic.usec, PcapMagic.nsec];
  return pcap.includes(le) || pcap.includes(be) ? 'pcap' : undefined;
}

/** Reads a capture file, choosing pcap or pcapng by its first four bytes. Throws PcapFormatError. */
export function readCapture(buf: Buffer): Capture {
  const format = sniffFormat(buf);
  if (format === 'pcapng') {
    const f = readPcapng(buf);
    return {
      format,
      interfaces: f.interfaces.map((i) => ({ linkType: i.linkType, snaplen: i.snaplen, name: i.name })),
      packets: f.packets,
      truncatedBytes: f.truncatedBytes,
    };
  }
  if (format === undefined && buf.length >= 4) {
    throw new PcapFormatError('bad-magic', 0, `neither pcap nor pcapng: starts with 0x${buf.toString('hex', 0, 4)}`);
  }
  const f = readPcap(buf);
  const scale = f.header.precision === 'usec' ? 1000 : 1;
  return {
    format: 'pcap',
    interfaces: [{ linkType: f.header.linkType, snaplen: f.header.snaplen, name: undefined }],
    packets: f.records.map((r) => ({
      interfaceId: 0,
      tsSec: r.tsSec,
      tsNanos: r.tsFrac * scale,
      capLen: r.capLen,
      origLen: r.origLen,
      data: r.data,
    })),
    truncatedBytes: f.truncatedBytes,
  };
}
