// Starting a debug pod: the session installs the agent as soon as its container takes execs, without
// waiting for the watch to report Running (the kubelet reports it up to a relist later), then holds
// the pod; a pod that can never run still fails with the watch's reason, deleted, its install
// attempts stopped.
// The API is a fake that answers execs as the kubelet does before and after the container runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ExitCode, UserError } from '../../../src/errors.ts';
import type { ExecSocket, KubeClient, V1Pod } from '../../../src/kube/client.ts';
import { DebugSession } from '../../../src/kube/session.ts';
import { agentPath } from '../../../src/node/agent-install.ts';

const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;

/** A socket that answers like the API server: refused (container not found), or the hold running. */
function fakeSocket(
  onFrame: (channel: number, payload: Buffer) => void,
  runs: boolean,
  installFails = false,
): ExecSocket {
  const ws = new EventEmitter() as EventEmitter & ExecSocket;
  Object.assign(ws, {
    protocol: 'v5.channel.k8s.io',
    bufferedAmount: 0,
    // The hold's stdin closed (v5 CLOSE frame for channel 0): the agent ends, as on the node.
    send: (data: Buffer) => {
      if (data[0] !== 255) return;
      onFrame(STATUS, Buffer.from(JSON.stringify({ status: 'Success' })));
      setImmediate(() => ws.emit('close', 1000, Buffer.alloc(0)));
    },
    pause: () => {},
    resume: () => {},
    ping: () => {},
    close: () => setImmediate(() => ws.emit('close', 1000, Buffer.alloc(0))),
    terminate: () => setImmediate(() => ws.emit('close', 1006, Buffer.alloc(0))),
  });
  setImmediate(() => {
    if (runs && installFails) {
      // The installer ran and refused (e.g. an image without sha256sum): its line and exit 79.
      onFrame(STDERR, Buffer.from('kubectl-netns-agent: error: INSTALL_FAILED: the debug image has no sha256sum\n'));
      const status = {
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '79' }] },
      };
      onFrame(STATUS, Buffer.from(JSON.stringify(status)));
      ws.emit('close', 1000, Buffer.alloc(0));
      return;
    }
    if (runs) {
      onFrame(STDOUT, Buffer.from('held\n'));
      return;
    }
    const status = {
      status: 'Failure',
      message: 'Internal error occurred: unable to upgrade connection: container not found ("netns")',
    };
    onFrame(STATUS, Buffer.from(JSON.stringify(status)));
    ws.emit('close', 1000, Buffer.alloc(0));
  });
  return ws;
}

function pod(phase: string, waiting?: string): V1Pod {
  return {
    metadata: { name: 'netns-x', namespace: 'dbg' },
    spec: { containers: [{ name: 'netns', image: 'img' }] },
    status: {
      phase,
      containerStatuses: waiting
        ? [
            {
              name: 'netns',
              image: 'img',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: waiting, message: 'pull access denied' } },
            },
          ]
        : [],
    },
  };
}

/** A client whose container takes execs from the RUNS_AFTER-th attempt on; the watch emits EVENTS. */
function fakeClient(runsAfter: number, events: V1Pod[] = [], installFails = false) {
  const calls = {
    execs: 0,
    deletes: 0,
    watchStops: 0,
    graces: [] as Array<number | undefined>,
    commands: [] as string[][],
    watchers: [] as Array<(t: string, p: V1Pod) => void>,
  };
  let deleted = false;
  const client = {
    server: 'https://fake',
    createPod: async (_ns: string, p: V1Pod) => p,
    readPod: async () => {
      if (deleted) throw new UserError('not found', { exitCode: ExitCode.notFound });
      return pod('Pending');
    },
    watchPod: async (_ns: string, _n: string, onEvent: (t: string, p: V1Pod) => void) => {
      calls.watchers.push(onEvent);
      for (const e of events) setImmediate(() => onEvent('MODIFIED', e));
      return { stop: () => calls.watchStops++ };
    },
    deletePod: async (_ns: string, _n: string, grace?: number) => {
      calls.deletes++;
      calls.graces.push(grace);
      deleted = true;
    },
    openExec: async (path: string, onFrame: (c: number, p: Buffer) => void) => {
      calls.execs++;
      calls.commands.push(new URL(path, 'https://fake').searchParams.getAll('command'));
      return fakeSocket(onFrame, calls.execs > runsAfter, installFails);
    },
  } as unknown as KubeClient;
  return { client, calls };
}

