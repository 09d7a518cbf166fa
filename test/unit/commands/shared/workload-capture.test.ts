// Which captures a set of pods needs: one per pod, except that a node's hostNetwork pods share
// one (the node's own network), and what the capture file says about each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureTargets } from '../../../../src/commands/shared/workload-capture.ts';
import { describeTarget, targetNames } from '../../../../src/commands/shared/target-outputs.ts';
import type { ResolvedTarget } from '../../../../src/kube/target.ts';

const pod = (name: string, node: string, hostNetwork = false, ip = `10.1.0.${name.length}`): ResolvedTarget => ({
  namespace: 'shop',
  pod: name,
  podUid: `uid-${name}`,
  node,
  podIP: ip,
  container: 'app',
  containerIds: ['abc'],
  runtime: 'containerd',
  hostNetwork,
  object: { metadata: { name }, status: { podIPs: [{ ip }] } },
  via: undefined,
  warnings: [],
});

test('one capture per pod; hostNetwork pods of one node share the node capture', () => {
  const targets = captureTargets([
    pod('web-1', 'n1'),
    pod('agent-a', 'n1', true, '10.0.0.1'),
    pod('agent-b', 'n1', true, '10.0.0.1'),
    pod('agent-c', 'n2', true, '10.0.0.2'),
  ]);
  assert.deepEqual(
    targets.map((t) => [t.key, t.label, t.node, t.pods.length]),
    [
      ['uid-web-1', 'shop/web-1', 'n1', 1],
      ['host/n1', 'node/n1', 'n1', 2],
      ['host/n2', 'node/n2', 'n2', 1],
    ],
  );
  assert.match(describeTarget(targets[0]!), /^pod shop\/web-1 on node n1, container app, IP 10\.1\.0\.5$/);
  assert.match(
    describeTarget(targets[1]!),
    /node n1's own network namespace \(hostNetwork pods: shop\/agent-a, shop\/agent-b\)/,
  );
  assert.deepEqual(targetNames(targets), [
    { address: '10.1.0.5', names: ['shop/web-1'] },
    { address: '10.0.0.1', names: ['node/n1'] },
    { address: '10.0.0.2', names: ['node/n2'] },
  ]);
});
