import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTarget, parseTarget, pickPod, selectContainer } from '../../../src/kube/target.ts';
import { splitContainerId } from '../../../src/node/container-id.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';
import type { V1Pod } from '../../../src/kube/client.ts';

function pod(
  over: Partial<{
    name: string;
    phase: string;
    ready: boolean;
    created: string;
    containers: string[];
    statuses: object[];
    annotations: Record<string, string>;
    hostNetwork: boolean;
    os: string;
  }> = {},
): V1Pod {
  const containers = over.containers ?? ['app'];
  return {
    metadata: {
      name: over.name ?? 'web-1',
      namespace: 'shop',
      uid: '11111111-2222-3333-4444-555555555555',
      creationTimestamp: new Date(over.created ?? '2026-01-01T00:00:00Z'),
      annotations: over.annotations,
    },
    spec: {
      nodeName: 'node-a',
      containers: containers.map((name) => ({ name })),
      hostNetwork: over.hostNetwork,
      os: over.os ? { name: over.os } : undefined,
    },
    status: {
      phase: over.phase ?? 'Running',
      podIP: '10.0.0.5',
      conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
      containerStatuses:
        (over.statuses as never) ??
        containers.map((name) => ({
          name,
          ready: true,
          restartCount: 0,
          image: 'x',
          imageID: 'x',
          containerID: `containerd://${name}0123abcdef`,
          state: { running: {} },
        })),
    },
  };
}

function rejects(fn: () => unknown, code: number, re: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof UserError && err.exitCode === code && re.test(err.message));
}

test('targets: plain name, kind/name with kubectl aliases', () => {
  assert.deepEqual(parseTarget('web-7d9'), { kind: 'pod', name: 'web-7d9' });
  assert.deepEqual(parseTarget('pod/web'), { kind: 'pod', name: 'web' });
  assert.deepEqual(parseTarget('deploy/web'), { kind: 'deployment', name: 'web' });
  assert.deepEqual(parseTarget('deployment.apps/web'), { kind: 'deployment', name: 'web' });
  assert.deepEqual(parseTarget('sts/db'), { kind: 'statefulset', name: 'db' });
  assert.deepEqual(parseTarget('ds/agent'), { kind: 'daemonset', name: 'agent' });
  assert.deepEqual(parseTarget('rs/web-abc'), { kind: 'replicaset', name: 'web-abc' });
  assert.deepEqual(parseTarget('job/migrate'), { kind: 'job', name: 'migrate' });
});

test('targets: unknown kinds and invalid names are usage errors', () => {
  rejects(() => parseTarget('cm/web'), ExitCode.usage, /unsupported target kind "cm"/);
  rejects(() => parseTarget('Web'), ExitCode.usage, /not a valid pod name/);
  rejects(() => parseTarget('pod/'), ExitCode.usage, /not a valid pod name/);
  rejects(() => parseTarget('a;rm -rf'), ExitCode.usage, /not a valid/);
});

test('container: -c, else the default-container annotation, else the first', () => {
  const p = pod({ containers: ['sidecar', 'app'], annotations: { 'kubectl.kubernetes.io/default-container': 'app' } });
  assert.equal(selectContainer(p, undefined), 'app');
  assert.equal(selectContainer(p, 'sidecar'), 'sidecar');
  assert.equal(selectContainer(pod({ containers: ['one', 'two'] }), undefined), 'one');
  rejects(() => selectContainer(p, 'nope'), ExitCode.notFound, /container "nope" not found in pod "web-1"/);
});

test('describeTarget extracts node, UID and container ids without the runtime prefix', () => {
  const t = describeTarget(pod(), 'app');
  assert.equal(t.node, 'node-a');
  assert.equal(t.podUid, '11111111-2222-3333-4444-555555555555');
  assert.deepEqual(t.containerIds, ['app0123abcdef']);
  assert.equal(t.runtime, 'containerd');
  assert.deepEqual(t.warnings, []);
  assert.deepEqual(splitContainerId('cri-o://abc123'), { runtime: 'cri-o', id: 'abc123' });
  assert.deepEqual(splitContainerId('docker://deadbeef'), { runtime: 'docker', id: 'deadbeef' });
});

