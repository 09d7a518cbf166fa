// Which captures a set of pods needs: one per pod, except that a node's hostNetwork pods share
// one (the node's own network), and what the capture file says about each. And how one capture's
// failure stays its own, with the real agent run on this machine in place of a node's debug pod.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureTargets, WorkloadCapture } from '../../../../src/commands/shared/workload-capture.ts';
import { describeTarget, PerPodFiles, targetNames } from '../../../../src/commands/shared/target-outputs.ts';
import type { ResolvedTarget } from '../../../../src/kube/target.ts';
import { cleanupAll, localAgentExec, podUid, prerequisiteSkip, shells } from '../../../helpers/netns.ts';

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

const agentSkip = prerequisiteSkip(['busybox', 'tcpdump', 'nsenter']);
after(cleanupAll);

/** Captures whose "debug pods" run the real agent on this machine (busybox sh); OPENED gets their nodes. */
function localCaptures(
  filter: string[],
  opened: string[] = [],
  more: Partial<ConstructorParameters<typeof WorkloadCapture>[0]> = {},
): WorkloadCapture {
  const shell = shells()[0]!;
  return new WorkloadCapture(
    {
      capture: { filter },
      debugNamespace: 'kubectl-netns',
      bufferMiB: 1,
      capturesPerNode: () => 2,
      birthWaitSeconds: 1,
      durationSeconds: undefined,
      hostNetwork: false,
      limits: { maxTargets: 100, maxNodes: 100 },
      ...more,
    },
    new PerPodFiles(mkdtempSync(join(tmpdir(), 'knt-wc-')), false),
    (spec) => {
      opened.push(spec.node);
      return Promise.resolve({ session: localAgentExec(shell), close: () => Promise.resolve() });
    },
  );
}

test(
  'a capture from birth whose pod never appears fails alone, with why, and the command goes on to its end',
  { skip: agentSkip },
  async () => {
    const opened: string[] = [];
    const wc = localCaptures(['icmp', 'and', 'host', '10.231.255.255'], opened);
    // --follow arms a capture on the node (ready once the agent waits for a UID); a pod born
    // there takes it, and never shows up.
    assert.equal(await wc.arm('n1'), true);
    const [target] = captureTargets([{ ...pod('born', 'n1'), podUid: podUid() }], true);
    wc.start(target!);
    await wc.settled();
    const failures = wc.failures();
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]!.error), /no process of pod \S+ appeared on this node within 1s/);
    assert.match(wc.progress()[0]!.state, /^failed: /);
    await wc.close();
    assert.deepEqual(opened, ['n1']);
  },
);

test(
  'an armed capture whose checks fail is reported not ready, so the command does not claim it is armed',
  { skip: agentSkip },
  async () => {
    const wc = localCaptures(['nonsense', '((']);
    assert.equal(await wc.arm('n1'), false);
    await wc.close();
  },
);

/** A pod --follow saw on NODE, captured from its birth; it never appears on this machine. */
const born = (name: string, node: string) => captureTargets([{ ...pod(name, node), podUid: podUid() }], true)[0]!;

test(
  'a pod --follow adds over --max-targets or --max-nodes is not captured, with why; an ended capture frees its place',
  { skip: agentSkip },
  async () => {
    const opened: string[] = [];
    const wc = localCaptures(['icmp'], opened, { limits: { maxTargets: 1, maxNodes: 1 } });
    assert.equal(wc.start(born('a', 'n1')), undefined);
    assert.match(wc.start(born('b', 'n1')) ?? '', /^already capturing 1 pod, the most --max-targets allows$/);
    await wc.settled();
    // a ended (its pod never came): b's successor may start, but not on a second node.
    assert.match(wc.start(born('c', 'n2')) ?? '', /^already a debug pod on 1 node, the most --max-nodes allows$/);
    assert.equal(wc.start(born('d', 'n1')), undefined);
    await wc.settled();
    assert.equal(wc.refused, 2);
    assert.deepEqual(
      wc.progress().map((r) => r.label),
      ['shop/a', 'shop/d'],
    );
    await wc.close();
    assert.deepEqual(opened, ['n1']);
  },
);

test(
  'a node whose debug pod was made for two captures takes no third at once (its memory limit covers two buffers)',
  { skip: agentSkip },
  async () => {
    const wc = localCaptures(['icmp']);
    assert.equal(wc.start(born('a', 'n1')), undefined);
    assert.equal(wc.start(born('b', 'n1')), undefined);
    assert.match(wc.start(born('c', 'n1')) ?? '', /the debug pod on node n1 was made with room for 2 captures/);
    await wc.settled();
    await wc.close();
  },
);

test(
  'over a long --follow only the last ended captures keep a row; the others add up in one',
  { skip: agentSkip },
  async () => {
    const wc = localCaptures(['icmp'], [], { keepEnded: 1 });
    for (const name of ['a', 'b', 'c']) {
      const t = born(name, 'n1');
      assert.equal(wc.start(t), undefined);
      // Its pod ended: the capture's end is expected, no failure.
      wc.podEnded(t.key, 'pod ended');
      await wc.settled();
    }
    const rows = wc.progress();
    assert.deepEqual(
      rows.map((r) => [r.label, r.state]),
      [
        ['2 earlier pods', 'ended'],
        ['shop/c', 'ended: pod ended'],
      ],
    );
    assert.equal(wc.count, 3);
    assert.deepEqual(wc.failures(), []);
    await wc.close();
  },
);
