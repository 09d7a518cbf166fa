// `whohas` asks which namespace holds an address (or any address in a subnet). Matching goes
// through node:net's BlockList, which compares addresses, not spellings: fe80::1 and FE80:0::1
// are the same address. Pure.
import { BlockList, isIP } from 'node:net';
import type { IpAddress, NetInterface } from './iproute.ts';

export interface AddressQuery {
  /** As the user wrote it, for messages. */
  text: string;
  matches(a: IpAddress): boolean;
}

/** Parses `10.214.0.4`, `fd00::2`, or a subnet such as `10.214.0.0/24`. Throws RangeError. */
export function parseAddressQuery(text: string): AddressQuery {
  const [addr = '', bits, ...extra] = text.trim().split('/');
  const version = isIP(addr);
  if (version === 0 || extra.length > 0) throw new RangeError(`"${text}" is not an IP address or subnet`);
  const type = version === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  if (bits === undefined) {
    list.addAddress(addr, type);
  } else {
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    if (!(prefix >= 0 && prefix <= (version === 4 ? 32 : 128)))
      throw new RangeError(`"${text}" has a bad prefix length`);
    list.addSubnet(addr, prefix, type);
  }
  return {
    text,
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
