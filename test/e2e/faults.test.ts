// Faults, for real, on the local cluster: a disk that fills up, a reader that goes away, a
// terminal that hangs up, an API connection that is cut or goes silent, a client killed with
// SIGKILL. After each: the exit code, a capture file that tshark reads with no partial record
// (or none at all), and no debug pod left running after the documented time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createNamespace,
  debugPods,
  debugPodStates,
  deleteNamespace,
  ensureCluster,
  httpGet,
  KUBECONFIG,
  runPod,
  sendUdp,
  waitFor,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, PLUGIN, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { readPcap } from '../helpers/pcap/reader.ts';
import { startRelay } from '../helpers/relay.ts';
import { ExitCode } from '../../src/errors.ts';

const skip = ensureCluster();
const ns = `e2e-faults-${process.pid}`;
const env = { KUBECONFIG };
const dir = mkdtempSync(join(tmpdir(), 'knetns-faults-'));
const base = ['-n', ns, '--image', DEBUG_IMAGE];
let podIP = '';

/**
 * This test's debug pods that have not ended. Not "phase Running": a capture starts as soon as its
 * container takes execs, before the kubelet reports Running, so a pod killed that early is still
 * Pending in the API while it runs; only Succeeded or Failed (or gone) means it stopped.
 */
function runningDebugPods(): string[] {
  return debugPodStates(ns)
    .filter((p) => !/^(Succeeded|Failed)$/.test(p.phase))
    .map((p) => p.name);
}

/** Waits until no debug pod of this test runs, at most MS: the documented bound for that fault. */
async function noneRunningWithin(ms: number, why: string): Promise<void> {
  await waitFor(
    `no debug pod running ${why}`,
    async () => (runningDebugPods().length === 0 ? true : undefined),
    ms,
    500,
  );
}

/** A file that tshark reads, with exactly the records our reader finds and nothing after the last. */
function wholeRecords(file: string): number {
  const pcap = readPcap(readFileSync(file));
  assert.equal(pcap.truncatedBytes, 0, `${file} ends on a record boundary`);
  const tshark = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  assert.equal(tshark.status, 0, tshark.stderr);
  assert.equal(tshark.stdout.trim().split('\n').filter(Boolean).length, pcap.records.length);
  return pcap.records.length;
}

function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

