import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Lease, V1Pod } from '../../../src/kube/client.ts';
import { leaseStillness, takenUp } from '../../../src/kube/kubelet-liveness.ts';

const lease = (renewTime: string | undefined, leaseDurationSeconds?: number): V1Lease => ({
  metadata: { name: 'knetns-node2', namespace: 'kube-node-lease' },
  spec: {
    holderIdentity: 'knetns-node2',
    ...(leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds }),
    ...(renewTime === undefined ? {} : { renewTime: new Date(renewTime) }),
  },
});

test('a pod counts as taken up once its kubelet has written any status of its own', () => {
  // As the API server stores a pod created with spec.nodeName, before any kubelet looks at it.
  const created: V1Pod = {
    metadata: { name: 'netns-x' },
    spec: { nodeName: 'n2', containers: [] },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
  assert.equal(takenUp(created), false);
  assert.equal(takenUp({ ...created, status: undefined }), false);
  assert.equal(takenUp({ ...created, status: { phase: 'Pending', hostIP: '10.213.0.2' } }), true);
  assert.equal(takenUp({ ...created, status: { phase: 'Pending', startTime: new Date() } }), true);
  assert.equal(
    takenUp({
      ...created,
      status: { containerStatuses: [{ name: 'netns', image: 'i', imageID: '', ready: false, restartCount: 0 }] },
    }),
    true,
  );
});

test('a lease that is renewed never counts as standing still, however long we watch', () => {
  let seen = leaseStillness(undefined, lease('2026-12-01T12:00:00.000Z'), 0).seen;
  for (let i = 1; i <= 12; i++) {
    const r = leaseStillness(seen, lease(new Date(Date.UTC(2026, 11, 1, 12, 0, 10 * i)).toISOString()), i * 10_000);
    assert.equal(r.stillMs, undefined, `read ${i}`);
    seen = r.seen;
  }
});

test('a lease that stands still for two renew intervals (20 s of the default 40 s) means a stopped kubelet', () => {
  const l = lease('2026-12-01T12:00:00.000Z');
  const first = leaseStillness(undefined, l, 1_000);
  assert.equal(first.stillMs, undefined);
  assert.equal(leaseStillness(first.seen, l, 20_999).stillMs, undefined);
  assert.equal(leaseStillness(first.seen, l, 21_000).stillMs, 20_000);
  // Measured from when WE first saw that renewTime: the node's clock (renewTime itself) is never
  // compared with ours, so a skewed clock on either side cannot make a live kubelet look stopped.
  const skewed = lease('1999-01-01T00:00:00.000Z');
  assert.equal(leaseStillness(undefined, skewed, 50_000).stillMs, undefined);
});

test("the interval follows the lease's own duration, and a lease never renewed is followed the same way", () => {
  const long = lease('2026-12-01T12:00:00.000Z', 80);
  const seen = leaseStillness(undefined, long, 0).seen;
  assert.equal(leaseStillness(seen, long, 39_999).stillMs, undefined);
  assert.equal(leaseStillness(seen, long, 40_000).stillMs, 40_000);
  const never = lease(undefined);
  const s2 = leaseStillness(undefined, never, 0).seen;
  assert.equal(leaseStillness(s2, never, 20_000).stillMs, 20_000);
});
