// Which debug pods `cleanup` removes by default: ended ones and ones past their deadline, never a
// running one held by someone's live session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leftoverState } from '../../../src/kube/leftovers.ts';
import type { V1Pod } from '../../../src/kube/client.ts';

const now = new Date('2026-12-01T12:00:00Z');
const pod = (phase: string, startedMinutesAgo: number, deadlineSeconds = 3600): V1Pod => ({
  metadata: { name: 'netns-web-abc', creationTimestamp: new Date(now.getTime() - startedMinutesAgo * 60_000 - 1000) },
  spec: { containers: [], activeDeadlineSeconds: deadlineSeconds },
  status: { phase, startTime: new Date(now.getTime() - startedMinutesAgo * 60_000) },
});

test('ended pods (their client let go, or was killed) are leftovers', () => {
  assert.equal(leftoverState(pod('Succeeded', 5), now), 'ended');
  assert.equal(leftoverState(pod('Failed', 5), now), 'ended');
});

test('a running pod within its deadline is in use; past it (plus a minute of slack) it has expired', () => {
  assert.equal(leftoverState(pod('Running', 5), now), 'in use');
  assert.equal(leftoverState(pod('Pending', 1), now), 'in use');
  assert.equal(leftoverState(pod('Running', 60), now), 'in use', 'exactly at the deadline the kubelet is still acting');
  assert.equal(leftoverState(pod('Running', 62), now), 'expired');
});

test("a detached capture's pod before its deadline is 'detached' (cleanup keeps it even with --all); after it, expired", () => {
  const detached = (phase: string, minutes: number): V1Pod => {
    const p = pod(phase, minutes);
    p.metadata!.labels = { 'kubectl-netns.io/detached': '7f3a9c21' };
    return p;
  };
  assert.equal(leftoverState(detached('Running', 5), now), 'detached');
  assert.equal(leftoverState(detached('Running', 62), now), 'expired');
  assert.equal(leftoverState(detached('Failed', 5), now), 'ended');
});
