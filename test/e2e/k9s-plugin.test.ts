// deploy/k9s/kubectl-netns.yaml as k9s reads and runs it: the file is checked by k9s's own code
// (its JSON-schema validator and schemas, and its $NAME/$NAMESPACE/... expansion, built from k9s's
// sources on the Go module proxy by scripts/tools/build.sh k9s-plugin-check), and every plugin's
// command line, expanded for k9s's pod view and its container view, is run for real against the
// local cluster, as k9s runs it: the command with its arguments, no shell, in the foreground of a
// terminal (Ctrl-C is SIGINT to the whole process group; Enter returns to k9s).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  KUBECTL,
  runPod,
  waitFor,
} from '../helpers/cluster.ts';
import { DEBUG_IMAGE, PLUGIN, ROOT, WEB_IMAGE } from '../helpers/plugin.ts';

const FILE = join(ROOT, 'deploy/k9s/kubectl-netns.yaml');

interface K9sPlugin {
  shortCut: string;
  description: string;
  scopes: string[];
  command: string;
  args: string[];
  background: boolean;
  dangerous: boolean;
  confirm: boolean;
}

/** k9s-plugin-check from the tools cache, built on first use; undefined with the reason when it cannot be. */
function k9sCheck(): { path?: string; why?: string } {
  const r = spawnSync('bash', [join(ROOT, 'scripts/tools/build.sh'), 'k9s-plugin-check'], {
    encoding: 'utf8',
    timeout: 900_000,
  });
  const path = /^k9s-plugin-check=(.+)$/m.exec(r.stdout)?.[1];
  return path
    ? { path }
    : { why: `scripts/tools/build.sh k9s-plugin-check failed: ${r.stderr.trim().split('\n').at(-1)}` };
}

