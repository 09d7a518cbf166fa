// The Wireshark extcap in the real Wireshark GUI (Debian's wireshark-qt) on a virtual display
// (Xvfb), against the local cluster: install the launcher into a new HOME's personal extcap
// folder, start Wireshark capturing from the cluster's interface with the options preset as
// preferences (-o extcap.<interface>.<option>:<value>), send the web pod HTTP requests, take a
// screenshot with the packets listed, let Wireshark stop the capture, then check: every packet is
// in Wireshark's capture file, our extcap has exited, no debug pod is left, and Wireshark still
// shows its packets. Exit 0 when all holds. test/e2e/wireshark-extcap.test.ts runs it; the
// README's screenshot is `node scripts/wireshark-extcap-gui.ts --screenshot docs/wireshark-extcap.png`.
//
// The web pod runs on node 2 where the cluster has one (--node to choose): node 2's pods have their
// veths in node 2's own network namespace, so this machine's interface list stays as it is during
// the capture, as with a remote cluster. A pod on node 1 adds a veth to this machine's own
// namespace, and Wireshark 4.0 then rescans its interfaces and rebuilds our toolbar mid-capture
// (its log window starts empty again); the README says more.
//
// Usage: node scripts/wireshark-extcap-gui.ts [--screenshot FILE.png] [--node NODE] [--show-log] [--option NAME=VALUE]...
//   --show-log starts the capture as a person does, with the interface selected and the Start
//   button pressed, and opens the toolbar's "Debug pod log" window before the screenshot (it clicks
//   where those buttons are in Wireshark 4.0's 1280x800 window, so it is for the README's picture;
//   Wireshark 4.0 started with -k leaves the toolbar without an interface, its log button disabled).
//   --option adds a preference of our interface, e.g. --option privileged=true.
// The HTTP requests go only to the web pod's address on the cluster's own bridge on this machine.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createNamespace,
  debugPods,
  deleteNamespace,
  ensureCluster,
  httpGet,
  KUBECONFIG,
  kubectlRun,
  NODE2,
  NODE_NAME,
  runPod,
  waitFor,
} from '../test/helpers/cluster.ts';
import { DEBUG_IMAGE, WEB_IMAGE } from '../test/helpers/plugin.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    screenshot: { type: 'string' },
    'show-log': { type: 'boolean', default: false },
    node: { type: 'string' },
    option: { type: 'string', multiple: true, default: [] },
  },
});
const say = (s: string) => process.stderr.write(`==> ${s}\n`);
/** What the check found wrong; the script exits 1 with these after cleaning up. */
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  say(`${ok ? 'ok' : 'FAILED'}: ${what}`);
  if (!ok) failures.push(what);
};

