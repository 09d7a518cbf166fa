// The dialog's pod list: workloads (from the pods' owners) first, then each running pod.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '../../../src/kube/client.ts';
import { namespaceChoices, podChoices, workloadOf } from '../../../src/extcap/pod-choices.ts';

function pod(name: string, owner?: { kind: string; name: string }, extra: Partial<V1Pod> = {}, hash?: string): V1Pod {
  return {
    metadata: {
      name,
      labels: hash ? { 'pod-template-hash': hash } : {},
      ownerReferences: owner
        ? [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'u', controller: true }]
        : [],
    },
    spec: { nodeName: 'node-a', containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: '10.1.0.7' },
    ...extra,
  };
}

test('owners name the workload: a ReplicaSet with its pod-template-hash is its Deployment', () => {
  assert.equal(workloadOf(pod('web-7d9c5-x', { kind: 'ReplicaSet', name: 'web-7d9c5' }, {}, '7d9c5')), 'deploy/web');
  assert.equal(workloadOf(pod('rs-x', { kind: 'ReplicaSet', name: 'plain-rs' })), 'rs/plain-rs');
  assert.equal(workloadOf(pod('db-0', { kind: 'StatefulSet', name: 'db' })), 'sts/db');
  assert.equal(workloadOf(pod('agent-x', { kind: 'DaemonSet', name: 'agent' })), 'ds/agent');
  assert.equal(workloadOf(pod('batch-x', { kind: 'Job', name: 'batch' })), 'job/batch');
  assert.equal(workloadOf(pod('lonely')), undefined);
});

test('workloads with their pod count first, then running pods with node and address; others left out', () => {
  const choices = podChoices([
    pod('web-7d9c5-b', { kind: 'ReplicaSet', name: 'web-7d9c5' }, {}, '7d9c5'),
    pod('web-7d9c5-a', { kind: 'ReplicaSet', name: 'web-7d9c5' }, {}, '7d9c5'),
    pod('db-0', { kind: 'StatefulSet', name: 'db' }),
    pod('done', undefined, { status: { phase: 'Succeeded' } }),
    pod('going', undefined, { metadata: { name: 'going', deletionTimestamp: new Date() } }),
    pod('hostnet', undefined, { spec: { nodeName: 'node-b', hostNetwork: true, containers: [] } }),
  ]);
  assert.deepEqual(choices, [
    { value: 'deploy/web', display: 'deploy/web (all 2 running pods)' },
    { value: 'sts/db', display: 'sts/db (all 1 running pod)' },
    { value: 'db-0', display: 'db-0 (node node-a, 10.1.0.7)' },
    { value: 'hostnet', display: 'hostnet (node node-b, 10.1.0.7, hostNetwork)' },
    { value: 'web-7d9c5-a', display: 'web-7d9c5-a (node node-a, 10.1.0.7)' },
    { value: 'web-7d9c5-b', display: 'web-7d9c5-b (node node-a, 10.1.0.7)' },
  ]);
});

test('namespaces sorted by name', () => {
  assert.deepEqual(
    namespaceChoices(['shop', 'default']).map((c) => c.value),
    ['default', 'shop'],
  );
});
