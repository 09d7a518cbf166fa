// Time to first packet: from launching the command to the first pcap record on its stdout, while a
// trickle of UDP datagrams (200/s) reaches the pod, so a listening capture has a packet within
// 5 ms. Ours against the fastest scripted manual route: look the pod up, kubectl run a privileged
// hostPID pod on its node, kubectl wait until Ready, kubectl exec nsenter … tcpdump -U -w -.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEBUG_IMAGE, KUBECTL, kubectl, type BenchPod } from './lib/cluster.ts';
import { sleep } from './lib/proc.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { fmtRatio, fmtSpread, mdTable, spread, type Spread } from './lib/stats.ts';
import { trickle } from './lib/traffic.ts';

export interface TtfpOptions {
  root: string;
  kubeconfig: string;
  namespace: string;
  pod: BenchPod;
  reps: number;
}

interface TtfpRun {
  route: string;
  ok: boolean;
  error?: string;
  /** Seconds from launch to the first record. */
  firstPacketS: number | undefined;
  /** Seconds from launch to each milestone line on stderr (ours only). */
  milestones: Record<string, number>;
}

/** The pcap global header (24 bytes) plus one record header (16): a first record has begun. */
const FIRST_RECORD_BYTES = 40;

/** Milestones in ours' -v output, in the order they happen. */
const MILESTONES: Array<[string, RegExp]> = [
  ['debug pod requested', /starting debug pod/],
  ['debug pod running', /debug pod \S+ is running/],
  ['target PID found', /info: pid \d+ is in/],
  ['tcpdump listening', /capturing on /],
];

function measure(argv: string[], env: NodeJS.ProcessEnv, withMilestones: boolean): Promise<TtfpRun & { stop(): Promise<void> }> {
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  const milestones: Record<string, number> = {};
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    const now = (performance.now() - t0) / 1000;
    stderr += b.toString();
    if (!withMilestones) return;
    for (const [name, re] of MILESTONES) if (milestones[name] === undefined && re.test(stderr)) milestones[name] = now;
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const stop = async () => {
    child.kill('SIGINT');
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve) => {
    let got = 0;
    const timer = setTimeout(() => finish(false, 'no packet within 120 s'), 120_000);
    const finish = (ok: boolean, error?: string) => {
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve({
        route: '',
        ok,
        ...(error ? { error: `${error}: ${stderr.trim().split('\n').slice(-2).join(' / ')}` } : {}),
        firstPacketS: ok ? (performance.now() - t0) / 1000 : undefined,
        milestones,
        stop,
      });
    };
    child.stdout.on('data', (b: Buffer) => {
      got += b.length;
      if (got >= FIRST_RECORD_BYTES) finish(true);
    });
    void exited.then(() => finish(false, 'exited before the first packet'));
  });
}

/** The release executable for this machine, when `npm run release` has left one. */
function releaseExe(root: string): string | undefined {
  const exe = join(root, 'release/bin', `linux_${process.arch === 'x64' ? 'amd64' : process.arch}`, 'kubectl-netns');
  return existsSync(exe) ? exe : undefined;
}

async function oursOnce(o: TtfpOptions, program: string[]): Promise<TtfpRun> {
  const argv = [
    ...program,
    '--kubeconfig', o.kubeconfig,
    '-n', o.namespace,
    '--image', DEBUG_IMAGE,
    '-v',
    'capture', o.pod.name,
    '-o', '-',
    '-i', 'eth0',
  ];
  const r = await measure(argv, process.env, true);
  await r.stop();
  return { ...r, route: '' };
}

