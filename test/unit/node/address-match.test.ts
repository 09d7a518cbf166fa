// whohas matching: addresses compare as addresses (any IPv6 spelling), subnets by prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { matchingAddresses, parseAddressQuery } from '../../../src/node/address-match.ts';
import { parseIpAddr } from '../../../src/node/iproute.ts';

const SCAN = readFileSync(new URL('./fixtures/scan-knetns-node.txt', import.meta.url), 'utf8');
const node = parseIpAddr(
  SCAN.split('\n')
    .find((l) => l.startsWith('ipaddr\t4026531833\t'))!
    .split('\t')[2]!,
);

test('an IPv4 address: the interface that has it, with its prefix', () => {
  const hits = matchingAddresses(node, parseAddressQuery('10.214.0.1'));
  assert.deepEqual(
    hits.map((h) => [h.iface, h.address.address, h.address.prefixlen]),
    [['knetns0', '10.214.0.1', 24]],
  );
  assert.deepEqual(matchingAddresses(node, parseAddressQuery('10.214.0.2')), []);
});

test('IPv6: other spellings of the same address match; a subnet matches every address in it', () => {
  assert.deepEqual(
    matchingAddresses(node, parseAddressQuery('FD00:0:0::2')).map((h) => h.iface),
    ['eth0'],
  );
  assert.deepEqual(
    matchingAddresses(node, parseAddressQuery('fe80::9440:91ff:fe9a:e88d')).map((h) => h.iface),
    ['veth7427248c'],
  );
  assert.deepEqual(
    matchingAddresses(node, parseAddressQuery('10.0.0.0/8')).map((h) => `${h.iface} ${h.address.address}`),
    ['knetns-node 10.213.0.1', 'knetns0 10.214.0.1'],
  );
  assert.equal(matchingAddresses(node, parseAddressQuery('fe80::/10')).length, 9);
});

test('bad queries are RangeErrors', () => {
  for (const bad of ['', 'web', '10.0.0', '10.0.0.1/33', 'fd00::/129', '10.0.0.0/8/1', '10.0.0.0/x', '::1/-1']) {
    assert.throws(() => parseAddressQuery(bad), RangeError, bad);
  }
});