function guiMissing(): string | false {
  const missing = ['wireshark', 'Xvfb', 'capinfos'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
  );
  if (missing.length === 0) return false;
  const reason = `${missing.join(', ')} not installed (bash scripts/install-deps.sh installs them)`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

const tool = k9sCheck();
if (!tool.path && process.env.CI === 'true') throw new Error(tool.why);
const skip = ensureCluster() || guiMissing() || (tool.path ? false : tool.why!);

/** What k9s would run for each plugin with this view's environment: k9s's own expansion. */
function expand(env: Record<string, string>, file = FILE): { schema: string; plugins: Record<string, K9sPlugin> } {
  const out = execFileSync(tool.path!, [file, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

const ns = `e2e-k9s-${process.pid}`;
const display = `:${80 + (process.pid % 9)}`;
const work = mkdtempSync(join(tmpdir(), 'knetns-k9s-'));
const bin = join(work, 'bin');
let xvfb: ChildProcess | undefined;
let podIP = '';
let viewEnv: { pods: Record<string, string>; containers: Record<string, string> };

/** The Wireshark processes this test started (named wireshark, with our work directory as HOME). */
function ourWiresharks(): number[] {
  const found = spawnSync('pgrep', ['-x', 'wireshark'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  return found.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`HOME=${work}`);
    } catch {
      return false;
    }
  });
}

/** Runs a plugin's command as k9s does: argv, no shell, its own process group (the terminal's foreground job). */
function runAsK9s(p: K9sPlugin, cwd: string, extraEnv: Record<string, string> = {}) {
  const child = spawn(p.command, p.args, {
    cwd,
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      KUBECTL_NETNS_IMAGE: DEBUG_IMAGE, // the local cluster cannot pull the public image
      HOME: work,
      DISPLAY: display,
      XDG_RUNTIME_DIR: work,
      ...extraEnv,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  void done.then(() => clearTimeout(timer));
  return {
    child,
    done,
    out: () => stdout,
    err: () => stderr,
    async waitFor(re: RegExp, where: 'stdout' | 'stderr' = 'stderr') {
      await waitFor(
        `${re} from ${p.command} ${p.args.join(' ').slice(0, 80)}`,
        async () => (re.test(where === 'stderr' ? stderr : stdout) ? true : undefined),
        90_000,
        100,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
      });
    },
  };
}

const SCOPES = ['pods', 'containers'] as const;
const ACTIONS = [
  ['wireshark', /capture into Wireshark/],
  ['pcap', /capture to a file/],
  ['shell', /shell in the pod's network namespace/],
  ['inspect', /inspect/],
] as const;

function pluginFor(scope: (typeof SCOPES)[number], action: (typeof ACTIONS)[number]): K9sPlugin {
  const all = expand(viewEnv[scope]).plugins;
  const found = Object.values(all).filter((p) => p.scopes.includes(scope) && action[1].test(p.description));
  assert.equal(found.length, 1, `one ${action[0]} plugin for the ${scope} view`);
  return found[0]!;
}

describe('k9s plugin file', { skip, timeout: 900_000 }, () => {
  before(async () => {
    execFileSync('mkdir', ['-p', bin]);
    // `kubectl netns` as after a krew install: kubectl finds kubectl-netns on PATH.
    symlinkSync(KUBECTL, join(bin, 'kubectl'));
    writeFileSync(join(bin, 'kubectl-netns'), `#!/bin/sh\nexec '${process.execPath}' '${PLUGIN}' "$@"\n`);
    chmodSync(join(bin, 'kubectl-netns'), 0o755);
    xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    await createNamespace(ns);
    podIP = (await runPod(ns, 'web', WEB_IMAGE)).status.podIP;
    const context = execFileSync(KUBECTL, ['--kubeconfig', KUBECONFIG, 'config', 'current-context'], {
      encoding: 'utf8',
    }).trim();
    // What k9s's pod view and container view put in a plugin's environment (internal/view/helpers.go
    // k8sEnv and defaultEnv, container.go k9sEnv).
    const k8s = { CONTEXT: context, CLUSTER: context, USER: 'admin', GROUPS: 'system:masters', KUBECONFIG };
    viewEnv = {
      pods: { ...k8s, NAMESPACE: ns, NAME: 'web', 'COL-NAME': 'web', 'COL-IP': podIP },
      containers: { ...k8s, NAMESPACE: ns, POD: 'web', NAME: 'main', 'COL-NAME': 'main' },
    };
  });
  after(async () => {
    xvfb?.kill();
    for (const pid of ourWiresharks()) process.kill(pid, 'SIGKILL');
    await deleteNamespace(ns);
    rmSync(work, { recursive: true, force: true });
  });

  test("k9s's own validator accepts the file; every action is there for both views, marked dangerous, on keys of its own", () => {
    const { schema, plugins } = expand(viewEnv.pods);
    assert.equal(schema, 'plugins.json');
    for (const scope of SCOPES) {
      const mine = Object.values(plugins).filter((p) => p.scopes.includes(scope));
      for (const action of ACTIONS) pluginFor(scope, action);
      assert.ok(
        mine.every((p) => p.dangerous && !p.background),
        'dangerous (hidden in read-only mode), in the foreground',
      );
      assert.equal(new Set(mine.map((p) => p.shortCut)).size, mine.length, 'one key per action in a view');
    }
    // Not a validator that accepts anything: a misspelt key is refused by k9s's schemas.
    const broken = join(work, 'broken.yaml');
    writeFileSync(
      broken,
      'plugins:\n  x:\n    shortCut: Shift-W\n    descripton: typo\n    scopes: [pods]\n    command: kubectl\n',
    );
    assert.throws(() => expand(viewEnv.pods, broken), /description is required/);
  });

  for (const scope of SCOPES) {
    describe(`the ${scope} view`, () => {
      test('inspect: the report of the pod (through the pager)', async () => {
        const r = runAsK9s(pluginFor(scope, ACTIONS[3]), work, { PAGER: 'cat' });
        assert.equal(await r.done, 0, r.err());
        assert.match(r.out(), new RegExp(`Pod:\\s+${ns}/web`));
        assert.match(r.out(), new RegExp(`Pod IP:\\s+${podIP.replace(/\./g, '\\.')}`));
        assert.deepEqual(debugPods(ns), []);
      });

      test("shell: commands run in the pod's network namespace", async () => {
        const r = runAsK9s(pluginFor(scope, ACTIONS[2]), work);
        r.child.stdin.end('ip -o -4 addr show\nexit\n');
        assert.equal(await r.done, 0, r.err());
        assert.match(r.out(), new RegExp(`inet ${podIP.replace(/\./g, '\\.')}/`));
        assert.deepEqual(debugPods(ns), []);
      });

      test('capture to a file: Ctrl-C stops it, the file is in the directory k9s runs in, Enter returns', async () => {
        const cwd = mkdtempSync(join(work, 'pcap-'));
        const r = runAsK9s(pluginFor(scope, ACTIONS[1]), cwd);
        await r.waitFor(/capturing on/);
        for (let i = 0; i < 3; i++) await httpGet(`http://${podIP}:8080/index.html?k9s=${i}`);
        await delay(1000);
        process.kill(-r.child.pid!, 'SIGINT');
        await r.waitFor(/press Enter to return to k9s/, 'stdout');
        r.child.stdin.end('\n');
        assert.equal(await r.done, 0, r.err());
        const files = readdirSync(cwd).filter((f) => f.endsWith('.pcap'));
        assert.equal(files.length, 1, `${readdirSync(cwd).join(' ')}\n${r.err()}`);
        const info = execFileSync('capinfos', ['-c', '-M', join(cwd, files[0]!)], { encoding: 'utf8' });
        assert.ok(Number(/Number of packets:\s+(\d+)/.exec(info)?.[1]) >= 6, info);
        assert.deepEqual(debugPods(ns), []);
      });

      test('capture into Wireshark: Wireshark starts on the live capture; closing it ends the capture', async () => {
        const r = runAsK9s(pluginFor(scope, ACTIONS[0]), work);
        await r.waitFor(/capturing on/);
        const ws = await waitFor('Wireshark to start', async () => ourWiresharks()[0], 60_000, 200);
        await httpGet(`http://${podIP}:8080/index.html?k9s-ws`);
        process.kill(ws, 'SIGTERM');
        await r.waitFor(/press Enter to return to k9s/, 'stdout');
        r.child.stdin.end('\n');
        assert.equal(await r.done, 0, r.err());
        assert.match(r.err(), /to Wireshark/);
        assert.deepEqual(ourWiresharks(), []);
        assert.deepEqual(debugPods(ns), []);
      });
    });
  }
});