describe('faults', { skip, timeout: 900_000 }, () => {
  before(async () => {
    await createNamespace(ns);
    podIP = (await runPod(ns, 'web', WEB_IMAGE)).status.podIP;
  });
  after(async () => {
    await deleteNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a full disk stops the capture with ENOSPC (exit 10) and keeps a file of whole packets', async () => {
    const mnt = join(dir, 'small');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const file = join(mnt, 'full.pcap');
      const child = startPlugin(['capture', 'web', ...base, '-o', file, '-f', 'udp port 9999', '--duration', '60s'], {
        env,
      });
      const done = collect(child);
      await waitForStderr(child, /capturing on/);
      // ~360 KB of UDP into a 64 KiB filesystem, bounded: 300 datagrams.
      await sendUdp(podIP, 300, 1200);
      const r = await done;
      assert.equal(r.code, ExitCode.output, r.stderr);
      assert.match(r.stderr, /writing .*full\.pcap failed: ENOSPC/);
      noStackTrace(r.stderr);
      const kept = Number(/kept the (\d+) complete packets/.exec(r.stderr)?.[1]);
      assert.ok(kept > 10, r.stderr);
      assert.equal(wholeRecords(file), kept, 'the file holds exactly the packets the message names');
      assert.deepEqual(
        readdirSync(mnt).filter((f) => f.endsWith('.partial')),
        [],
      );
      await noneRunningWithin(15_000, 'after a full disk');
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  test('exec | head -1: the reader leaving ends the command quietly (141) and the debug pod is deleted', async () => {
    // A real shell pipeline: head exits after one line, while the remote command keeps writing.
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"$0" "$1" exec web ${base.join(' ')} -- sh -c 'while :; do echo line; done' | head -1; echo "status=\${PIPESTATUS[0]}" >&2`,
        process.execPath,
        PLUGIN,
      ],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.stdout, 'line\n');
    assert.match(r.stderr, /status=141/);
    assert.doesNotMatch(r.stderr, /EPIPE|error:/);
    noStackTrace(r.stderr);
    assert.deepEqual(debugPods(ns), [], 'the debug pod was deleted before the command returned');
  });

  test('a hung-up terminal (SIGHUP): the capture is finished and the debug pod deleted, with stderr gone', async () => {
    const file = join(dir, 'hup.pcap');
    // script(1) gives the plugin a pty and is the only holder of its master; SIGKILL it and the
    // kernel hangs up the terminal: SIGHUP to the plugin, then EIO on every write to stderr.
    const cmd = `exec ${process.execPath} ${PLUGIN} capture web ${base.join(' ')} -o ${file}`;
    const script = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    script.stdout.on('data', (c: Buffer) => (screen += c.toString()));
    await waitFor('capturing on', async () => (/capturing on/.test(screen) ? true : undefined), 90_000, 100);
    for (let i = 0; i < 3; i++) await httpGet(`http://${podIP}:8080/index.html?hup=${i}`);
    await delay(500);
    const plugin = Number(
      execFileSync('pgrep', ['-f', '-n', `${PLUGIN} capture web -n ${ns}`], { encoding: 'utf8' }).trim(),
    );
    script.kill('SIGKILL');
    // The plugin outlives its terminal long enough to clean up, then exits.
    await waitFor('the plugin to exit', async () => (existsSync(`/proc/${plugin}`) ? undefined : true), 60_000, 200);
    assert.ok(existsSync(file), 'the capture was moved into place, not left as .partial');
    assert.ok(wholeRecords(file) >= 6, 'the three requests are in it');
    assert.deepEqual(debugPods(ns), [], 'the debug pod was deleted');
  });

  test('the API connection cut mid-capture: exit 8 within seconds; the pod ends by itself although the client could not delete it', async () => {
    const relay = await startRelay(dir);
    try {
      const file = join(dir, 'cut.pcap');
      const child = startPlugin(['capture', 'web', ...base, '-o', file], { env: { KUBECONFIG: relay.kubeconfig } });
      const done = collect(child);
      await waitForStderr(child, /capturing on/);
      await httpGet(`http://${podIP}:8080/index.html?cut=1`);
      await delay(500);
      const cutAt = Date.now();
      relay.refuse(); // the wire is cut and nothing answers any more: the client cannot clean up
      const r = await done;
      assert.equal(r.code, ExitCode.connection, r.stderr);
      assert.match(r.stderr, /connection to the API server was lost/);
      assert.ok(Date.now() - cutAt < 45_000, `reported in ${Date.now() - cutAt} ms`);
      noStackTrace(r.stderr);
      // What arrived before the cut is a whole file (or nothing at all).
      if (existsSync(file)) wholeRecords(file);
      // The hold's connection died with the rest: the pod's main process ends within seconds.
      await noneRunningWithin(20_000, 'after the connection was cut');
      const cleanup = spawnSync(process.execPath, [PLUGIN, 'cleanup', '-n', ns], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      assert.equal(cleanup.status, 0, cleanup.stderr);
      assert.deepEqual(debugPods(ns), []);
    } finally {
      relay.close();
    }
  });

  test('a half-open API connection (nothing gets through, nothing closes): detected, exit 8, not a hang', async () => {
    const relay = await startRelay(dir);
    try {
      const child = startPlugin(['capture', 'web', ...base, '-o', join(dir, 'silent.pcap')], {
        env: { KUBECONFIG: relay.kubeconfig },
      });
      const done = collect(child, 180_000);
      await waitForStderr(child, /capturing on/);
      const holeAt = Date.now();
      relay.blackhole();
      const r = await done;
      const ms = Date.now() - holeAt;
      assert.equal(r.code, ExitCode.connection, r.stderr);
      assert.match(r.stderr, /no answer from the API server for 30s/);
      // Detection (30 s of silence, pings every 10 s) plus the bounded cleanup attempts.
      assert.ok(ms < 90_000, `gave up after ${ms} ms`);
      noStackTrace(r.stderr);
    } finally {
      // The network path dies for good: the API server's side closes, and with it the hold.
      relay.close();
    }
    await noneRunningWithin(20_000, 'once the dead connection closed on the server side');
    spawnSync(process.execPath, [PLUGIN, 'cleanup', '-n', ns], { env: { ...process.env, ...env } });
  });

  test('SIGKILL of the client: its debug pod stops within seconds, cleanup removes the object', async () => {
    const file = join(dir, 'killed.pcap');
    const child = startPlugin(['capture', 'web', ...base, '-o', file], { env });
    const done = collect(child);
    await waitForStderr(child, /capturing on/);
    child.kill('SIGKILL');
    await done;
    const killedAt = Date.now();
    await noneRunningWithin(15_000, 'after the client was SIGKILLed');
    assert.ok(Date.now() - killedAt < 15_000);
    assert.ok(!existsSync(file), 'no half-written file under the final name');
    const cleanup = spawnSync(process.execPath, [PLUGIN, 'cleanup', '-n', ns], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(cleanup.status, 0, cleanup.stderr);
    assert.match(cleanup.stderr, /deleted 1 debug pod/);
    assert.deepEqual(debugPods(ns), []);
  });
});
