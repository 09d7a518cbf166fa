// The agent's `netinfo` output for the web pod (fixtures/netinfo-web.txt, captured on this machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseNetinfo } from '../../../src/node/netinfo.ts';

const NETINFO = readFileSync(new URL('./fixtures/netinfo-web.txt', import.meta.url), 'utf8');

test('parseNetinfo: routes of both families and the listening socket', () => {
  const n = parseNetinfo(NETINFO, true);
  assert.deepEqual(
    n.routes.map((r) => `${r.family} ${r.dst}`),
    ['4 10.213.0.0/24', '4 10.214.0.0/24', '6 fe80::/64'],
  );
  assert.deepEqual(n.sockets, [
    { netid: 'tcp', state: 'LISTEN', local: '*:8080', peer: '*:*', processes: [{ command: 'httpd', pid: 10167 }] },
  ]);
  assert.deepEqual(n.warnings, []);
});

test('parseNetinfo: sockets undefined unless asked for; warnings kept', () => {
  assert.equal(parseNetinfo(NETINFO, false).sockets, undefined);
  assert.deepEqual(parseNetinfo('warn\tss (iproute2) not found in the debug image: no sockets\n', true), {
    routes: [],
    sockets: [],
    warnings: ['ss (iproute2) not found in the debug image: no sockets'],
  });
});
