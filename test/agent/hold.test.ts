// The debug pod's dead man's switch, with the real shells and real processes: the pod's main
// process (MAIN_SCRIPT) runs only while a client holds it through the agent's `hold` op, whose
// stdin is the client's connection. When that stdin closes (the client exits, is killed, or loses
// its connection) the main process waits its reconnect window for a new hold, then ends; a client
// that never holds it is given up on; a detached pod stays until its deadline.
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { DETACHED_FILE, HELD_PREFIX, MAIN_SCRIPT, RELEASED_FILE, WAS_HELD_FILE } from '../../src/kube/debug-pod.ts';
import { detachArgv, holdArgv } from '../../src/node/agent.ts';
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
  rmSync(DETACHED_FILE, { force: true });
  rmSync(RELEASED_FILE, { force: true });
  rmSync(WAS_HELD_FILE, { force: true });
  for (const f of readdirSync('/tmp')) if (`/tmp/${f}`.startsWith(HELD_PREFIX)) rmSync(`/tmp/${f}`, { force: true });
});

/** Whether a hold op has marked the pod held (its file, named by its PID). */
const heldNow = () => readdirSync('/tmp').some((f) => `/tmp/${f}`.startsWith(HELD_PREFIX));

/** The pod's main process: ATTACH seconds for the first hold, RECONNECT for a new one, DEADLINE in all. */
const main = (shell: Shell, attach: number, reconnect: number, deadline = 600) =>
  start(shell, ['sh', '-c', MAIN_SCRIPT, 'kubectl-netns-debug', String(attach), String(reconnect), String(deadline)]);

describe('the hold on a debug pod', { skip, concurrency: false }, () => {
  after(cleanupAll);
  for (const shell of shells()) {
    describe(shell.name, () => {
      test('without a hold the main process gives up after the attach window', async () => {
        const m = main(shell, 2, 30);
        const ms = await within(10_000, m.exited, 'the main process ending');
        assert.equal(await m.exited, 0);
        assert.ok(ms >= 1500, `waited ${ms} ms for a hold`);
      });

      test('held, it stays; when the hold ends it waits the reconnect window, then ends', async () => {
        const m = main(shell, 2, 3);
        await delay(300);
        const hold = start(shell, holdArgv());
        // Past the attach window, still running: the hold counts.
        await delay(3000);
        assert.ok(isAlive(m.pid!), 'the held main process runs past the attach window');
        hold.stdin!.end(); // what the client closing (or dying, or losing its connection) looks like here
        await within(5000, hold.exited, 'the hold op ending');
        assert.equal(await hold.exited, 0);
        await delay(1500);
        assert.ok(isAlive(m.pid!), 'within the reconnect window the pod waits for its client');
        const ms = await within(6000, m.exited, 'the main process ending after the reconnect window');
        assert.ok(ms >= 500, `ended ${ms} ms later`);
      });

      test('a client that is done says release: the pod ends at once, not after the window', async () => {
        const m = main(shell, 2, 30);
        await delay(300);
        const hold = start(shell, holdArgv());
        await delay(1500);
        hold.stdin!.end('release\n');
        const ms = await within(4000, m.exited, 'the main process ending after release');
        assert.ok(ms < 3000, `ended ${ms} ms after the release`);
        assert.equal(await hold.exited, 0);
      });

      test('a client that comes back within the window holds the pod again', async () => {
        const m = main(shell, 2, 4);
        await delay(300);
        const first = start(shell, holdArgv());
        await delay(800);
        first.stdin!.end(); // the connection broke
        await within(5000, first.exited, 'the first hold ending');
        await delay(1500);
        const again = start(shell, holdArgv()); // the client reconnected
        await delay(6000);
        assert.ok(isAlive(m.pid!), 'held again, the pod stays past the window');
        again.stdin!.end();
        await within(8000, m.exited, 'the main process ending once the second hold is gone');
      });

      test('a killed client (its end of the pipe closed by the kernel) ends the main process after the window', async () => {
        const m = main(shell, 30, 2);
        await delay(300);
        // The client is a separate process holding the pipe; SIGKILL it and the pipe's write end closes.
        const client = track(spawn('sleep', ['600'], { stdio: ['ignore', 'pipe', 'ignore'] }));
        const [cmd, ...pre] = shell.argv as [string, ...string[]];
        installAgentHere();
        const hold = track(
          spawn(cmd, [...pre, ...holdArgv().slice(1)], { env: shell.env, stdio: [client.stdout!, 'ignore', 'pipe'] }),
        );
        const holdExited = new Promise((r) => hold.once('exit', r));
        // The main process looks once a second: held for longer than that, it has seen the hold.
        await delay(1500);
        assert.ok(isAlive(m.pid!));
        client.kill('SIGKILL');
        await within(5000, holdExited, 'the hold op ending');
        await within(6000, m.exited, 'the main process ending after the client was killed');
      });

      test('a hold shorter than one check (a client killed right after its capture started) still ends the pod after the reconnect window, not the attach window', async () => {
        const m = main(shell, 60, 2);
        await delay(300);
        const hold = start(shell, holdArgv());
        // As soon as it has marked the pod held (the main process checks once a second).
        for (let t = 0; t < 500 && !heldNow(); t++) await delay(5);
        assert.ok(heldNow(), 'the hold marked the pod');
        hold.stdin!.end(); // gone within the second the main process sleeps between checks
        await within(5000, hold.exited, 'the hold op ending');
        await within(6000, m.exited, 'the main process ending after the reconnect window');
      });

      test('a detached pod stays without a hold until its own deadline', async () => {
        const m = main(shell, 2, 1, 5);
        await delay(300);
        const d = start(shell, detachArgv());
        assert.equal(await d.exited, 0);
        await delay(3000);
        assert.ok(isAlive(m.pid!), 'detached: no hold needed past the attach window');
        const ms = await within(8000, m.exited, 'the main process ending at its deadline');
        assert.ok(ms >= 500);
      });
    });
  }
});
