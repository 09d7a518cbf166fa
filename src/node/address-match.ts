// `whohas` asks which namespace holds an address (or any address in a subnet). Matching goes
// through node:net's BlockList, which compares addresses, not spellings: fe80::1 and FE80:0::1
// are the same address. Pure.
import { BlockList, isIP } from 'node:net';
import type { IpAddress, NetInterface } from './iproute.ts';

export interface AddressQuery {
  /** As the user wrote it, for messages. */
  text: string;
  matches(a: IpAddress): boolean;
  /**
   * The query for the agent's scan --addr (HEX/BITS words): a superset of what matches() accepts,
   * so the agent can skip namespaces that cannot hold a match. BlockList compares IPv4 addresses
   * and IPv4-mapped IPv6 ones (::ffff:a.b.c.d) as the same, so each query carries both forms.
   */
  subnets: string[];
}

const MAPPED_PREFIX = `${'0'.repeat(20)}ffff`;

/** An address as lowercase hex digits: 8 for IPv4, 32 for IPv6 (a zone id is dropped). */
export function addressHex(addr: string): string {
  const bare = addr.split('%')[0]!;
  if (isIP(bare) === 4)
    return bare
      .split('.')
      .map((o) => Number(o).toString(16).padStart(2, '0'))
      .join('');
  if (isIP(bare) !== 6) throw new RangeError(`"${addr}" is not an IP address`);
  let text = bare.toLowerCase();
  // A trailing dotted quad (::ffff:10.0.0.1) is the last two groups.
  const quad = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const h = addressHex(quad[2]!);
    text = `${quad[1]}${h.slice(0, 4)}:${h.slice(4)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.map((g) => g.padStart(4, '0')).join('');
}

/** HEX/BITS words for the agent: the subnet itself and its IPv4 / IPv4-mapped twin, if any. */
export function agentSubnets(addr: string, bits: number): string[] {
  const hex = addressHex(addr);
  if (hex.length === 8) return [`${hex}/${bits}`, `${MAPPED_PREFIX}${hex}/${96 + bits}`];
  const out = [`${hex}/${bits}`];
  if (bits >= 96) {
    if (hex.startsWith(MAPPED_PREFIX)) out.push(`${hex.slice(24)}/${bits - 96}`);
  } else if (prefixBits(MAPPED_PREFIX, bits) === prefixBits(hex, bits)) {
    // The subnet contains all of ::ffff:0:0/96, so every IPv4 address may match.
    out.push('00000000/0');
  }
  return out;
}

/** The first BITS bits of a hex string, as a string of 0s and 1s. */
function prefixBits(hex: string, bits: number): string {
  return [...hex]
    .map((d) => Number.parseInt(d, 16).toString(2).padStart(4, '0'))
    .join('')
    .slice(0, bits);
}

/** Parses `10.214.0.4`, `fd00::2`, or a subnet such as `10.214.0.0/24`. Throws RangeError. */
export function parseAddressQuery(text: string): AddressQuery {
  const [addr = '', bits, ...extra] = text.trim().split('/');
  const version = isIP(addr);
  if (version === 0 || extra.length > 0) throw new RangeError(`"${text}" is not an IP address or subnet`);
  const type = version === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (bits === undefined) {
    list.addAddress(addr, type);
  } else {
    prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    if (!(prefix >= 0 && prefix <= max)) throw new RangeError(`"${text}" has a bad prefix length`);
    list.addSubnet(addr, prefix, type);
  }
  return {
    text,
    subnets: agentSubnets(addr, prefix),
    matches: (a) => {
      try {
        return list.check(a.address, a.family === 'inet' ? 'ipv4' : 'ipv6');
      } catch {
        return false;
      }
    },
  };
}

/** Each interface address that matches, as "interface" and CIDR. */
export function matchingAddresses(
  interfaces: readonly NetInterface[],
  q: AddressQuery,
): Array<{ iface: string; address: IpAddress }> {
  return interfaces.flatMap((i) =>
    i.addresses.filter((a) => q.matches(a)).map((address) => ({ iface: i.name, address })),
  );
}
