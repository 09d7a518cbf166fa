// The Wireshark extcap with Debian's real tshark, on the local cluster: `wireshark-extcap install`
// into the personal extcap folder of a new HOME, then tshark lists the kubeconfig's context as an
// interface and captures the web pod's HTTP traffic through it, with the options given as tshark
// preferences (-o extcap.<interface>.<option>:<value>). tshark stops the extcap as Wireshark
// does (SIGTERM); the debug pod is gone when tshark exits. The GUI check is
// scripts/wireshark-extcap-gui.ts, run at the end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
  kubectl,
  runPod,
  waitFor,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, ROOT, runPlugin, WEB_IMAGE } from '../helpers/plugin.ts';

/** The Wireshark tools must be here; in CI their absence is a failure (ensureCluster covers the cluster). */
function toolsSkip(tools: string[]): string | false {
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length === 0) return false;
  const reason = `${missing.join(', ')} not installed (bash scripts/install-deps.sh installs them)`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

const skip = ensureCluster() || toolsSkip(['tshark', 'capinfos']);
const ns = `e2e-extcap-${process.pid}`;
const home = mkdtempSync(join(tmpdir(), 'knetns-extcap-home-'));
const env = { PATH: process.env.PATH, HOME: home, KUBECONFIG, TMPDIR: home };
let iface = '';
const podIPs: string[] = [];

