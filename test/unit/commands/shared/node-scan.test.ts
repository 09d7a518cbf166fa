// The multi-node plumbing of ls/whohas that needs no cluster: bounded parallelism and the pod
// facts ownership uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit, podRefs } from '../../../../src/commands/shared/node-scan.ts';
import type { V1Pod } from '../../../../src/kube/client.ts';

test('mapLimit: never more than LIMIT at once, results in input order, stops starting work once aborted', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 1, 2], 3, async (ms) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, ms * 5));
    running--;
    return ms * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 10, 20]);
  assert.equal(peak, 3);
  const ac = new AbortController();
  const started: number[] = [];
  await assert.rejects(
    mapLimit(
      [1, 2, 3, 4],
      1,
      async (n) => {
        started.push(n);
        if (n === 2) ac.abort(new Error('interrupted'));
      },
      ac.signal,
    ),
    /interrupted/,
  );
  assert.deepEqual(started, [1, 2]);
});

test('podRefs: UID, static-pod mirror UID, and every container id (current and last) without the runtime prefix', () => {
  const pod: V1Pod = {
    metadata: {
      namespace: 'kube-system',
      name: 'etcd-n1',
      uid: 'api-uid',
      annotations: { 'kubernetes.io/config.mirror': 'hash-uid' },
    },
    status: {
      containerStatuses: [
        {
          name: 'etcd',
          image: 'x',
          imageID: '',
          ready: true,
          restartCount: 1,
          containerID: 'containerd://aaa',
          lastState: { terminated: { exitCode: 1, containerID: 'containerd://bbb' } },
        },
      ],
      initContainerStatuses: [
        { name: 'init', image: 'x', imageID: '', ready: false, restartCount: 0, containerID: 'cri-o://ccc' },
      ],
    },
  };
  assert.deepEqual(podRefs([pod]), [
    {
      namespace: 'kube-system',
      name: 'etcd-n1',
      uid: 'api-uid',
      mirrorUid: 'hash-uid',
      containerIds: ['aaa', 'bbb', 'ccc'],
    },
  ]);
});
