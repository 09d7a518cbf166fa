// whohas matching: addresses compare as addresses (any IPv6 spelling), subnets by prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { addressHex, agentSubnets, matchingAddresses, parseAddressQuery } from '../../../src/node/address-match.ts';
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

test("addressHex: an address as the agent reads it from /proc (fib_trie's dotted quads, if_inet6's 32 digits)", () => {
  assert.equal(addressHex('10.214.0.1'), '0ad60001');
  assert.equal(addressHex('255.0.16.9'), 'ff001009');
  assert.equal(addressHex('::1'), '00000000000000000000000000000001');
  assert.equal(addressHex('::'), '0'.repeat(32));
  assert.equal(addressHex('FE80::9440:91ff:fe9a:e88d'), 'fe80000000000000944091fffe9ae88d');
  assert.equal(addressHex('fd00:0:0::2'), 'fd000000000000000000000000000002');
  assert.equal(addressHex('2001:db8:1:2:3:4:5:6'), '20010db8000100020003000400050006');
  assert.equal(addressHex('2001:db8::'), '20010db8000000000000000000000000');
  assert.equal(addressHex('::ffff:10.214.0.1'), '00000000000000000000ffff0ad60001');
  assert.equal(addressHex('fe80::1%eth0'), 'fe800000000000000000000000000001');
  assert.throws(() => addressHex('10.214.0'), RangeError);
});

test('agentSubnets: the query and its IPv4 / IPv4-mapped twin, since matches() treats them as one', () => {
  const mapped = `${'0'.repeat(20)}ffff`;
  assert.deepEqual(parseAddressQuery('10.214.0.1').subnets, ['0ad60001/32', `${mapped}0ad60001/128`]);
  assert.deepEqual(parseAddressQuery('10.214.0.0/24').subnets, ['0ad60000/24', `${mapped}0ad60000/120`]);
  assert.deepEqual(parseAddressQuery('fd00::2').subnets, ['fd000000000000000000000000000002/128']);
  assert.deepEqual(parseAddressQuery('::ffff:10.214.0.0/112').subnets, [`${mapped}0ad60000/112`, '0ad60000/16']);
  // ::/0 and ::/80 contain every IPv4-mapped address: every IPv4 address may match.
  assert.deepEqual(agentSubnets('::', 0), [`${'0'.repeat(32)}/0`, '00000000/0']);
  assert.deepEqual(agentSubnets('::', 80), [`${'0'.repeat(32)}/80`, '00000000/0']);
  assert.deepEqual(agentSubnets('fe80::', 10), ['fe800000000000000000000000000000/10']);
  // What the words promise: matches() accepts the twins as well.
  assert.ok(
    parseAddressQuery('10.214.0.0/24').matches({
      family: 'inet6',
      address: '::ffff:10.214.0.9',
      prefixlen: 128,
      scope: 'global',
    }),
  );
  assert.ok(parseAddressQuery('::/0').matches({ family: 'inet', address: '10.1.2.3', prefixlen: 8, scope: 'global' }));
});