for (const tool of ['wireshark', 'Xvfb', 'xwd', 'convert', 'tshark']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is not installed (bash scripts/install-deps.sh installs it)`);
  }
}
if (!existsSync(join(root, 'dist/main.js'))) throw new Error('dist/ is not built: npm run build');
const unhealthy = ensureCluster();
if (unhealthy) throw new Error(unhealthy);

const ns = `wsgui-${process.pid}`;
const home = mkdtempSync(join(tmpdir(), 'knetns-wsgui-'));
const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: home, TMPDIR: home, KUBECONFIG, XDG_CONFIG_HOME: undefined };
const screenshot = resolve(values.screenshot ?? join(tmpdir(), `kubectl-netns-wireshark-${process.pid}.png`));
const captureFile = join(home, 'capture.pcapng');
let xvfb: ChildProcess | undefined;
let wireshark: ChildProcess | undefined;

/** A display number no X server uses yet. */
function freeDisplay(): string {
  for (let n = 70 + (process.pid % 20); n < 200; n++) if (!existsSync(`/tmp/.X11-unix/X${n}`)) return `:${n}`;
  throw new Error('no free X display number');
}

/** The packets of the capture file that match FILTER, as one field each (the file may still grow). */
function fieldsOf(filter: string, field: string): string[] {
  const r = spawnSync('tshark', ['-r', captureFile, '-Y', filter, '-T', 'fields', '-e', field], {
    encoding: 'utf8',
    env,
  });
  return (r.stdout ?? '').split('\n').filter(Boolean);
}

/** Our extcap's capture process, if it runs. */
function extcapPid(): number | undefined {
  const r = spawnSync('pgrep', ['-f', `wireshark-extcap run -- --capture --extcap-interface`], { encoding: 'utf8' });
  const pids = (r.stdout ?? '').split('\n').filter(Boolean).map(Number);
  const ours = pids.find((p) => existsSync(`/proc/${p}/environ`) && readEnviron(p).includes(`HOME=${home}`));
  return ours;
}

function readEnviron(pid: number): string {
  try {
    return execFileSync('cat', [`/proc/${pid}/environ`], { encoding: 'utf8' }).replace(/\0/g, '\n');
  } catch {
    return '';
  }
}

try {
  const node =
    values.node ?? (kubectlRun(['get', 'node', NODE2.name, '-o', 'name']).code === 0 ? NODE2.name : NODE_NAME);
  say(`namespace ${ns} and a web pod on node ${node} of the local cluster`);
  await createNamespace(ns);
  const pod = (await runPod(ns, 'web', WEB_IMAGE, { nodeName: node })) as { status: { podIP: string } };
  const podIP = pod.status.podIP;

  say(`kubectl netns wireshark-extcap install (HOME=${home})`);
  const install = spawnSync(process.execPath, [join(root, 'dist/main.js'), 'wireshark-extcap', 'install'], {
    encoding: 'utf8',
    env,
  });
  process.stderr.write(install.stderr);
  if (install.status !== 0) throw new Error('install failed');
  const iface = /\[(kubectl_netns_\w+)\]/.exec(install.stderr)?.[1];
  if (!iface) throw new Error('install listed no interface');

  // A window the size of the screen, with our interface toolbar (the debug pod log) shown.
  const conf = join(home, '.config', 'wireshark');
  mkdirSync(conf, { recursive: true });
  writeFileSync(
    join(conf, 'recent_common'),
    [
      'gui.geometry_main_x: 0',
      'gui.geometry_main_y: 0',
      'gui.geometry_main_width: 1280',
      'gui.geometry_main_height: 800',
      'privs.warn_if_elevated: FALSE',
      '',
    ].join('\n'),
  );
  writeFileSync(join(conf, 'recent'), 'gui.interface_toolbar_show: "Kubernetes pods (kubectl-netns)"\n');

  const display = freeDisplay();
  xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  await waitFor(
    'Xvfb',
    () => Promise.resolve(existsSync(`/tmp/.X11-unix/X${display.slice(1)}`) ? true : undefined),
    20_000,
    100,
  );

  const options: Record<string, string> = { namespace: ns, pod: 'web', image: DEBUG_IMAGE };
  for (const o of values.option) {
    const [k, ...v] = o.split('=');
    options[k!] = v.join('=');
  }
  const prefs = Object.entries(options).flatMap(([k, v]) => ['-o', `extcap.${iface}.${k}:${v}`]);
  const showLog = values['show-log'];
  const args = [
    ...(showLog ? [] : ['-k']),
    '-i',
    iface,
    ...prefs,
    '-a',
    'duration:20',
    '-Y',
    'http',
    '-w',
    captureFile,
  ];
  say(`wireshark ${args.join(' ')}`);
  const xenv = { ...env, DISPLAY: display };
  wireshark = spawn('wireshark', args, { env: xenv, stdio: 'ignore' });
  const started = Date.now();
  if (showLog) {
    // The welcome page lists the interfaces, ours selected by -i; the main toolbar's first button starts it.
    await waitFor(
      'the welcome page',
      () => Promise.resolve(Date.now() - started > 8000 ? true : undefined),
      20_000,
      500,
    );
    execFileSync('xdotool', ['mousemove', '20', '41', 'click', '1'], { env: xenv });
  }

  // Requests until the capture has stopped (Wireshark's -a duration, counted from the first packet).
  let stopped = false;
  const traffic = (async () => {
    for (let i = 0; i < 300 && !stopped; i++) {
      await httpGet(`http://${podIP}:8080/index.html?wireshark=${i}`).catch(() => {});
      await delay(400);
    }
  })();

  await waitFor(
    'Wireshark to list HTTP requests',
    () => Promise.resolve(fieldsOf('http.request', 'frame.number').length >= 8 ? true : undefined),
    120_000,
    500,
  );
  if (showLog) execFileSync('xdotool', ['mousemove', '1213', '106', 'click', '1'], { env: xenv });
  // The packet list refreshes on its own timer.
  await delay(2000);
  mkdirSync(dirname(screenshot), { recursive: true });
  execFileSync('sh', [
    '-c',
    `xwd -root -silent -display '${display}' | convert xwd:- -strip -colors 96 PNG8:'${screenshot}'`,
  ]);
  say(
    `screenshot with packets listed: ${screenshot} (${((Date.now() - started) / 1000).toFixed(1)} s after Wireshark started)`,
  );

  say('waiting for Wireshark to stop the capture (our extcap exits, the debug pod is deleted)');
  await waitFor(
    'the capture to stop',
    () => Promise.resolve(extcapPid() === undefined ? true : undefined),
    120_000,
    500,
  );
  stopped = true;
  await traffic;

  const uris = fieldsOf('http.request', 'http.request.uri');
  check(
    uris.some((u) => u.startsWith('/index.html?wireshark=')),
    `Wireshark's file holds our HTTP requests (${uris.length})`,
  );
  check(debugPods(ns).length === 0, 'no debug pod is left once the capture stopped');
  check(wireshark.exitCode === null, 'Wireshark is still open with its packets');
} finally {
  wireshark?.kill('SIGKILL');
  xvfb?.kill();
  await deleteNamespace(ns).catch(() => {});
  rmSync(home, { recursive: true, force: true });
}
if (failures.length) {
  say(`${failures.length} check(s) failed`);
  process.exit(1);
}
say('the extcap works in the Wireshark GUI');
