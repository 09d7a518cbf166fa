// pcapng block encoding (draft-ietf-opsawg-pcapng): SHB, IDB, EPB, NRB and ISB as Buffers the caller
// writes wherever it likes. Whole-workload capture merges many pods' classic pcap streams into one
// pcapng file: one IDB per pod interface, one EPB per packet, names of pods in an NRB and tcpdump's
// drop counters in ISBs. Everything is written little-endian (one SHB per file, so one byte order);
// readers handle either. No I/O here.

import { Buffer } from 'node:buffer';
import { ipAddressBytes } from './ip-address.ts';
import {
  IdbOption,
  IfFilterKind,
  IsbOption,
  NrbOption,
  NrbRecordType,
  PCAPNG_BYTE_ORDER_MAGIC,
  PcapngBlockType,
  PcapngOption,
  ShbOption,
  type PcapHeader,
  type PcapRecord,
  type TimestampPrecision,
} from './format.ts';

/** One option (or NRB record) before encoding: its code and raw value, unpadded. */
export interface PcapngOptionValue {
  readonly code: number;
  readonly value: Uint8Array;
}

/**
 * A point in time as seconds plus a fraction in the interface's units (microseconds or nanoseconds,
 * per its TimestampPrecision): the same shape as a classic PcapRecord's timestamp.
 */
export interface PcapngTimestamp {
  readonly tsSec: number;
  readonly tsFrac: number;
}

// Option lengths are u16; a longer value cannot be written at all (we refuse rather than truncate).
const MAX_OPTION_LEN = 0xffff;
const TWO32 = 0x1_0000_0000;

const pad4 = (n: number) => (n + 3) & ~3;

/** if_tsresol for a classic pcap precision: 10^-6 or 10^-9 seconds per tick. */
export function tsresolFor(precision: TimestampPrecision): number {
  return precision === 'nsec' ? 9 : 6;
}

function unitsPerSecond(precision: TimestampPrecision): number {
  return precision === 'nsec' ? 1_000_000_000 : 1_000_000;
}

function checkU32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new RangeError(`${what} must be an integer in 0..2^32-1, got ${v}`);
}

// Writes sec * unitsPerSec + frac as the EPB/ISB 64-bit tick count: the upper 32 bits, then the lower
// 32, each a u32 LE. Plain number arithmetic stays exact (every intermediate < 2^53) for any u32
// second count, so the per-packet path needs no BigInt; larger values take the BigInt path.
function writeTicks(b: Buffer, off: number, ts: PcapngTimestamp, precision: TimestampPrecision): void {
  const { tsSec, tsFrac } = ts;
  if (!Number.isInteger(tsSec) || !Number.isInteger(tsFrac) || tsSec < 0 || tsFrac < 0) {
    throw new RangeError(`timestamp must be non-negative integers, got ${tsSec}.${tsFrac}`);
  }
  const units = unitsPerSecond(precision);
  let hi: number;
  let lo: number;
  if (tsSec <= 0xffffffff && tsFrac <= 0xffffffff) {
    const x = Math.floor(tsSec / 65536) * units; // < 2^46
    const y = (tsSec % 65536) * units + (x % 65536) * 65536 + tsFrac; // < 2^47
    hi = Math.floor(x / 65536) + Math.floor(y / TWO32);
    lo = y % TWO32;
  } else {
    const ticks = BigInt(tsSec) * BigInt(units) + BigInt(tsFrac);
    if (ticks >= 1n << 64n) throw new RangeError(`timestamp ${tsSec}.${tsFrac} does not fit 64 bits of ticks`);
    hi = Number(ticks >> 32n);
    lo = Number(ticks & 0xffffffffn);
  }
  b.writeUInt32LE(hi, off);
  b.writeUInt32LE(lo, off + 4);
}

/** The timestamp of a wall-clock time in milliseconds (Date.now()), in the given precision. */
export function timestampFromMillis(ms: number, precision: TimestampPrecision): PcapngTimestamp {
  const tsSec = Math.floor(ms / 1000);
  const fracMs = ms - tsSec * 1000;
  return { tsSec, tsFrac: Math.round((fracMs * unitsPerSecond(precision)) / 1000) };
}

// UTF-8 of a string option. Readers stop strings at a zero octet (the spec says they MUST), so a NUL
// inside would silently cut the text: refuse it instead.
function utf8(what: string, text: string): Buffer {
  if (text.includes('\0')) throw new RangeError(`${what} must not contain a NUL character`);
  return Buffer.from(text, 'utf8');
}

