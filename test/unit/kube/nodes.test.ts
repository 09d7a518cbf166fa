// Which nodes the node-wide commands search, decided from the node objects alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchable } from '../../../src/kube/nodes.ts';
import type { V1Node } from '../../../src/kube/client.ts';

test('searchable: Ready Linux nodes only, with the reason for the others', () => {
  const node = (os: string, ready: string): V1Node => ({
    metadata: { name: 'n', labels: { 'kubernetes.io/os': os } },
    status: { conditions: [{ type: 'Ready', status: ready }] },
  });
  assert.deepEqual(searchable(node('linux', 'True')), { ok: true });
  assert.deepEqual(searchable(node('windows', 'True')), { ok: false, why: 'it runs windows' });
  assert.deepEqual(searchable(node('linux', 'Unknown')), { ok: false, why: 'it is not Ready' });
});
