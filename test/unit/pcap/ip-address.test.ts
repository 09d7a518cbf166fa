// Address text to octets for NRB records: every IPv6 spelling people and Kubernetes use.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ipAddressBytes } from '../../../src/pcap/ip-address.ts';

describe('ipAddressBytes', () => {
  test('IPv4 and IPv6 in every compressed and dotted-tail form', () => {
    const cases: [string, string][] = [
      ['10.1.2.3', '0a010203'],
      ['255.255.255.255', 'ffffffff'],
      ['::', '00000000000000000000000000000000'],
      ['::1', '00000000000000000000000000000001'],
      ['fe80::1', 'fe800000000000000000000000000001'],
      ['2001:db8::8a2e:370:7334', '20010db80000000000008a2e03707334'],
      ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
      ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
      ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
      ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
      ['::ffff:10.1.2.3', '00000000000000000000ffff0a010203'],
      ['1::10.1.2.3', '0001000000000000000000000a010203'],
      ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ];
    for (const [text, bytes] of cases) assert.equal(ipAddressBytes(text).toString('hex'), bytes, text);
  });

  test('anything else is a RangeError, including scoped addresses', () => {
    for (const bad of ['', 'web', '1.2.3', '1.2.3.256', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', ' 10.0.0.1']) {
      assert.throws(() => ipAddressBytes(bad), RangeError, bad);
    }
  });
});