/** A string option (comments, names, descriptions): UTF-8, not zero-terminated. */
export function stringOption(code: number, text: string): PcapngOptionValue {
  return { code, value: utf8(`option ${code}`, text) };
}

/** A u64 option (counters, speeds) in the file's byte order (little-endian). */
export function u64Option(code: number, value: number | bigint): PcapngOptionValue {
  const v = BigInt(value);
  if (v < 0n || v >= 1n << 64n)
    throw new RangeError(`option ${code} must fit an unsigned 64-bit integer, got ${value}`);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return { code, value: b };
}

/** A timestamp option (isb_starttime, isb_endtime): upper then lower 32 bits of the ticks, like an EPB. */
export function timestampOption(code: number, ts: PcapngTimestamp, precision: TimestampPrecision): PcapngOptionValue {
  const b = Buffer.alloc(8);
  writeTicks(b, 0, ts, precision);
  return { code, value: b };
}

/** One opt_comment per string: Wireshark shows them as frame/interface/capture comments. */
export function commentOptions(comments: readonly string[] | undefined): PcapngOptionValue[] {
  return (comments ?? []).map((c) => stringOption(PcapngOption.comment, c));
}

// Type-length-value entries, each value padded to 4 bytes with zeros. Used for option lists and
// for NRB records, which share the layout.
function encodeTlvs(entries: readonly PcapngOptionValue[], terminator: boolean): Buffer {
  let len = terminator ? 4 : 0;
  for (const e of entries) {
    if (e.value.length > MAX_OPTION_LEN)
      throw new RangeError(`option ${e.code} is ${e.value.length} bytes; at most ${MAX_OPTION_LEN} fit`);
    len += 4 + pad4(e.value.length);
  }
  const b = Buffer.alloc(len); // zero-filled: padding and the terminator are zeros
  let off = 0;
  for (const e of entries) {
    b.writeUInt16LE(e.code, off);
    b.writeUInt16LE(e.value.length, off + 2);
    b.set(e.value, off + 4);
    off += 4 + pad4(e.value.length);
  }
  return b;
}

/** An option list ending in opt_endofopt; empty (no terminator either) when there are no options. */
export function encodeOptions(options: readonly PcapngOptionValue[]): Buffer {
  return options.length === 0 ? Buffer.alloc(0) : encodeTlvs(options, true);
}

/** Frames a block body: type, total length, the body padded to 4 bytes, total length again. */
export function pcapngBlock(type: number, ...body: readonly Uint8Array[]): Buffer {
  const bodyLen = body.reduce((n, p) => n + p.length, 0);
  const total = 12 + pad4(bodyLen);
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  let off = 8;
  for (const p of body) {
    b.set(p, off);
    off += p.length;
  }
  b.writeUInt32LE(total, total - 4);
  return b;
}

/** What the Section Header Block says about the writer. */
export interface SectionHeaderInput {
  /** shb_hardware, e.g. the client's CPU or "x86_64". */
  hardware?: string;
  /** shb_os, e.g. "Linux 6.1.0". */
  os?: string;
  /** shb_userappl, e.g. "kubectl-netns 0.1.0". */
  userAppl?: string;
  comments?: readonly string[];
}

/** The Section Header Block that starts the file: version 1.0, section length -1 (not known up front). */
export function sectionHeaderBlock(input: SectionHeaderInput = {}): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(PCAPNG_BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  // -1: a streamed file cannot know its section's length; readers then walk the blocks.
  fixed.writeBigInt64LE(-1n, 8);
  const opts: PcapngOptionValue[] = [...commentOptions(input.comments)];
  if (input.hardware !== undefined) opts.push(stringOption(ShbOption.hardware, input.hardware));
  if (input.os !== undefined) opts.push(stringOption(ShbOption.os, input.os));
  if (input.userAppl !== undefined) opts.push(stringOption(ShbOption.userAppl, input.userAppl));
  return pcapngBlock(PcapngBlockType.SHB, fixed, encodeOptions(opts));
}

/** One capture interface: for us, one pod's interface as one tcpdump saw it. */
export interface InterfaceDescriptionInput {
  /** LINKTYPE_* of the packets (the pcap header's linkType). */
  linkType: number;
  /** The pcap header's snaplen; 0 means no limit. */
  snaplen: number;
  /** Unit of the fractions in this interface's EPB/ISB timestamps; written as if_tsresol. */
  precision: TimestampPrecision;
  /** if_name, e.g. "shop/web-7d9/eth0": Wireshark's frame.interface_name. */
  name?: string;
  /** if_description, e.g. "pod shop/web-7d9 on node n1, container app, IP 10.1.2.3". */
  description?: string;
  /** if_filter as a libpcap filter expression (the tcpdump filter), e.g. "tcp port 80". */
  filter?: string;
  /** if_os: the node's operating system, which may differ from the SHB's (the client's). */
  os?: string;
  /** if_hardware, e.g. "veth peer of cali1234 on n1". */
  hardware?: string;
  comments?: readonly string[];
}