/** tshark with our HOME, so it finds the launcher in that HOME's personal extcap folder. */
function tshark(args: string[]): ChildProcess {
  return spawn('tshark', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `-o extcap.<interface>.<option>:<value>`, the way Wireshark saves our options. */
function prefs(options: Record<string, string>): string[] {
  return Object.entries(options).flatMap(([k, v]) => ['-o', `extcap.${iface}.${k}:${v}`]);
}

/** HTTP GETs to the web pods every 300 ms until STOP says so (at most 400). */
async function traffic(stop: () => boolean, tag: string): Promise<void> {
  for (let i = 0; i < 400 && !stop(); i++) {
    await Promise.all(podIPs.map((ip) => httpGet(`http://${ip}:8080/index.html?${tag}=${i}`).catch(() => {})));
    await delay(300);
  }
}

/** Field values of the packets in FILE that match FILTER, as tshark reads them. */
function fields(file: string, filter: string, field: string): string[] {
  return execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', field], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .split('\n')
    .filter(Boolean);
}

describe('Wireshark extcap with tshark', { skip, timeout: 900_000 }, () => {
  before(async () => {
    await createNamespace(ns);
    for (const name of ['web', 'web2']) {
      const pod = await runPod(ns, name, WEB_IMAGE, { labels: { app: 'web' } });
      podIPs.push(pod.status.podIP as string);
    }
    const r = await runPlugin(['wireshark-extcap', 'install'], { env });
    assert.equal(r.code, 0, r.stderr);
    iface = /\[(kubectl_netns_\w+)\]/.exec(r.stderr)?.[1] ?? '';
  });
  after(async () => {
    await runPlugin(['wireshark-extcap', 'uninstall'], { env });
    await deleteNamespace(ns);
    rmSync(home, { recursive: true, force: true });
  });

  test('tshark -D lists the kubeconfig context as an interface', () => {
    const listed = execFileSync('tshark', ['-D'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
    const context = kubectl(['config', 'current-context']).trim();
    assert.match(
      listed,
      new RegExp(`^\\d+\\. ${iface} \\(Kubernetes pods: ${context} \\(kubectl-netns, current context\\)\\)$`, 'm'),
    );
  });

  test("tshark -i <interface> -a duration:5 captures the web pod's HTTP traffic; no debug pod remains", async () => {
    const out = join(home, 'web.pcapng');
    const child = tshark([
      '-i',
      iface,
      ...prefs({ namespace: ns, pod: 'web', image: DEBUG_IMAGE }),
      '-a',
      'duration:5',
      '-w',
      out,
    ]);
    let exited = false;
    const done = collect(child).finally(() => (exited = true));
    await traffic(() => exited, 'single');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Error by extcap pipe: ./, r.stderr);
    // Stopping waited for us: tcpdump stopped, the file finished, the debug pod deleted.
    assert.deepEqual(debugPods(ns), []);
    const uris = fields(out, 'http.request', 'http.request.uri');
    assert.ok(
      uris.some((u) => u.startsWith('/index.html?single=')),
      uris.join(' '),
    );
    assert.deepEqual([...new Set(fields(out, 'http.request', 'ip.dst'))], [podIPs[0]]);
    assert.match(execFileSync('capinfos', ['-E', out], { encoding: 'utf8' }), /Ethernet/);
  });

  test('a label selector: every matching pod into one pcapng, each pod its own interface', async () => {
    const out = join(home, 'selector.pcapng');
    const child = tshark([
      '-i',
      iface,
      ...prefs({ namespace: ns, pod: 'web', selector: 'app=web', image: DEBUG_IMAGE }),
      '-a',
      'duration:6',
      '-w',
      out,
    ]);
    let exited = false;
    const done = collect(child).finally(() => (exited = true));
    await traffic(() => exited, 'selector');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(debugPods(ns), []);
    assert.deepEqual([...new Set(fields(out, 'http.request', 'ip.dst'))].sort(), [...podIPs].sort());
    const names = new Set(fields(out, 'http.request', 'frame.interface_name'));
    assert.equal(names.size, 2, [...names].join(', '));
  });

  test("a capture that cannot start says why in tshark's own error line, and leaves no debug pod", async () => {
    const child = tshark([
      '-i',
      iface,
      ...prefs({ namespace: ns, pod: 'nope', image: DEBUG_IMAGE }),
      '-a',
      'duration:30',
    ]);
    const r = await collect(child);
    assert.match(r.stderr, /Error by extcap pipe: error: .*"nope".*not found/);
    assert.deepEqual(debugPods(ns), []);
  });

  test("Stop requested twice (ours, then tshark's own SIGTERM): the debug pod is still deleted before the extcap exits", async () => {
    const child = tshark([
      '-i',
      iface,
      ...prefs({ namespace: ns, pod: 'web', image: DEBUG_IMAGE }),
      '-w',
      join(home, 'twice.pcapng'),
    ]);
    const done = collect(child);
    await waitFor('the debug pod to run', async () => (debugPods(ns).length > 0 ? true : undefined));
    const extcap = Number(
      execFileSync('pgrep', ['-P', String(child.pid), '-f', 'wireshark-extcap run -- --capture'], {
        encoding: 'utf8',
      }).trim(),
    );
    // Our SIGTERM stops the capture; tshark, seeing the capture end, sends its own.
    process.kill(extcap, 'SIGTERM');
    await waitFor('the extcap to exit', async () => (existsSync(`/proc/${extcap}`) ? undefined : true), 60_000, 100);
    assert.deepEqual(debugPods(ns), []);
    child.kill('SIGTERM');
    await done;
  });

  test('a hard kill of the extcap: its debug pod stops by itself; cleanup removes what is left', async (t) => {
    const child = tshark([
      '-i',
      iface,
      ...prefs({ namespace: ns, pod: 'web', image: DEBUG_IMAGE }),
      '-w',
      join(home, 'killed.pcapng'),
    ]);
    const done = collect(child);
    const phase = (pod: string) =>
      kubectl(['get', 'pod', '-n', ns, pod, '-o', 'jsonpath={.status.phase}', '--ignore-not-found']).trim();
    const pod = await waitFor('the debug pod to run', async () => {
      const running = debugPods(ns)
        .map((p) => p.split('/')[1]!)
        .find((p) => phase(p) === 'Running');
      return running;
    });
    // The extcap is tshark's child (the launcher execs kubectl-netns); dumpcap is the other one.
    const extcap = Number(
      execFileSync('pgrep', ['-P', String(child.pid), '-f', 'wireshark-extcap run -- --capture'], {
        encoding: 'utf8',
      }).trim(),
    );
    assert.ok(extcap > 0);
    process.kill(extcap, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor(
      'the debug pod to stop running',
      async () => (phase(pod) === 'Running' ? undefined : true),
      120_000,
      100,
    );
    t.diagnostic(`debug pod stopped running ${Date.now() - killedAt} ms after its extcap was SIGKILLed`);
    child.kill('SIGTERM');
    await done;
    const cleanup = await runPlugin(['cleanup', '-n', ns], { env });
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.deepEqual(debugPods(ns), []);
  });

  test(
    'the real Wireshark GUI captures from the interface (scripts/wireshark-extcap-gui.ts)',
    { skip: toolsSkip(['wireshark', 'Xvfb', 'xwd', 'convert']) },
    () => {
      const shot = join(home, 'gui.png');
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts/wireshark-extcap-gui.ts'), '--screenshot', shot], {
        encoding: 'utf8',
        env: { ...process.env, KUBECONFIG },
        timeout: 300_000,
      });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(execFileSync('identify', [shot], { encoding: 'utf8' }), /PNG \d+x\d+/);
    },
  );
});
