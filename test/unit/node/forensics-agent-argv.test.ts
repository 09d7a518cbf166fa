// The argv of the agent's forensics ops: scan, netinfo and capture --host-side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentScript, captureArgv, netinfoArgv, scanArgv } from '../../../src/node/agent.ts';

const head = ['sh', '-c', agentScript(), 'kubectl-netns'];

test('scanArgv takes nothing; netinfoArgv a pid and, for -o wide/json, --sockets', () => {
  assert.deepEqual(scanArgv(), [...head, 'scan']);
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
  assert.match(header, /^#\s+scan$/m);
  assert.match(header, /^#\s+netinfo --pid PID \[--sockets\]$/m);
  assert.match(header, /--host-side/);
});