/** An Interface Description Block; its position among the file's IDBs (from 0) is its interface id. */
export function interfaceDescriptionBlock(input: InterfaceDescriptionInput): Buffer {
  if (!Number.isInteger(input.linkType) || input.linkType < 0 || input.linkType > 0xffff) {
    throw new RangeError(`link type must be an integer in 0..65535, got ${input.linkType}`);
  }
  checkU32('snaplen', input.snaplen);
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(input.linkType, 0);
  // bytes 2..3 reserved, zero
  fixed.writeUInt32LE(input.snaplen, 4);
  const opts: PcapngOptionValue[] = [...commentOptions(input.comments)];
  if (input.name !== undefined) opts.push(stringOption(IdbOption.name, input.name));
  if (input.description !== undefined) opts.push(stringOption(IdbOption.description, input.description));
  // Always written, even for the microsecond default, so nobody has to know the default.
  opts.push({ code: IdbOption.tsresol, value: Buffer.from([tsresolFor(input.precision)]) });
  if (input.filter !== undefined) {
    opts.push({
      code: IdbOption.filter,
      value: Buffer.concat([Buffer.from([IfFilterKind.libpcapString]), utf8('if_filter', input.filter)]),
    });
  }
  if (input.os !== undefined) opts.push(stringOption(IdbOption.os, input.os));
  if (input.hardware !== undefined) opts.push(stringOption(IdbOption.hardware, input.hardware));
  return pcapngBlock(PcapngBlockType.IDB, fixed, encodeOptions(opts));
}

/** The IDB input that describes a classic pcap stream's packets (link type, snaplen, precision). */
export function interfaceFromPcapHeader(
  header: PcapHeader,
  extra: Omit<InterfaceDescriptionInput, 'linkType' | 'snaplen' | 'precision'> = {},
): InterfaceDescriptionInput {
  return { ...extra, linkType: header.linkType, snaplen: header.snaplen, precision: header.precision };
}

/** One packet for an Enhanced Packet Block. */
export interface EnhancedPacketInput extends PcapngTimestamp {
  interfaceId: number;
  /** Packet bytes as captured (captured length = data.length). */
  data: Uint8Array;
  /** Length on the wire; defaults to data.length (not truncated). */
  origLen?: number;
  comments?: readonly string[];
}

const EPB_FIXED = 28; // type, length, interface id, ts high, ts low, caplen, origlen

/**
 * An Enhanced Packet Block. `precision` must be the one its interface's IDB declared (if_tsresol),
 * or every reader will show a wrong time.
 */
export function enhancedPacketBlock(p: EnhancedPacketInput, precision: TimestampPrecision): Buffer {
  const opts = p.comments?.length ? encodeOptions(commentOptions(p.comments)) : undefined;
  return encodeEpb(p.interfaceId, p, p.data, p.origLen ?? p.data.length, precision, opts);
}

/** The EPB for one classic pcap record on interface `interfaceId`; `precision` is the stream's (its header's). */
export function enhancedPacketBlockFromRecord(
  interfaceId: number,
  record: PcapRecord,
  precision: TimestampPrecision,
  comments?: readonly string[],
): Buffer {
  const opts = comments?.length ? encodeOptions(commentOptions(comments)) : undefined;
  return encodeEpb(interfaceId, record, record.data, record.origLen, precision, opts);
}

// The per-packet path: one allocation, the packet copied once, only the padding zeroed.
function encodeEpb(
  interfaceId: number,
  ts: PcapngTimestamp,
  data: Uint8Array,
  origLen: number,
  precision: TimestampPrecision,
  opts: Buffer | undefined,
): Buffer {
  checkU32('interface id', interfaceId);
  checkU32('original length', origLen);
  const padded = pad4(data.length);
  const optLen = opts ? opts.length : 0;
  const total = EPB_FIXED + padded + optLen + 4;
  const b = Buffer.allocUnsafe(total);
  b.writeUInt32LE(PcapngBlockType.EPB, 0);
  b.writeUInt32LE(total, 4);
  b.writeUInt32LE(interfaceId, 8);
  writeTicks(b, 12, ts, precision);
  b.writeUInt32LE(data.length, 20);
  b.writeUInt32LE(origLen, 24);
  b.set(data, EPB_FIXED);
  b.fill(0, EPB_FIXED + data.length, EPB_FIXED + padded);
  if (opts) opts.copy(b, EPB_FIXED + padded);
  b.writeUInt32LE(total, total - 4);
  return b;
}

