// The fields of a captured packet that `path` correlates on: addresses and ports (which NAT may
// rewrite) and the fields that survive NAT and routing (IPv4 ID, TCP sequence and acknowledgement
// numbers and flags, ICMP echo sequence, lengths, a hash of the payload). Pure; never throws.
import { createHash } from 'node:crypto';
import { LinkType } from '../pcap/format.ts';

export type Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';

export interface PacketFields {
  version: 4 | 6;
  src: string;
  dst: string;
  protocol: Protocol;
  /** IP protocol number (next header for IPv6). */
  ipProto: number;
  /** IPv4 identification; undefined for IPv6. */
  ipId: number | undefined;
  /** Ports (TCP, UDP) or the ICMP echo identifier as the source "port" (NAT rewrites it like one). */
  srcPort: number | undefined;
  dstPort: number | undefined;
  tcp: { seq: number; ack: number; flags: number } | undefined;
  icmp: { type: number; code: number; seq: number | undefined } | undefined;
  /** Transport payload length per the IP header (not the captured length). */
  payloadLength: number;
  /** Hash of the captured payload's first PAYLOAD_HASH_BYTES; '' when there is no payload. */
  payloadHash: string;
  /** Some of the payload's first PAYLOAD_HASH_BYTES were not captured (short snaplen). */
  payloadTruncated: boolean;
  /** A later IP fragment (no transport header). */
  fragment: boolean;
}

export const TcpFlags = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** Payload bytes hashed: enough to tell packets apart, little enough to be captured at every hop. */
export const PAYLOAD_HASH_BYTES = 128;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = [0x8100, 0x88a8];

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}
function u32(b: Uint8Array, o: number): number {
  return (
    (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0
  );
}

/** [etherType, offset of the network header] for the link types tcpdump gives us, or undefined. */
function network(linkType: number, b: Uint8Array): [number, number] | undefined {
  switch (linkType) {
    case LinkType.EN10MB: {
      if (b.length < 14) return undefined;
      let type = u16(b, 12);
      let off = 14;
      while (ETH_VLAN.includes(type) && b.length >= off + 4) {
        type = u16(b, off + 2);
        off += 4;
      }
      return [type, off];
    }
    case LinkType.LINUX_SLL:
      return b.length < 16 ? undefined : [u16(b, 14), 16];
    case LinkType.LINUX_SLL2:
      return b.length < 20 ? undefined : [u16(b, 0), 20];
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6: {
      const v = (b[0] ?? 0) >> 4;
      return v === 4 ? [ETH_IPV4, 0] : v === 6 ? [ETH_IPV6, 0] : undefined;
    }
    default:
      return undefined;
  }
}

function ipv4Text(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text, as Kubernetes and `ip` print IPv6 addresses. */
export function ipv6Text(b: Uint8Array, o: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(u16(b, o + i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function hashPayload(b: Uint8Array, off: number, len: number): { hash: string; truncated: boolean } {
  if (len <= 0) return { hash: '', truncated: false };
  const want = Math.min(len, PAYLOAD_HASH_BYTES);
  const have = Math.max(0, Math.min(want, b.length - off));
  const hash = createHash('sha1')
    .update(b.subarray(off, off + have))
    .digest('base64')
    .slice(0, 12);
  return { hash, truncated: have < want };
}

function transport(f: PacketFields, b: Uint8Array, off: number, l4Len: number): void {
  const p = f.ipProto;
  let payloadOff = off;
  let payloadLen: number;
  if (p === 6 && b.length >= off + 14) {
    f.protocol = 'tcp';
    f.srcPort = u16(b, off);
    f.dstPort = u16(b, off + 2);
    f.tcp = { seq: u32(b, off + 4), ack: u32(b, off + 8), flags: (b[off + 13] as number) & 0x3f };
    const hdr = ((b[off + 12] as number) >> 4) * 4;
    payloadOff = off + hdr;
    payloadLen = Math.max(0, l4Len - hdr);
  } else if (p === 17 && b.length >= off + 8) {
    f.protocol = 'udp';
    f.srcPort = u16(b, off);
    f.dstPort = u16(b, off + 2);
    payloadOff = off + 8;
    payloadLen = Math.max(0, l4Len - 8);
  } else if ((p === 1 || p === 58) && b.length >= off + 4) {
    f.protocol = p === 1 ? 'icmp' : 'icmpv6';
    const type = b[off] as number;
    const echo = p === 1 ? type === 8 || type === 0 : type === 128 || type === 129;
    f.icmp = { type, code: b[off + 1] as number, seq: echo && b.length >= off + 8 ? u16(b, off + 6) : undefined };
    // An echo's identifier is what NAT rewrites, like a port; it is the flow's "source port".
    if (echo && b.length >= off + 8) f.srcPort = f.dstPort = u16(b, off + 4);
    payloadOff = off + (echo ? 8 : 4);
    payloadLen = Math.max(0, l4Len - (echo ? 8 : 4));
  } else {
    payloadLen = Math.max(0, l4Len);
  }
  f.payloadLength = payloadLen;
  const h = hashPayload(b, payloadOff, payloadLen);
  f.payloadHash = h.hash;
  f.payloadTruncated = h.truncated;
}

/** The correlation fields of a frame of LINKTYPE, or undefined for anything but IPv4/IPv6. */
export function decodeFields(linkType: number, data: Uint8Array): PacketFields | undefined {
  const net = network(linkType, data);
  if (!net) return undefined;
  const [type, off] = net;
  const b = data;
  const base = {
    protocol: 'other' as Protocol,
    srcPort: undefined,
    dstPort: undefined,
    tcp: undefined,
    icmp: undefined,
    payloadLength: 0,
    payloadHash: '',
    payloadTruncated: false,
    fragment: false,
  };
  if (type === ETH_IPV4) {
    if (b.length < off + 20 || (b[off] as number) >> 4 !== 4) return undefined;
    const ihl = ((b[off] as number) & 0x0f) * 4;
    const total = u16(b, off + 2);
    const f: PacketFields = {
      ...base,
      version: 4,
      src: ipv4Text(b, off + 12),
      dst: ipv4Text(b, off + 16),
      ipProto: b[off + 9] as number,
      ipId: u16(b, off + 4),
    };
    // A GSO frame captured before segmentation may say total length 0.
    const l4Len = (total === 0 ? b.length - off : total) - ihl;
    if ((u16(b, off + 6) & 0x1fff) !== 0) f.fragment = true;
    else transport(f, b, off + ihl, l4Len);
    return f;
  }
  if (type === ETH_IPV6) {
    if (b.length < off + 40) return undefined;
    let next = b[off + 6] as number;
    let o = off + 40;
    let remaining = u16(b, off + 4) || b.length - o;
    const f: PacketFields = {
      ...base,
      version: 6,
      src: ipv6Text(b, off + 8),
      dst: ipv6Text(b, off + 24),
      ipProto: next,
      ipId: undefined,
    };
    // Hop-by-hop, routing, destination options, fragment.
    while ((next === 0 || next === 43 || next === 60 || next === 44) && b.length >= o + 8) {
      const len = next === 44 ? 8 : ((b[o + 1] as number) + 1) * 8;
      if (next === 44 && (u16(b, o + 2) & 0xfff8) !== 0) f.fragment = true;
      next = b[o] as number;
      o += len;
      remaining -= len;
    }
    f.ipProto = next;
    if (!f.fragment) transport(f, b, o, remaining);
    return f;
  }
  return undefined;
}
