// Constants and shared types of the classic pcap and pcapng file formats. No code with effects:
// everything else in src/pcap builds on these names instead of repeating magic numbers.
// References: draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng, https://www.tcpdump.org/linktypes.html

/** The first u32 of a classic pcap file as written on the writer's host (read back with that host's order). */
export const PcapMagic = {
  /** Microsecond timestamps (what `tcpdump -w` writes by default). */
  usec: 0xa1b2c3d4,
  /** Nanosecond timestamps (`tcpdump --time-stamp-precision nano`). */
  nsec: 0xa1b23c4d,
} as const;

/** Sizes of the fixed parts of a classic pcap file. */
export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

/** No sane record is larger than this; anything bigger means the stream is corrupt or desynchronised. */
export const MAX_RECORD_LEN = 256 * 1024 * 1024;

/** tcpdump's default snaplen since 4.9; files written with -s 0 carry this (or 65535 from older writers). */
export const DEFAULT_SNAPLEN = 262144;

/** pcapng block types we know by name (the spec registers more; unknown ones are skipped). */
export const PcapngBlockType = {
  /** Section Header Block; its type is a palindrome so it reads the same in both byte orders. */
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  /** Obsolete Packet Block, still written by very old tools. */
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
} as const;

/** The byte-order magic inside every SHB: reads as this value when our byte order guess is right. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** pcapng option codes used by the reader (IDB options; 0 ends the option list in every block). */
export const PcapngOption = {
  endOfOpt: 0,
  comment: 1,
  ifName: 2,
  ifDescription: 3,
  ifTsresol: 9,
  ifFcslen: 13,
  ifTsoffset: 14,
} as const;

/** Section Header Block option codes (opt_comment, code 1, is valid in every block). */
export const ShbOption = {
  hardware: 2,
  os: 3,
  userAppl: 4,
} as const;

/** Interface Description Block option codes the writer uses (the reader's subset is PcapngOption). */
export const IdbOption = {
  name: 2,
  description: 3,
  tsresol: 9,
  filter: 11,
  os: 12,
  hardware: 15,
} as const;

/** First byte of if_filter: what kind of filter follows. */
export const IfFilterKind = {
  /** A libpcap filter expression as text ("tcp port 80"). */
  libpcapString: 0,
} as const;

/** Interface Statistics Block option codes; all counters are u64 in the section's byte order. */
export const IsbOption = {
  startTime: 2,
  endTime: 3,
  ifRecv: 4,
  ifDrop: 5,
  filterAccept: 6,
  osDrop: 7,
  usrDeliv: 8,
} as const;

/** Name Resolution Block record types (records come before the NRB's options). */
export const NrbRecordType = {
  end: 0,
  ipv4: 1,
  ipv6: 2,
} as const;

/** Name Resolution Block option codes. */
export const NrbOption = {
  dnsName: 2,
  dnsIp4Addr: 3,
  dnsIp6Addr: 4,
} as const;

/** LINKTYPE_* values that matter for container networking, by their libpcap DLT name. */
export const LinkType = {
  NULL: 0,
  EN10MB: 1,
  RAW: 101,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  IPV4: 228,
  IPV6: 229,
  NETLINK: 253,
  LINUX_SLL2: 276,
} as const;
export type LinkTypeName = keyof typeof LinkType;

const linkTypeNames = new Map<number, string>(Object.entries(LinkType).map(([name, value]) => [value, name]));

/** Human name of a link type ("EN10MB", "LINUX_SLL2"), or "LINKTYPE_<n>" when we do not know it. */
export function linkTypeName(linkType: number): string {
  return linkTypeNames.get(linkType) ?? `LINKTYPE_${linkType}`;
}

/** Byte order of the file as written: 'le' for tcpdump on x86/arm64, 'be' for s390x or old SPARC. */
export type ByteOrder = 'le' | 'be';

/** Unit of a classic pcap record's fractional timestamp field. */
export type TimestampPrecision = 'usec' | 'nsec';

/** What the 24-byte global header of a classic pcap file says. */
export interface PcapHeader {
  readonly byteOrder: ByteOrder;
  readonly precision: TimestampPrecision;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snaplen: number;
  /** LINKTYPE_* value (the low 16 bits of the field, libpcap's LT_LINKTYPE). */
  readonly linkType: number;
  /** Bytes of FCS at the end of each packet, when the writer said so (upper bits of the link type field). */
  readonly fcsLen: number | undefined;
}

/** One classic pcap record. `data` is a view into the buffer it was read from, not a copy. */
export interface PcapRecord {
  readonly tsSec: number;
  /** Microseconds or nanoseconds past tsSec, per the header's precision. */
  readonly tsFrac: number;
  readonly capLen: number;
  readonly origLen: number;
  readonly data: Buffer;
}

/** Formats a timestamp as decimal epoch seconds with 9 fraction digits, as tshark's frame.time_epoch does. */
export function epochString(tsSec: number, tsFrac: number, precision: TimestampPrecision): string {
  const nanos = precision === 'usec' ? tsFrac * 1000 : tsFrac;
  return `${tsSec}.${String(nanos).padStart(9, '0')}`;
}
