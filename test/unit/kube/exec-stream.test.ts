import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execPath, exitCodeFromStatus, translateUpgradeError } from '../../../src/kube/exec-stream.ts';
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
