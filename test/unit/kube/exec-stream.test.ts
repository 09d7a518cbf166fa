import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { execInPod, execPath, exitCodeFromStatus, translateUpgradeError } from '../../../src/kube/exec-stream.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

test('every argv word becomes its own command= parameter, hostile characters encoded', () => {
  const path = execPath({
    namespace: 'shop',
    pod: 'netns-web-abc',
    container: 'netns',
    command: ['sh', '-c', 'echo "$1"; id', 'x', '; rm -rf /'],
    tty: false,
  });
  const url = new URL(`https://h${path}`);
  assert.equal(url.pathname, '/api/v1/namespaces/shop/pods/netns-web-abc/exec');
  assert.deepEqual(url.searchParams.getAll('command'), ['sh', '-c', 'echo "$1"; id', 'x', '; rm -rf /']);
  assert.equal(url.searchParams.get('stdin'), 'false');
  assert.equal(url.searchParams.get('stderr'), 'true');
  assert.equal(url.searchParams.get('tty'), 'false');
});

test('a TTY session merges stderr into the terminal (the API rejects both)', () => {
  const url = new URL(
    `https://h${execPath({ namespace: 'a', pod: 'b', container: 'c', command: ['bash'], tty: true, stdin: process.stdin })}`,
  );
  assert.equal(url.searchParams.get('tty'), 'true');
  assert.equal(url.searchParams.get('stderr'), 'false');
  assert.equal(url.searchParams.get('stdin'), 'true');
});

test('exit codes come from the status frame', () => {
  assert.equal(exitCodeFromStatus({ status: 'Success' }), 0);
  assert.equal(
    exitCodeFromStatus({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 7], exit code 7',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    }),
    7,
  );
  assert.throws(
    () => exitCodeFromStatus({ status: 'Failure', reason: 'InternalError', message: 'container not found ("netns")' }),
    (e: unknown) => e instanceof UserError && /container not found/.test(e.message),
  );
});

test('a refused upgrade names the missing permission or state', () => {
  const forbidden = translateUpgradeError(new Error('Unexpected server response: 403'), {
    namespace: 'shop',
    pod: 'netns-x',
  });
  assert.equal(forbidden.exitCode, ExitCode.forbidden);
  assert.match(forbidden.message, /needs "create" and "get" on "pods\/exec"/);
  assert.equal(
    translateUpgradeError(new Error('Unexpected server response: 404'), { namespace: 'a', pod: 'b' }).exitCode,
    ExitCode.notFound,
  );
  assert.equal(
    translateUpgradeError(new Error('socket hang up'), { namespace: 'a', pod: 'b' }).exitCode,
    ExitCode.connection,
  );
});

// The API server's side of a ping: a pong written into a connection we have stopped reading, which
// it gives up on, closing the stream. So a paused exec must not ping, and must not count its own
// silence as the server's. The socket is a fake standing in for the API server's websocket.
test('no ping while the output is paused for a slow reader, and no "dead connection" either', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
  const ws = new EventEmitter() as EventEmitter & { pings: number };
  let deliver: (channel: number, payload: Buffer) => void = () => {};
  Object.assign(ws, {
    pings: 0,
    protocol: 'v5.channel.k8s.io',
    bufferedAmount: 0,
    send: () => {},
    pause: () => {},
    resume: () => {},
    ping: () => ws.pings++,
    close: () => ws.emit('close', 1000),
    terminate: () => ws.emit('close', 1006),
  });
  const client = {
    server: 'https://fake',
    openExec: async (_path: string, onFrame: (c: number, p: Buffer) => void) => {
      deliver = onFrame;
      return ws;
    },
  } as unknown as Parameters<typeof execInPod>[0];
  // A reader that takes nothing until told: the first frame fills it.
  let release: () => void = () => {};
  const slow = new Writable({
    highWaterMark: 1,
    write: (_c, _e, cb) => {
      release = cb;
    },
  });
  const done = execInPod(client, { namespace: 'n', pod: 'p', container: 'c', command: ['cat'], stdout: slow });
  await new Promise((r) => setImmediate(r));
  deliver(1, Buffer.alloc(1024));
  t.mock.timers.tick(45_000);
  assert.equal(ws.pings, 0, 'pinged while paused');
  release();
  await new Promise((r) => setImmediate(r));
  t.mock.timers.tick(10_000);
  assert.equal(ws.pings, 1, 'pings again once reading');
  deliver(3, Buffer.from(JSON.stringify({ status: 'Success' })));
  ws.emit('close', 1000);
  assert.deepEqual(await done, { exitCode: 0, stdoutBytes: 1024 });
});