async function manualOnce(o: TtfpOptions): Promise<TtfpRun> {
  const name = `manual-ttfp-${randomBytes(3).toString('hex')}`;
  const k = `${KUBECTL} --kubeconfig ${o.kubeconfig} -n ${o.namespace}`;
  const overrides = (node: string) =>
    JSON.stringify({
      apiVersion: 'v1',
      spec: {
        nodeName: node,
        hostPID: true,
        terminationGracePeriodSeconds: 0,
        containers: [{ name, image: DEBUG_IMAGE, command: ['sleep', '600'], securityContext: { privileged: true } }],
      },
    });
  // The script a user would write: every step waits for the one before, as in a shell.
  const script = [
    'set -e',
    `set -- $(${k} get pod ${o.pod.name} -o jsonpath='{.spec.nodeName} {.status.containerStatuses[0].containerID}')`,
    'node=$1; cid=${2#*://}',
    `${k} run ${name} --image=${DEBUG_IMAGE} --restart=Never --overrides="$(printf '%s' '${overrides('NODE')}' | sed "s/NODE/$node/")" >/dev/null`,
    `${k} wait --for=condition=Ready pod/${name} --timeout=60s >/dev/null`,
    `exec ${k} exec ${name} -- sh -c "pid=\\$(grep -l $cid /proc/[0-9]*/cgroup | head -1 | cut -d/ -f3); exec nsenter -t \\$pid -n -- tcpdump -U -w - -i eth0"`,
  ].join('\n');
  const r = await measure(['bash', '-c', script], process.env, false);
  await r.stop();
  await kubectl(['delete', 'pod', '-n', o.namespace, name, '--grace-period=0', '--wait=false', '--ignore-not-found']).catch(() => {});
  return { ...r, route: 'manual' };
}

/** Runs the time-to-first-packet section. */
export async function ttfpBench(o: TtfpOptions): Promise<SectionResult> {
  const runs: TtfpRun[] = [];
  const exe = releaseExe(o.root);
  const routes: Array<[string, string, () => Promise<TtfpRun>]> = [
    ['ours', 'kubectl-netns capture POD -o - (node dist/main.js)', () => oursOnce(o, [process.execPath, join(o.root, 'dist/main.js')])],
    ...(exe ? [['ours-release', 'kubectl-netns capture POD -o - (release executable)', () => oursOnce(o, [exe])] as [string, string, () => Promise<TtfpRun>]] : []),
    ['manual', 'scripted manual route (get pod, kubectl run, kubectl wait, kubectl exec)', () => manualOnce(o)],
  ];
  const flow = trickle(o.pod.ip, 200, 30 * 60);
  try {
    for (let i = 0; i < o.reps; i++) {
      for (const [route, , fn] of routes) {
        progress(`time to first packet: ${route}, run ${i + 1}/${o.reps}`);
        const r = await fn();
        if (!r.ok) progress(`  failed: ${r.error}`);
        runs.push({ ...r, route });
        await sleep(500);
      }
    }
  } finally {
    flow.stop();
  }
  const s = (route: string): Spread | undefined => spread(runs.filter((r) => r.route === route).map((r) => r.firstPacketS));
  const manual = s('manual');
  const ok = (route: string) => String(runs.filter((r) => r.route === route && r.ok).length);
  const table = mdTable(
    ['route', 'time to first packet s, median (min–max)', 'runs', 'this / manual route'],
    [
      ...routes.map(([id, label]) => [label, fmtSpread(s(id), 2), ok(id), id === 'manual' ? '' : fmtRatio(s(id), manual)]),
      ['ksniff', 'cannot run here (see below)', '0', 'n/a'],
    ],
  );
  const phases = mdTable(
    ['milestone of ours (-v)', ...routes.filter(([id]) => id !== 'manual').map(([, label]) => `${label}: s after launch`)],
    [...MILESTONES.map(([name]) => name), 'first packet on stdout'].map((name) => [
      name,
      ...routes
        .filter(([id]) => id !== 'manual')
        .map(([id]) =>
          fmtSpread(spread(runs.filter((r) => r.route === id).map((r) => (name === 'first packet on stdout' ? r.firstPacketS : r.milestones[name]))), 2),
        ),
    ]),
  );
  const markdown = [
    '## Time to first packet',
    '',
    `Launch → first pcap record on stdout, image already on the node, a trickle of 200 UDP datagrams/s to the pod, ${o.reps} runs each, alternating. Target: ours ≤ 2 s median and ≤ 0.75× the scripted manual route.`,
    '',
    table,
    '',
    'Where ours spends it (medians):',
    '',
    phases,
  ].join('\n');
  return { markdown, data: runs };
}
