// The argv of the agent's forensics ops: scan, netinfo and capture --host-side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureArgv, netinfoArgv, scanArgv } from '../../../src/node/agent.ts';
import { agentPath, agentScript } from '../../../src/node/agent-install.ts';

const head = ['sh', agentPath()];

test('scanArgv: everything by default, or a filter of checked words; netinfoArgv a pid and, for -o wide/json, --sockets', () => {
  assert.deepEqual(scanArgv(), [...head, 'scan']);
  assert.deepEqual(scanArgv({ subnets: ['0ad60000/24', `${'0'.repeat(20)}ffff0ad60000/120`], netns: ['4026532180'] }), [
    ...head,
    'scan',
    '--addr',
    '0ad60000/24',
    '--addr',
    `${'0'.repeat(20)}ffff0ad60000/120`,
    '--netns',
    '4026532180',
  ]);
  for (const bad of [
    '0AD60000/24',
    '0ad6000/24',
    '0ad60000/33',
    '0ad60000',
    '0ad60000/024',
    `${'0'.repeat(32)}/129`,
    '-x',
  ])
    assert.throws(() => scanArgv({ subnets: [bad] }), RangeError, bad);
  for (const bad of ['0', '01', 'net:[4026532180]', '-1', ''])
    assert.throws(() => scanArgv({ netns: [bad] }), RangeError, bad);
  assert.deepEqual(netinfoArgv({ pid: 4242, sockets: false }), [...head, 'netinfo', '--pid', '4242']);
  assert.deepEqual(netinfoArgv({ pid: 4242, sockets: true }), [...head, 'netinfo', '--pid', '4242', '--sockets']);
  for (const pid of [0, -1, 1.5, Number.NaN]) assert.throws(() => netinfoArgv({ pid, sockets: false }), RangeError);
});

test('captureArgv hostSide: --host-side before the filter; one interface, never any', () => {
  assert.deepEqual(captureArgv({ pid: 7, hostSide: true, filter: ['tcp', 'port', '80'] }), [
    ...head,
    'capture',
    '--pid',
    '7',
    '--iface',
    'auto',
    '--host-side',
    '--',
    'tcp',
    'port',
    '80',
  ]);
  assert.ok(!captureArgv({ pid: 7, filter: [] }).includes('--host-side'));
  assert.throws(() => captureArgv({ pid: 7, iface: 'any', hostSide: true, filter: [] }), RangeError);
});

test('agent.sh documents every scan record and the new ops in its header', () => {
  const header = agentScript().split('\nset -u\n')[0]!;
  for (const record of ['self', 'host', 'proc', 'mount', 'file', 'cni', 'ipaddr', 'warn', 'done', 'route', 'socket']) {
    assert.match(header, new RegExp(`^#\\s+${record} `, 'm'), record);
  }
  assert.match(header, /^#\s+scan \[--addr HEX\/BITS\]\.\.\. \[--netns NETNS\]\.\.\.$/m);
  assert.match(header, /^#\s+netinfo --pid PID \[--sockets\]$/m);
  assert.match(header, /--host-side/);
});