test('describeTarget refuses pods that are not running, Windows pods and terminated containers', () => {
  rejects(() => describeTarget(pod({ phase: 'Pending' }), 'app'), ExitCode.targetState, /is Pending, not Running/);
  rejects(() => describeTarget(pod({ phase: 'Succeeded' }), 'app'), ExitCode.targetState, /is Succeeded/);
  rejects(() => describeTarget(pod({ os: 'windows' }), 'app'), ExitCode.targetState, /Windows/);
  const done = pod({
    statuses: [
      { name: 'app', containerID: 'containerd://aa', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    ],
  });
  rejects(() => describeTarget(done, 'app'), ExitCode.targetState, /has terminated \(Completed\)/);
});

test('describeTarget warns about hostNetwork and restarting containers but proceeds', () => {
  assert.match(describeTarget(pod({ hostNetwork: true }), 'app').warnings[0]!, /hostNetwork/);
  const crash = pod({
    statuses: [
      {
        name: 'app',
        containerID: 'containerd://new1',
        lastState: { terminated: { exitCode: 1, containerID: 'containerd://old1' } },
        state: { waiting: { reason: 'CrashLoopBackOff' } },
      },
    ],
  });
  const t = describeTarget(crash, 'app');
  assert.match(t.warnings[0]!, /waiting \(CrashLoopBackOff\)/);
  assert.deepEqual(t.containerIds, ['new1', 'old1']);
});

test('pickPod prefers running+ready, then the oldest; ignores terminating pods', () => {
  const a = pod({ name: 'a', created: '2026-01-02T00:00:00Z' });
  const b = pod({ name: 'b', created: '2026-01-01T00:00:00Z' });
  const c = pod({ name: 'c', created: '2025-01-01T00:00:00Z', ready: false });
  const d = pod({ name: 'd', phase: 'Pending' });
  assert.equal(pickPod([a, b, c, d])?.metadata?.name, 'b');
  assert.equal(pickPod([c, d])?.metadata?.name, 'c');
  assert.equal(pickPod([d]), undefined);
  const gone = pod({ name: 'e' });
  gone.metadata!.deletionTimestamp = new Date();
  assert.equal(pickPod([gone]), undefined);
});

test('svc/NAME: a target kind, resolved through its EndpointSlices to the pods behind it, ready first', async () => {
  const { endpointPodNames } = await import('../../../src/kube/target.ts');
  assert.deepEqual(parseTarget('svc/web'), { kind: 'service', name: 'web' });
  assert.deepEqual(parseTarget('service/web'), { kind: 'service', name: 'web' });
  assert.deepEqual(
    endpointPodNames([
      {
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.0.0.3'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'web-3' } },
          { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-1' } },
          { addresses: ['10.0.0.9'], targetRef: { kind: 'Node', name: 'n1' } },
        ],
      },
      {
        addressType: 'IPv6',
        endpoints: [{ addresses: ['fd00::1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-1' } }],
      },
    ]),
    ['web-1', 'web-3'],
  );
});

test('container: -c may name a native sidecar (an init container with restartPolicy Always), and its id is used', () => {
  const p = pod({ containers: ['app'] });
  p.spec!.initContainers = [{ name: 'proxy', restartPolicy: 'Always' }, { name: 'migrate' }];
  p.status!.initContainerStatuses = [
    {
      name: 'proxy',
      ready: true,
      restartCount: 0,
      image: 'x',
      imageID: 'x',
      containerID: 'cri-o://proxy0123abcdef',
      state: { running: {} },
    },
  ];
  assert.equal(selectContainer(p, 'proxy'), 'proxy');
  rejects(() => selectContainer(p, 'migrate'), ExitCode.notFound, /container "migrate" not found/);
  rejects(() => selectContainer(p, 'nope'), ExitCode.notFound, /not found/);
  const t = describeTarget(p, 'proxy');
  assert.deepEqual(t.containerIds, ['proxy0123abcdef']);
  assert.equal(t.runtime, 'cri-o');
});
