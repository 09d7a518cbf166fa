// Where pods that --follow waits for may be scheduled: a workload's pod template; for a selector or
// a service, the pods that match now, less the node the scheduler picked for controller-made ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient, V1Pod, V1PodSpec } from '../../../src/kube/client.ts';
import { DAEMONSET_TOLERATIONS } from '../../../src/kube/placement.ts';
import { resolveTargets, schedulingSpec } from '../../../src/kube/targets.ts';

const template: V1PodSpec = { containers: [{ name: 'web' }], nodeSelector: { 'kubernetes.io/hostname': 'n2' } };

function pod(name: string, controlled: boolean, nodeName = 'n1'): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      ownerReferences: controlled
        ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs', controller: true }]
        : [],
    },
    spec: { containers: [{ name: 'web' }], nodeName, tolerations: [{ key: 't', operator: 'Exists' }] },
    status: { phase: 'Pending' },
  };
}

/** A client that knows one Deployment, one DaemonSet and a few pods (the fake stands for the API server). */
const client = {
  readWorkload: async (kind: string) => ({ selector: 'app=web', podSpec: kind === 'job' ? undefined : template }),
  listPods: async () => [pod('web-a', true), pod('bare', false)],
} as unknown as KubeClient;

test('a workload: its template; a DaemonSet also gets the tolerations its controller adds', async () => {
  const deploy = await resolveTargets(client, {
    refs: [{ kind: 'deployment', name: 'web' }],
    namespace: 'shop',
    allNamespaces: false,
  });
  assert.deepEqual(deploy.follow[0]!.podSpecs, [template]);
  const ds = await resolveTargets(client, {
    refs: [{ kind: 'daemonset', name: 'agent' }],
    namespace: 'shop',
    allNamespaces: false,
  });
  assert.deepEqual(ds.follow[0]!.podSpecs[0]!.tolerations, DAEMONSET_TOLERATIONS);
  // No template (or none readable): the pods that match now.
  const job = await resolveTargets(client, {
    refs: [{ kind: 'job', name: 'migrate' }],
    namespace: 'shop',
    allNamespaces: false,
  });
  assert.equal(job.follow[0]!.podSpecs.length, 2);
});

test('a selector: the matching pods, a controller-made pod without the node it was put on', async () => {
  const set = await resolveTargets(client, { refs: [], selector: 'app=web', namespace: 'shop', allNamespaces: false });
  const [made, bare] = set.follow[0]!.podSpecs;
  assert.equal(made!.nodeName, undefined);
  assert.deepEqual(made!.tolerations, [{ key: 't', operator: 'Exists' }]);
  assert.equal(bare!.nodeName, 'n1');
  assert.equal(schedulingSpec(pod('x', true)).nodeName, undefined);
});
