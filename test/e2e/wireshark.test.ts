// `capture --wireshark` with the real Wireshark (Debian's wireshark-qt) on a virtual display
// (Xvfb): Wireshark shows the packets live, and stays open with them after the capture ends and
// after Ctrl-C in our terminal. Only our capture stops.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createNamespace,
  debugPods,
  deleteNamespace,
  ensureCluster,
  httpGet,
  KUBECONFIG,
  runPod,
  waitFor,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, PLUGIN, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { ExitCode } from '../../src/errors.ts';

/** Wireshark and Xvfb must be here; in CI their absence is a failure (ensureCluster covers the cluster). */
function guiSkip(): string | false {
  const missing = ['wireshark', 'Xvfb'].filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return false;
  const reason = `${missing.join(' and ')} not installed (bash scripts/install-deps.sh installs them)`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

const skip = ensureCluster() || guiSkip();
const ns = `e2e-ws-${process.pid}`;
const display = `:${90 + (process.pid % 9)}`;
const home = mkdtempSync(join(tmpdir(), 'knetns-ws-home-'));
let xvfb: ChildProcess | undefined;
let podIP = '';
const started: number[] = [];

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) &&
  !/^State:\s+Z/m.test(execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }));

/** Starts the plugin with --wireshark in its own process group (as a shell runs a foreground job). */
function startWithWireshark(extra: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [PLUGIN, 'capture', 'web', '-n', ns, '--image', DEBUG_IMAGE, '--wireshark', ...extra],
    {
      env: { ...process.env, KUBECONFIG, DISPLAY: display, HOME: home, XDG_RUNTIME_DIR: home, TMPDIR: home },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
}

/** The Wireshark our plugin started (its child), once it runs. */
async function wiresharkOf(plugin: ChildProcess): Promise<number> {
  const pid = await waitFor(
    'Wireshark to start',
    async () => {
      try {
        return Number(
          execFileSync('pgrep', ['-P', String(plugin.pid), '-f', 'wireshark'], { encoding: 'utf8' })
            .trim()
            .split('\n')[0],
        );
      } catch {
        return undefined;
      }
    },
    30_000,
    200,
  );
  started.push(pid);
  return pid;
}

describe('capture --wireshark', { skip, timeout: 600_000 }, () => {
  before(async () => {
    xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    await createNamespace(ns);
    podIP = (await runPod(ns, 'web', WEB_IMAGE)).status.podIP;
  });
  after(async () => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    xvfb?.kill();
    await deleteNamespace(ns);
    rmSync(home, { recursive: true, force: true });
  });

  test('Wireshark stays open with its packets after the capture ends', async () => {
    const plugin = startWithWireshark(['--duration', '6s']);
    const done = collect(plugin);
    await waitForStderr(plugin, /capturing on/);
    const ws = await wiresharkOf(plugin);
    for (let i = 0; i < 3; i++) await httpGet(`http://${podIP}:8080/index.html?ws=${i}`);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /captured \d+ packets .* to Wireshark/);
    await delay(2000);
    assert.ok(alive(ws), 'Wireshark is still running after our capture ended');
    assert.deepEqual(debugPods(ns), []);
  });

  test('Ctrl-C in our terminal stops only the capture: Wireshark stays', async () => {
    const plugin = startWithWireshark([]);
    const done = collect(plugin);
    await waitForStderr(plugin, /capturing on/);
    const ws = await wiresharkOf(plugin);
    await httpGet(`http://${podIP}:8080/index.html?ctrl-c`);
    // The terminal sends SIGINT to its whole foreground process group.
    process.kill(-plugin.pid!, 'SIGINT');
    const r = await done;
    assert.equal(r.code, ExitCode.interrupted, r.stderr);
    await delay(2000);
    assert.ok(alive(ws), 'Wireshark did not get our Ctrl-C: it runs in its own session');
    assert.deepEqual(debugPods(ns), []);
  });
});
