// IP address text to network-order bytes, for pcapng blocks that carry raw addresses (NRB records).
// Node has no inet_pton; node:net validates the text and this turns it into octets.

import { Buffer } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';

/** The 4 (IPv4) or 16 (IPv6) octets of an address in text form; throws RangeError for anything else. */
export function ipAddressBytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  // A zone ("fe80::1%eth0") names a local interface: it means nothing in a file read elsewhere.
  if (!isIPv6(text) || text.includes('%')) throw new RangeError(`not an IP address: ${JSON.stringify(text)}`);
  // An IPv4 tail ("::ffff:10.1.2.3") is the last two 16-bit groups written in dotted form.
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = hex.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}
