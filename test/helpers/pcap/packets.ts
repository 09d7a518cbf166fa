// Just enough protocol decoding to tell people what a capture contains ("3 TCP connections to
// :80, 2 GET requests") and to let tests assert on it. Not a dissector: link layer → IPv4/IPv6 →
// TCP/UDP/ICMP headers only, tolerant of truncated packets (it reports what the bytes allow).

import { Buffer } from 'node:buffer';
import { LinkType } from '../../../src/pcap/format.ts';

/** TCP flag bits as they appear in byte 13 of the TCP header. */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** The protocol a packet is counted under: the innermost layer we understood. */
export type PacketProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'arp' | 'ipv4' | 'ipv6' | 'other';

/** The header fields of one packet; fields a truncated or non-IP packet lacks are undefined. */
export interface DecodedPacket {
  protocol: PacketProtocol;
  /** EtherType of the network layer (0x0800, 0x86dd, 0x0806), when the link layer names one. */
  etherType: number | undefined;
  src: string | undefined;
  dst: string | undefined;
  /** IPv4 protocol / IPv6 next header after extension headers. */
  ipProtocol: number | undefined;
  srcPort: number | undefined;
  dstPort: number | undefined;
  tcpFlags: number | undefined;
  tcpSeq: number | undefined;
  icmpType: number | undefined;
  icmpCode: number | undefined;
  /** Offset of the TCP/UDP payload in the packet bytes. */
  payloadOffset: number | undefined;
  /** TCP/UDP payload length according to the headers (may exceed what was captured). */
  payloadLength: number | undefined;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_ARP = 0x0806;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
// IPv6 extension headers we step over to reach the transport header.
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_DEST_OPTS = 60;

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}
function u32(b: Uint8Array, o: number): number {
  return (
    (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0
  );
}

function emptyPacket(): DecodedPacket {
  return {
    protocol: 'other',
    etherType: undefined,
    src: undefined,
    dst: undefined,
    ipProtocol: undefined,
    srcPort: undefined,
    dstPort: undefined,
    tcpFlags: undefined,
    tcpSeq: undefined,
    icmpType: undefined,
    icmpCode: undefined,
    payloadOffset: undefined,
    payloadLength: undefined,
  };
}

// BSD address families seen in DLT_NULL/DLT_LOOP headers; IPv6 differs per OS, Linux uses 10.
const AF_INET = 2;
const AF_INET6 = new Set([10, 24, 28, 30]);

// Finds the network layer: returns [etherType, offset] or undefined when the link layer is unknown or cut short.
function linkLayer(linkType: number, b: Uint8Array): [number, number] | undefined {
  switch (linkType) {
    case LinkType.EN10MB: {
      if (b.length < 14) return undefined;
      let type = u16(b, 12);
      let off = 14;
      // 802.1Q / 802.1ad VLAN tags (possibly stacked, QinQ) sit between the MACs and the real type.
      while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && b.length >= off + 4) {
        type = u16(b, off + 2);
        off += 4;
      }
      return [type, off];
    }
    case LinkType.LINUX_SLL:
      return b.length >= 16 ? [u16(b, 14), 16] : undefined;
    case LinkType.LINUX_SLL2:
      return b.length >= 20 ? [u16(b, 0), 20] : undefined;
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6: {
      const version = b.length > 0 ? (b[0] as number) >> 4 : 0;
      return version === 4 ? [ETHERTYPE_IPV4, 0] : version === 6 ? [ETHERTYPE_IPV6, 0] : undefined;
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (b.length < 4) return undefined;
      // DLT_LOOP is always network order; DLT_NULL is the writer's host order, so try both.
      let family = u32(b, 0);
      if (linkType === LinkType.NULL && family > 0xffff) family = ((b[0] as number) | ((b[1] as number) << 8)) >>> 0;
      if (family === AF_INET) return [ETHERTYPE_IPV4, 4];
      if (AF_INET6.has(family)) return [ETHERTYPE_IPV6, 4];
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Formats 4 bytes as dotted-quad IPv4. */
export function formatIPv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Formats 16 bytes as an IPv6 address in RFC 5952 canonical form (what tshark and `ip` print). */
export function formatIPv6(b: Uint8Array, o: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16(b, o + i * 2));
  // ::ffff:a.b.c.d (IPv4-mapped) keeps the dotted tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIPv4(b, o + 12)}`;
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

// Fills the transport fields for the L4 header at `off`; `l4Len` is its length per the IP header.
function transport(p: DecodedPacket, b: Uint8Array, off: number, l4Len: number): void {
  const proto = p.ipProtocol;
  if (proto === IPPROTO_TCP) {
    p.protocol = 'tcp';
    if (b.length < off + 14) return;
    p.srcPort = u16(b, off);
    p.dstPort = u16(b, off + 2);
    p.tcpSeq = u32(b, off + 4);
    p.tcpFlags = b[off + 13];
    const hdrLen = ((b[off + 12] as number) >> 4) * 4;
    p.payloadOffset = off + hdrLen;
    p.payloadLength = Math.max(0, l4Len - hdrLen);
  } else if (proto === IPPROTO_UDP) {
    p.protocol = 'udp';
    if (b.length < off + 4) return;
    p.srcPort = u16(b, off);
    p.dstPort = u16(b, off + 2);
    p.payloadOffset = off + 8;
    p.payloadLength = Math.max(0, l4Len - 8);
  } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    p.protocol = proto === IPPROTO_ICMP ? 'icmp' : 'icmpv6';
    if (b.length < off + 2) return;
    p.icmpType = b[off];
    p.icmpCode = b[off + 1];
  }
}

function ipv4(p: DecodedPacket, b: Uint8Array, off: number): void {
  p.protocol = 'ipv4';
  if (b.length < off + 20) return;
  const ihl = ((b[off] as number) & 0x0f) * 4;
  const totalLen = u16(b, off + 2);
  p.ipProtocol = b[off + 9];
  p.src = formatIPv4(b, off + 12);
  p.dst = formatIPv4(b, off + 16);
  // Later fragments carry no transport header; TSO/GSO captures may have total length 0.
  const fragOffset = u16(b, off + 6) & 0x1fff;
  const l4Len = (totalLen === 0 ? b.length - off : totalLen) - ihl;
  if (fragOffset === 0) transport(p, b, off + ihl, l4Len);
  else p.protocol = p.ipProtocol === IPPROTO_TCP ? 'tcp' : p.ipProtocol === IPPROTO_UDP ? 'udp' : 'ipv4';
}

function ipv6(p: DecodedPacket, b: Uint8Array, off: number): void {
  p.protocol = 'ipv6';
  if (b.length < off + 40) return;
  p.src = formatIPv6(b, off + 8);
  p.dst = formatIPv6(b, off + 24);
  let remaining = u16(b, off + 4);
  let next = b[off + 6] as number;
  let o = off + 40;
  for (;;) {
    if (
      next === IPV6_HOP_BY_HOP ||
      next === IPV6_ROUTING ||
      next === IPV6_DEST_OPTS ||
      next === IPV6_AH ||
      next === IPV6_FRAGMENT
    ) {
      if (b.length < o + 8) {
        p.ipProtocol = next;
        return;
      }
      const len =
        next === IPV6_FRAGMENT ? 8 : next === IPV6_AH ? ((b[o + 1] as number) + 2) * 4 : ((b[o + 1] as number) + 1) * 8;
      const isLaterFragment = next === IPV6_FRAGMENT && (u16(b, o + 2) & 0xfff8) !== 0;
      next = b[o] as number;
      o += len;
      remaining -= len;
      if (isLaterFragment) {
        p.ipProtocol = next;
        return;
      }
      continue;
    }
    break;
  }
  p.ipProtocol = next;
  transport(p, b, o, remaining);
}

/** Decodes the headers of one packet of the given link type. Never throws; unknown parts stay undefined. */
export function decodePacket(linkType: number, data: Uint8Array): DecodedPacket {
  const p = emptyPacket();
  const link = linkLayer(linkType, data);
  if (!link) return p;
  const [etherType, off] = link;
  p.etherType = etherType;
  if (etherType === ETHERTYPE_IPV4) ipv4(p, data, off);
  else if (etherType === ETHERTYPE_IPV6) ipv6(p, data, off);
  else if (etherType === ETHERTYPE_ARP) p.protocol = 'arp';
  return p;
}

/** The captured part of a decoded packet's TCP/UDP payload (empty when there is none). */
export function payloadOf(p: DecodedPacket, data: Uint8Array): Uint8Array {
  if (p.payloadOffset === undefined || p.payloadLength === undefined) return data.subarray(0, 0);
  return data.subarray(p.payloadOffset, Math.min(data.length, p.payloadOffset + p.payloadLength));
}

/** Short tcpdump-style flag string: "S", "S.", "P.", "F.", "R" ('.' is ACK). */
export function tcpFlagsString(flags: number): string {
  let s = '';
  if (flags & TcpFlag.SYN) s += 'S';
  if (flags & TcpFlag.FIN) s += 'F';
  if (flags & TcpFlag.PSH) s += 'P';
  if (flags & TcpFlag.RST) s += 'R';
  if (flags & TcpFlag.URG) s += 'U';
  if (flags & TcpFlag.ECE) s += 'E';
  if (flags & TcpFlag.CWR) s += 'W';
  if (flags & TcpFlag.ACK) s += '.';
  return s || 'none';
}

/** "10.0.0.1:80", "[fd00::1]:53", or the bare address when there is no port. */
export function formatEndpoint(addr: string, port: number | undefined): string {
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Traffic between two endpoints in both directions; src is the side that opened it (SYN sender, else first seen). */
export interface Conversation {
  protocol: PacketProtocol;
  src: string;
  srcPort: number | undefined;
  dst: string;
  dstPort: number | undefined;
  packets: number;
  /** Bytes on the wire (original lengths), both directions. */
  bytes: number;
}

/** An HTTP/1.x request line seen at the start of a TCP payload. */
export interface HttpRequest {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** e.g. "GET /index.html HTTP/1.1" */
  line: string;
}

/** What a capture contains, for the short human summary and for tests. */
export interface CaptureSummary {
  packets: number;
  /** Bytes on the wire (sum of original lengths). */
  bytes: number;
  /** Packets per protocol (innermost layer understood). */
  protocols: Partial<Record<PacketProtocol, number>>;
  /** TCP SYNs without ACK: connection attempts, retransmitted ones included. */
  tcpSyns: number;
  /** Biggest first (by bytes), ties in order of appearance. */
  conversations: Conversation[];
  /** In order of appearance, retransmissions removed, at most `maxHttpRequests`. */
  httpRequests: HttpRequest[];
  /** All distinct HTTP requests seen, including those beyond the list's limit. */
  httpRequestCount: number;
}

/** Anything with packet bytes and a wire length: PcapRecord, PcapngPacket, Capture packets. */
export interface SummarizablePacket {
  readonly data: Uint8Array;
  readonly origLen: number;
  /** Selects the link type when `linkType` is a per-interface list (pcapng). */
  readonly interfaceId?: number;
}

const HTTP_REQUEST_LINE = /^(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP\/\d\.\d$/;
// A request line longer than this is not worth showing (and bounds the work per packet).
const MAX_REQUEST_LINE = 8192;

// Returns the request line when the payload starts like an HTTP/1.x request.
function httpRequestLine(payload: Uint8Array): string | undefined {
  const first = payload[0];
  if (first === undefined || first < 0x41 || first > 0x5a) return undefined; // methods are upper-case
  const limit = Math.min(payload.length, MAX_REQUEST_LINE);
  for (let i = 0; i + 1 < limit; i++) {
    if (payload[i] === 0x0d && payload[i + 1] === 0x0a) {
      const line = Buffer.from(payload.buffer, payload.byteOffset, i).toString('latin1');
      return HTTP_REQUEST_LINE.test(line) ? line : undefined;
    }
  }
  return undefined;
}

/** Summarises packets of one link type (or one per pcapng interface): protocols, SYNs, conversations, HTTP requests. */
export function summarize(
  packets: Iterable<SummarizablePacket>,
  linkType: number | readonly number[],
  opts: { maxHttpRequests?: number } = {},
): CaptureSummary {
  const maxHttp = opts.maxHttpRequests ?? 100;
  const summary: CaptureSummary = {
    packets: 0,
    bytes: 0,
    protocols: {},
    tcpSyns: 0,
    conversations: [],
    httpRequests: [],
    httpRequestCount: 0,
  };
  const conversations = new Map<string, Conversation & { order: number }>();
  const seenRequests = new Set<string>();

  for (const pkt of packets) {
    summary.packets++;
    summary.bytes += pkt.origLen;
    const lt = typeof linkType === 'number' ? linkType : linkType[pkt.interfaceId ?? 0];
    const p = lt === undefined ? emptyPacket() : decodePacket(lt, pkt.data);
    summary.protocols[p.protocol] = (summary.protocols[p.protocol] ?? 0) + 1;
    if (p.src === undefined || p.dst === undefined) continue;

    const isSyn = p.tcpFlags !== undefined && (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    if (isSyn) summary.tcpSyns++;

    // Both directions share one key: the endpoints in sorted order.
    const a = formatEndpoint(p.src, p.srcPort);
    const b = formatEndpoint(p.dst, p.dstPort);
    const key = `${p.protocol} ${a < b ? `${a} ${b}` : `${b} ${a}`}`;
    let conv = conversations.get(key);
    if (!conv) {
      conv = {
        protocol: p.protocol,
        src: p.src,
        srcPort: p.srcPort,
        dst: p.dst,
        dstPort: p.dstPort,
        packets: 0,
        bytes: 0,
        order: conversations.size,
      };
      conversations.set(key, conv);
    } else if (isSyn && (conv.src !== p.src || conv.srcPort !== p.srcPort)) {
      // The capture began mid-handshake (first saw the SYN-ACK): the SYN sender is the opener.
      conv.dst = conv.src;
      conv.dstPort = conv.srcPort;
      conv.src = p.src;
      conv.srcPort = p.srcPort;
    }
    conv.packets++;
    conv.bytes += pkt.origLen;

    if (p.protocol === 'tcp' && p.srcPort !== undefined && p.dstPort !== undefined) {
      const line = httpRequestLine(payloadOf(p, pkt.data));
      if (line !== undefined) {
        const id = `${a} ${b} ${p.tcpSeq} ${line}`;
        if (!seenRequests.has(id)) {
          seenRequests.add(id);
          summary.httpRequestCount++;
          if (summary.httpRequests.length < maxHttp) {
            summary.httpRequests.push({ src: p.src, srcPort: p.srcPort, dst: p.dst, dstPort: p.dstPort, line });
          }
        }
      }
    }
  }
  summary.conversations = [...conversations.values()]
    .sort((x, y) => y.bytes - x.bytes || x.order - y.order)
    .map(({ order: _order, ...c }) => c);
  return summary;
}
