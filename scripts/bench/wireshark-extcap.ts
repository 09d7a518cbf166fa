// Figures for the Wireshark extcap, printed, not asserted:
//   - what Wireshark waits for at every start-up, per interface: the launcher answering
//     --extcap-interfaces and --extcap-config (no API call: kubeconfig and a local cache only);
//   - with the local cluster and tshark: how long a stop takes (tshark's SIGTERM until our extcap
//     has exited, which includes deleting the debug pod), and how long a debug pod keeps running
//     after its extcap is SIGKILLed (what Windows and Wireshark's 30 s SIGKILL leave to the pod).
// The captures target a web pod of the local cluster; no traffic is sent.
// Usage: node scripts/bench/wireshark-extcap.ts [--option NAME=VALUE]... (extra interface options,
// e.g. --option debugnamespace=netns-debug)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createNamespace,
  debugPods,
  deleteNamespace,
  ensureCluster,
  KUBECONFIG,
  kubectl,
  kubectlRun,
  runPod,
  waitFor,
} from '../../test/helpers/cluster.ts';
import { DEBUG_IMAGE, WEB_IMAGE } from '../../test/helpers/plugin.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const home = mkdtempSync(join(tmpdir(), 'knetns-bench-extcap-'));
const env = { ...process.env, HOME: home, KUBECONFIG, XDG_CONFIG_HOME: undefined };
const RUNS = 5;
const { values } = parseArgs({ options: { option: { type: 'string', multiple: true, default: [] } } });

try {
  const dir = join(home, 'extcap');
  mkdirSync(dir);
  execFileSync(process.execPath, [join(root, 'dist/main.js'), 'wireshark-extcap', 'install', '--dir', dir], {
    env,
    stdio: 'ignore',
  });
  const launcher = join(dir, 'kubectl-netns');
  const iface = /interface \{value=(\w+)\}/.exec(
    execFileSync(launcher, ['--extcap-interfaces'], { env, encoding: 'utf8' }),
  )?.[1];
  const time = (args: string[]) => {
    const t = performance.now();
    execFileSync(launcher, args, { env, stdio: 'ignore' });
    return performance.now() - t;
  };
  const listing = Array.from({ length: RUNS }, () => time(['--extcap-interfaces', '--extcap-version=4.0']));
  const config = Array.from({ length: RUNS }, () => time(['--extcap-interface', iface!, '--extcap-config']));
  out(`wireshark-extcap: --extcap-interfaces ${median(listing).toFixed(0)} ms, --extcap-config ${median(config).toFixed(0)} ms (median of ${RUNS}, node + launcher)`);

  const noCluster = ensureCluster();
  const noTshark = spawnSync('sh', ['-c', 'command -v tshark']).status !== 0;
  if (noCluster || noTshark) {
    out(`wireshark-extcap: stop and hard-kill timings skipped (${noCluster ?? 'tshark is not installed'})`);
  } else {
    // Wireshark 4.0 reads the personal configuration folder's extcap folder.
    const personal = join(home, '.config', 'wireshark', 'extcap');
    execFileSync(process.execPath, [join(root, 'dist/main.js'), 'wireshark-extcap', 'install', '--dir', personal], {
      env,
      stdio: 'ignore',
    });
    const ns = `bench-extcap-${process.pid}`;
    await createNamespace(ns);
    try {
      await runPod(ns, 'web', WEB_IMAGE);
      const prefs = ['namespace', ns, 'pod', 'web', 'image', DEBUG_IMAGE, ...values.option.flatMap((x) => x.split(/=(.*)/s, 2))];
      const o: string[] = [];
      for (let i = 0; i < prefs.length; i += 2) o.push('-o', `extcap.${iface}.${prefs[i]}:${prefs[i + 1]}`);
      // A debug pod that runs and is not being deleted (a stopped run's pod terminates for a few seconds).
      const running = async () =>
        waitFor(
          'a running debug pod',
          () =>
            Promise.resolve(
              kubectl([
              'get',
              'pods',
              '-n',
              ns,
              '-l',
              'app.kubernetes.io/managed-by=kubectl-netns',
              '-o',
              'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}',
            ])
              .split('\n')
              .map((l) => l.trim())
              .find((l) => l !== '' && !l.includes(' ')),
            ),
          120_000,
          100,
        );
      // Our extcap: tshark's child (the launcher execs kubectl-netns).
      const extcapOf = (tsharkPid: number) =>
        waitFor(
          'the extcap to start',
          () => {
            const r = spawnSync('pgrep', ['-P', String(tsharkPid), '-f', 'wireshark-extcap run -- --capture'], { encoding: 'utf8' });
            return Promise.resolve(r.status === 0 ? Number(r.stdout.trim().split('\n')[0]) : undefined);
          },
          60_000,
          50,
        );
      const exited = (child: ReturnType<typeof spawn>) =>
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((r) => child.once('exit', () => r()));
      const stops: number[] = [];
      const kills: number[] = [];
      for (let i = 0; i < 3; i++) {
        // A stop: tshark's SIGTERM to us, until we have exited (tcpdump stopped, pod deleted).
        const ts = spawn('tshark', ['-i', iface!, ...o, '-w', join(home, `s${i}.pcapng`)], { env, stdio: 'ignore' });
        const extcap = await extcapOf(ts.pid!);
        await running();
        const t = performance.now();
        process.kill(extcap, 'SIGTERM');
        await waitFor('the extcap to exit', () => Promise.resolve(spawnSync('kill', ['-0', String(extcap)]).status !== 0 ? true : undefined), 60_000, 20);
        stops.push(performance.now() - t);
        ts.kill('SIGTERM');
        await exited(ts);
        // A hard kill: SIGKILL, then until the debug pod no longer runs.
        const ts2 = spawn('tshark', ['-i', iface!, ...o, '-w', join(home, `k${i}.pcapng`)], { env, stdio: 'ignore' });
        const extcap2 = await extcapOf(ts2.pid!);
        const pod = await running();
        const t2 = performance.now();
        process.kill(extcap2, 'SIGKILL');
        await waitFor(
          'the debug pod to stop',
          () =>
            Promise.resolve(
              kubectlRun(['get', 'pod', '-n', ns, pod, '-o', 'jsonpath={.status.phase}']).stdout === 'Running'
                ? undefined
                : true,
            ),
          600_000,
          100,
        );
        kills.push(performance.now() - t2);
        ts2.kill('SIGTERM');
        await exited(ts2);
        execFileSync(process.execPath, [join(root, 'dist/main.js'), 'cleanup', '-n', ns], { env, stdio: 'ignore' });
        await waitFor('the debug pods to go', () => Promise.resolve(debugPods(ns).length === 0 ? true : undefined), 60_000, 200);
      }
      out(`wireshark-extcap: stop (SIGTERM until exit, debug pod deleted) ${stops.map((x) => (x / 1000).toFixed(1)).join(', ')} s`);
      out(`wireshark-extcap: SIGKILL until the debug pod stops running ${kills.map((x) => (x / 1000).toFixed(1)).join(', ')} s`);
    } finally {
      await deleteNamespace(ns);
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
