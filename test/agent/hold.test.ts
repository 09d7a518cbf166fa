// The debug pod's dead man's switch, with the real shells and real processes: the pod's main
// process (MAIN_SCRIPT) runs only while a client holds it through the agent's `hold` op, whose
// stdin is the client's connection. Closing that stdin (the client exits, is killed, or loses
// its connection) ends the main process; a client that never holds it is given up on.
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { HELD_FILE, MAIN_PID_FILE, MAIN_SCRIPT } from '../../src/kube/debug-pod.ts';
import { holdArgv } from '../../src/node/agent.ts';
import {
  cleanupAll,
  installAgentHere,
  isAlive,
  prerequisiteSkip,
  shells,
  track,
  type Shell,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['busybox', 'dash']);

/** Starts ARGV (['sh', '-c', script, $0, ...] or the agent's ['sh', PATH, op]) with SHELL's sh; stdin is a pipe we hold. */
function start(shell: Shell, argv: string[]): ChildProcess & { exited: Promise<number | null> } {
  installAgentHere();
  const [cmd, ...pre] = shell.argv as [string, ...string[]];
  const child = track(spawn(cmd, [...pre, ...argv.slice(1)], { env: shell.env, stdio: ['pipe', 'ignore', 'pipe'] }));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return Object.assign(child, { exited });
}

/** Resolves with how long PROMISE took, or rejects after MS. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<number> {
  const t0 = Date.now();
  const timer = delay(ms).then(() => {
    throw new Error(`${what} did not happen within ${ms} ms`);
  });
  await Promise.race([promise, timer]);
  return Date.now() - t0;
}

afterEach(() => {
  rmSync(MAIN_PID_FILE, { force: true });
  rmSync(HELD_FILE, { force: true });
});

describe('the hold on a debug pod', { skip, concurrency: false }, () => {
  after(cleanupAll);
  for (const shell of shells()) {
    describe(shell.name, () => {
      test('without a hold the main process gives up after the attach window', async () => {
        const main = start(shell, ['sh', '-c', MAIN_SCRIPT, 'kubectl-netns-debug', '2', '600']);
        const ms = await within(10_000, main.exited, 'the main process ending');
        assert.equal(await main.exited, 0);
        assert.ok(ms >= 1500, `waited ${ms} ms for a hold`);
      });

      test('held, it stays; when the hold stdin closes, the main process ends at once', async () => {
        const main = start(shell, ['sh', '-c', MAIN_SCRIPT, 'kubectl-netns-debug', '2', '600']);
        await delay(300);
        const hold = start(shell, holdArgv());
        // Past the attach window, still running: the hold counts.
        await delay(3500);
        assert.ok(isAlive(main.pid!), 'the held main process runs past the attach window');
        hold.stdin!.end(); // what the client closing (or dying, or losing its connection) looks like here
        await within(5000, main.exited, 'the main process ending after the hold closed');
        await within(5000, hold.exited, 'the hold op ending');
        assert.equal(await hold.exited, 0);
      });

      test('a killed client (its end of the pipe closed by the kernel) also ends the main process', async () => {
        const main = start(shell, ['sh', '-c', MAIN_SCRIPT, 'kubectl-netns-debug', '30', '600']);
        await delay(300);
        // The client is a separate process holding the pipe; SIGKILL it and the pipe's write end closes.
        const client = track(spawn('sleep', ['600'], { stdio: ['ignore', 'pipe', 'ignore'] }));
        const [cmd, ...pre] = shell.argv as [string, ...string[]];
        const hold = track(
          spawn(cmd, [...pre, ...holdArgv().slice(1)], { env: shell.env, stdio: [client.stdout!, 'ignore', 'pipe'] }),
        );
        const holdExited = new Promise((r) => hold.once('exit', r));
        await delay(500);
        assert.ok(isAlive(main.pid!));
        client.kill('SIGKILL');
        await within(5000, main.exited, 'the main process ending after the client was killed');
        await within(5000, holdExited, 'the hold op ending');
      });
    });
  }
});
