// Where pods of a workload may be scheduled, by the scheduler's hard rules a client can check:
// nodeName, nodeSelector, required node affinity, and taints against tolerations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node, V1PodSpec } from '../../../src/kube/client.ts';
import { DAEMONSET_TOLERATIONS, nodesForPods, podFitsNode } from '../../../src/kube/placement.ts';

function node(name: string, labels: Record<string, string> = {}, spec: V1Node['spec'] = {}): V1Node {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec };
}
const spec = (s: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [], ...s });

const cp = node(
  'cp',
  { 'node-role.kubernetes.io/control-plane': '' },
  {
    taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
  },
);
const a = node('a', { zone: 'z1', cores: '8' });
const b = node('b', { zone: 'z2', cores: '64', gpu: 'yes' });
const c = node('c', { zone: 'z1' }, { unschedulable: true });
const nodes = [cp, a, b, c];

test('without constraints: every node without an untolerated NoSchedule/NoExecute taint', () => {
  assert.deepEqual(nodesForPods(nodes, [spec()]), ['a', 'b']);
  const soft = node('d', {}, { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] });
  assert.equal(podFitsNode(spec(), soft), true);
});

test('nodeName pins one node; nodeSelector needs every label', () => {
  assert.deepEqual(nodesForPods(nodes, [spec({ nodeName: 'b' })]), ['b']);
  assert.deepEqual(nodesForPods(nodes, [spec({ nodeSelector: { 'kubernetes.io/hostname': 'a' } })]), ['a']);
  assert.deepEqual(nodesForPods(nodes, [spec({ nodeSelector: { zone: 'z1', cores: '8' } })]), ['a']);
  assert.deepEqual(nodesForPods(nodes, [spec({ nodeSelector: { zone: 'z3' } })]), []);
});

test('required node affinity: terms are ORed, expressions ANDed, every operator', () => {
  const affinity = (...terms: object[]) =>
    spec({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
    });
  const expr = (key: string, operator: string, values?: string[]) => ({
    matchExpressions: [{ key, operator, values }],
  });
  assert.deepEqual(nodesForPods(nodes, [affinity(expr('zone', 'In', ['z2']))]), ['b']);
  assert.deepEqual(nodesForPods(nodes, [affinity(expr('zone', 'NotIn', ['z2']))]), ['a']);
  assert.deepEqual(nodesForPods(nodes, [affinity(expr('gpu', 'Exists'))]), ['b']);
  assert.deepEqual(nodesForPods(nodes, [affinity(expr('gpu', 'DoesNotExist'))]), ['a']);
  assert.deepEqual(nodesForPods(nodes, [affinity(expr('cores', 'Gt', ['16']))]), ['b']);
  assert.deepEqual(nodesForPods(nodes, [affinity(expr('cores', 'Lt', ['16']))]), ['a']);
  assert.deepEqual(nodesForPods(nodes, [affinity(expr('zone', 'In', ['z2']), expr('cores', 'In', ['8']))]), ['a', 'b']);
  assert.deepEqual(
    nodesForPods(nodes, [affinity({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] })]),
    ['a'],
  );
  // An empty term matches nothing (as in Kubernetes).
  assert.deepEqual(nodesForPods(nodes, [affinity({})]), []);
});

test('tolerations: Exists with or without key, Equal with value, effect must match when given', () => {
  assert.deepEqual(nodesForPods(nodes, [spec({ tolerations: [{ operator: 'Exists' }] })]), ['a', 'b', 'c', 'cp']);
  const cpOnly = spec({
    nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
    tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
  });
  assert.deepEqual(nodesForPods(nodes, [cpOnly]), ['cp']);
  const wrongEffect = spec({
    tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoExecute' }],
  });
  assert.equal(podFitsNode(wrongEffect, cp), false);
  const dedicated = node('e', {}, { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] });
  assert.equal(podFitsNode(spec({ tolerations: [{ key: 'dedicated', value: 'db' }] }), dedicated), true);
  assert.equal(podFitsNode(spec({ tolerations: [{ key: 'dedicated', value: 'web' }] }), dedicated), false);
  // A cordoned node takes a DaemonSet's pods (its controller adds the toleration), nobody else's.
  assert.equal(podFitsNode(spec(), c), false);
  assert.equal(podFitsNode(spec({ tolerations: DAEMONSET_TOLERATIONS }), c), true);
});

test('several specs (pods of a selector): the union of their nodes', () => {
  assert.deepEqual(nodesForPods(nodes, [spec({ nodeName: 'a' }), spec({ nodeSelector: { gpu: 'yes' } })]), ['a', 'b']);
});
