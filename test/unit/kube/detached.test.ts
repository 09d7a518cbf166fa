import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDetachedId, newDetachedId, podDeadline, podRuns } from '../../../src/kube/detached.ts';
import type { V1Pod } from '../../../src/kube/client.ts';

test('IDs are 8 hex digits; anything else is a usage error (exit 2) before it reaches a label selector', () => {
  assert.match(newDetachedId(), /^[0-9a-f]{8}$/);
  assert.equal(checkDetachedId('7f3a9c21'), '7f3a9c21');
  for (const bad of ['7F3A9C21', '7f3a9c2', 'x,app=web', '7f3a9c21 ', '']) {
    assert.throws(
      () => checkDetachedId(bad),
      (e: Error & { exitCode?: number }) => e.exitCode === 2,
      bad,
    );
  }
});

test("a pod's deadline is its start plus activeDeadlineSeconds; only a running pod's spools can be read", () => {
  const pod = (phase: string, deleting = false): V1Pod => ({
    metadata: {
      creationTimestamp: new Date('2026-12-07T06:00:00Z'),
      ...(deleting ? { deletionTimestamp: new Date() } : {}),
    },
    spec: { containers: [], activeDeadlineSeconds: 3690 },
    status: { phase, startTime: new Date('2026-12-07T06:00:02Z') },
  });
  assert.equal(podDeadline(pod('Running'))?.toISOString(), '2026-12-07T07:01:32.000Z');
  assert.equal(podRuns(pod('Running')), true);
  assert.equal(podRuns(pod('Running', true)), false);
  assert.equal(podRuns(pod('Failed')), false);
});