const options = {
  namespace: 'dbg',
  nodeName: 'n1',
  image: 'img',
  privileged: false,
  target: undefined,
  version: 't',
  podTimeoutMs: 30_000,
};

test('the pod counts as running once the agent is installed, while the watch still says Pending; then it is held', async () => {
  const { client, calls } = fakeClient(3);
  const session = await DebugSession.open(client, options);
  assert.equal(calls.execs, 5, 'three refused installs, the one that runs, then the hold');
  const installs = calls.commands.slice(0, 4);
  for (const c of installs) assert.deepEqual(c.slice(0, 2), ['sh', '-c']);
  assert.equal(new Set(installs.map((c) => c.join(' '))).size, 1, 'the same install each time');
  assert.deepEqual(calls.commands[4], ['sh', agentPath(), 'hold']);
  assert.equal(calls.deletes, 0);
  assert.ok(calls.watchStops >= 1, 'the watch is stopped once the pod is known to run');
  await session.close(1000);
  assert.equal(calls.deletes, 1);
  assert.deepEqual(calls.graces, [undefined], 'a pod that ran ends in its own short grace period');
});

test('reportedRunning waits for the API to say Running, which may come after the session opened', async () => {
  const { client, calls } = fakeClient(0);
  const session = await DebugSession.open(client, options);
  let reported = false;
  const waiting = session.reportedRunning(5_000).then(() => (reported = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(reported, false, 'not while the API still says Pending');
  const running = pod('Running');
  running.status!.containerStatuses = [
    { name: 'netns', image: 'img', imageID: '', ready: true, restartCount: 0, state: { running: {} } },
  ];
  calls.watchers.at(-1)!('MODIFIED', running);
  await waiting;
  assert.equal(reported, true);
  await session.close(1000);
});

test('read-only work done: a pod that ran is removed at once (grace 0), not after its kubelet confirms', async () => {
  const { client, calls } = fakeClient(0);
  const session = await DebugSession.open(client, options);
  await session.close(1000, true);
  await session.close(1000);
  assert.equal(calls.deletes, 1, 'deleted once');
  assert.deepEqual(calls.graces, [0]);
});

test('a pod that cannot start fails with the watch’s reason, is deleted, and its install attempts stop', async () => {
  const { client, calls } = fakeClient(Number.POSITIVE_INFINITY, [pod('Pending', 'ErrImagePull')]);
  await assert.rejects(DebugSession.open(client, options), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /ErrImagePull/);
    return true;
  });
  assert.equal(calls.deletes, 1);
  // Nothing of ours ever ran there: removed at once, also when its node's kubelet is gone, which
  // would otherwise leave the object Terminating until that kubelet returns.
  assert.deepEqual(calls.graces, [0]);
  const attempts = calls.execs;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(calls.execs, attempts, 'no install attempt after the pod was given up');
});

test('an installer that ran and failed is final: its error and hint, the pod deleted, no retry', async () => {
  const { client, calls } = fakeClient(1, [], true);
  await assert.rejects(DebugSession.open(client, options), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, 'the debug image has no sha256sum');
    assert.equal(e.exitCode, ExitCode.agent);
    assert.match(e.hint ?? '', /sha256sum/);
    return true;
  });
  assert.equal(calls.execs, 2, 'one refused attempt, then the one that failed');
  assert.equal(calls.deletes, 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(calls.execs, 2);
});