/** An address and the names it stands for. Wireshark 4.0 shows the LAST name of a record: give one. */
export interface NameRecord {
  /** IPv4 or IPv6 address in text form, e.g. "10.1.2.3" or "fd00::5". */
  address: string;
  /** One or more names, e.g. ["web-7d9.shop"]. */
  names: readonly string[];
}

/** Options of a Name Resolution Block. */
export interface NameResolutionOptions {
  /** ns_dnsname: where the names came from, e.g. "kubernetes API". */
  dnsName?: string;
  comments?: readonly string[];
}

/** A Name Resolution Block: nrb_record_ipv4/ipv6 entries, then nrb_record_end, then options. */
export function nameResolutionBlock(records: readonly NameRecord[], options: NameResolutionOptions = {}): Buffer {
  const entries = records.map((r): PcapngOptionValue => {
    const addr = ipAddressBytes(r.address);
    if (r.names.length === 0) throw new RangeError(`name record for ${r.address} has no names`);
    // Each name is zero-terminated (unlike option strings); an empty name would read as no name.
    const names = r.names.map((n) => {
      if (n === '') throw new RangeError(`name record for ${r.address} has an empty name`);
      return Buffer.concat([utf8(`name for ${r.address}`, n), Buffer.alloc(1)]);
    });
    return {
      code: addr.length === 4 ? NrbRecordType.ipv4 : NrbRecordType.ipv6,
      value: Buffer.concat([addr, ...names]),
    };
  });
  // The record list has its own nrb_record_end (same bytes as opt_endofopt), always present.
  const recordList = encodeTlvs(entries, true);
  const opts: PcapngOptionValue[] = [...commentOptions(options.comments)];
  if (options.dnsName !== undefined) opts.push(stringOption(NrbOption.dnsName, options.dnsName));
  return pcapngBlock(PcapngBlockType.NRB, recordList, encodeOptions(opts));
}

/** Capture statistics of one interface; every counter is optional (write what the source reported). */
export interface InterfaceStatisticsInput {
  interfaceId: number;
  /** The interface's precision (as in its IDB): all three times below use it. */
  precision: TimestampPrecision;
  /** When the statistics were taken. */
  time: PcapngTimestamp;
  /** isb_starttime / isb_endtime: when capturing started and ended on this interface. */
  startTime?: PcapngTimestamp;
  endTime?: PcapngTimestamp;
  /** isb_ifrecv: packets the interface received. */
  ifRecv?: number | bigint;
  /**
   * isb_ifdrop: packets dropped for lack of resources. dumpcap puts libpcap's ps_drop (tcpdump's
   * "dropped by kernel") here, and it is the one counter Wireshark shows ("Dropped packets").
   */
  ifDrop?: number | bigint;
  /** isb_filteraccept: packets the filter accepted (tcpdump's "received by filter"). */
  filterAccept?: number | bigint;
  /** isb_osdrop: packets the OS dropped. */
  osDrop?: number | bigint;
  /** isb_usrdeliv: packets delivered to the capturing program. */
  usrDeliv?: number | bigint;
  comments?: readonly string[];
}

/**
 * An Interface Statistics Block. Wireshark 4.0 shows an interface's drops only when it has exactly
 * one ISB, so write one per interface, after its packets, rather than periodic ones.
 */
export function interfaceStatisticsBlock(input: InterfaceStatisticsInput): Buffer {
  checkU32('interface id', input.interfaceId);
  const fixed = Buffer.alloc(12);
  fixed.writeUInt32LE(input.interfaceId, 0);
  writeTicks(fixed, 4, input.time, input.precision);
  const opts: PcapngOptionValue[] = [...commentOptions(input.comments)];
  if (input.startTime) opts.push(timestampOption(IsbOption.startTime, input.startTime, input.precision));
  if (input.endTime) opts.push(timestampOption(IsbOption.endTime, input.endTime, input.precision));
  const counters = [
    [IsbOption.ifRecv, input.ifRecv],
    [IsbOption.ifDrop, input.ifDrop],
    [IsbOption.filterAccept, input.filterAccept],
    [IsbOption.osDrop, input.osDrop],
    [IsbOption.usrDeliv, input.usrDeliv],
  ] as const;
  for (const [code, value] of counters) if (value !== undefined) opts.push(u64Option(code, value));
  return pcapngBlock(PcapngBlockType.ISB, fixed, encodeOptions(opts));
}
