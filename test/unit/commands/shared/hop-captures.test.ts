// What each hop's capture asks the agent for: inside the pod, the host end of its veth, or a node
// interface; the user's filter at the first hop only. Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hopCaptureOptions, hopFilter } from '../../../../src/commands/shared/hop-captures.ts';
import type { PlannedHop } from '../../../../src/path/hops.ts';

const pod = { namespace: 'shop', pod: 'web', podUid: 'u-1', containerIds: ['containerd://abc'] };
const hop = (role: PlannedHop['role'], iface: string, podIface?: string): PlannedHop => ({
  node: 'n1',
  role,
  side: 'src',
  iface,
  pod: role === 'node' ? undefined : pod,
  podIface,
  name: iface,
  description: iface,
});
const settings = {
  addressFilter: ['host', '10.1.0.4', 'or', 'host', '10.2.0.9'],
  userFilter: ['tcp', 'port', '80'],
  durationSeconds: 2.5,
  count: 100,
  bufferKiB: 4096,
  maxSpoolBytes: 1,
};

test("the user's filter goes to the first hop only, beside the ends' addresses; other hops take the addresses", () => {
  assert.deepEqual(hopFilter(settings, 0), ['(', 'tcp', 'port', '80', ')', 'and', '(', ...settings.addressFilter, ')']);
  assert.deepEqual(hopFilter(settings, 3), settings.addressFilter);
  assert.deepEqual(hopFilter({ ...settings, userFilter: [] }, 0), settings.addressFilter);
});

test('each hop role becomes its capture: in the pod, its veth host side, or the node interface; --count at the first hop', () => {
  const f = ['host', 'x'];
  assert.deepEqual(hopCaptureOptions(hop('pod', 'eth0'), f, settings, true), {
    filter: f,
    bufferKiB: 4096,
    durationSeconds: 3,
    count: 100,
    find: { podUid: 'u-1', containerIds: ['containerd://abc'] },
    iface: 'eth0',
  });
  assert.deepEqual(hopCaptureOptions(hop('veth', 'veth12', 'eth0'), f, settings, false), {
    filter: f,
    bufferKiB: 4096,
    durationSeconds: 3,
    count: undefined,
    find: { podUid: 'u-1', containerIds: ['containerd://abc'] },
    iface: 'eth0',
    hostSide: true,
  });
  assert.deepEqual(hopCaptureOptions(hop('node', 'knetns-node'), f, settings, false), {
    filter: f,
    bufferKiB: 4096,
    durationSeconds: 3,
    count: undefined,
    node: true,
    iface: 'knetns-node',
  });
});
