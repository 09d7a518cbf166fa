import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detachedCaptureOptions, groupByPod } from '../../../../src/commands/shared/detach-start.ts';
import { planCapture, type CaptureArgs } from '../../../../src/commands/capture.ts';
import type { ResolvedTarget } from '../../../../src/kube/target.ts';

const target = (pod: string, node: string, namespace = 'shop'): ResolvedTarget => ({
  namespace,
  pod,
  podUid: '0b0e3c5e-1c55-4bb0-9b8e-1d1a1c2f3e4d',
  node,
  podIP: '10.1.2.3',
  container: 'app',
  containerIds: ['abc123'],
  runtime: 'containerd',
  hostNetwork: false,
  object: {},
  via: undefined,
  warnings: [],
});

test('one debug pod per node and debug namespace', () => {
  const t = [target('a', 'n1'), target('b', 'n1'), target('c', 'n2'), target('d', 'n1', 'other')];
  assert.deepEqual(
    groupByPod(t, undefined).map((g) => [g.node, g.namespace, g.targets.map((x) => x.pod)]),
    [
      ['n1', 'shop', ['a', 'b']],
      ['n2', 'shop', ['c']],
      ['n1', 'other', ['d']],
    ],
  );
  assert.deepEqual(
    groupByPod(t, 'debug').map((g) => [g.node, g.targets.length]),
    [
      ['n1', 3],
      ['n2', 1],
    ],
  );
});

test("a detached capture's agent options: its spool directory named by its capture id, the target in the meta, no stream", () => {
  const plan = planCapture({
    target: 'web',
    interface: 'auto',
    'buffer-size': 32,
    'max-targets': 5,
    'max-nodes': 5,
    wireshark: false,
    overwrite: false,
    detach: true,
    duration: '10m',
    'spool-size': '4MB',
    filter: 'udp port 53',
  } as CaptureArgs);
  const o = detachedCaptureOptions(plan, target('web', 'n1'), '7f3a9c21-0');
  assert.equal(o.id, '7f3a9c21-0');
  assert.equal(o.spool?.dir, '/spool/7f3a9c21-0');
  assert.deepEqual(o.spool?.meta, ['target shop/web']);
  assert.equal(o.durationSeconds, 600);
  assert.deepEqual(o.filter, ['udp port 53']);
  assert.equal('reconnectMs' in o, false);
});
