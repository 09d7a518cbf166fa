// Many pods at once: 1, 5 and 20 web pods on the node, each offered the same rate, captured by
// ours in one command (-l SELECTOR into one pcapng) and by the manual recipe run once per pod
// (N kubectl exec processes side by side, a file each), which is what a user would script.
import { join } from 'node:path';
import { podCounters, setRate, type BenchPod } from './lib/cluster.ts';
import { cpuSampler, type CpuReport } from './lib/cpu.ts';
import { launch, parseCounts, type CaptureSetup } from './lib/contenders.ts';
import { countPcap } from './lib/pcap-count.ts';
import { SETTLE_MS } from './lib/capture-run.ts';
import { kubectl } from './lib/cluster.ts';
import { sleep, timed, waitForLine } from './lib/proc.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { fmtSpread, mdTable, spread } from './lib/stats.ts';
import { offerMany } from './lib/traffic.ts';
import { rmSync } from 'node:fs';

export interface MultiOptions {
  setup: CaptureSetup;
  /** Every web pod, with the label sets `bench-mN=y` for each N in COUNTS on the first N pods. */
  pods: BenchPod[];
  counts: number[];
  perPodMbit: number;
  seconds: number;
  reps: number;
}

interface MultiRun {
  route: 'ours' | 'manual';
  pods: number;
  ok: boolean;
  error?: string;
  offeredPackets: number;
  keptPackets: number;
  dropped: number;
  clientRssMB: number;
  clientCpuS: number;
  cpu: CpuReport;
}

function counters(pods: BenchPod[]): number {
  return pods.reduce((n, p) => n + podCounters(p.pid).packets, 0);
}

async function oursOnce(o: MultiOptions, n: number): Promise<MultiRun> {
  const pods = o.pods.slice(0, n);
  const file = join(o.setup.workDir, `multi-${n}.pcapng`);
  const argv = [
    process.execPath, join(o.setup.root, 'dist/main.js'),
    '--kubeconfig', o.setup.kubeconfig, '-n', o.setup.namespace, '--image', 'kubectl-netns.local/debug:dev',
    // Stopped with SIGINT (Ctrl-C) once the traffic is over: captures start one after another,
    // and each --duration would count from its own start. This one is only a safety net.
    'capture', '-l', `bench-m${n}=y`, '-o', file, '--overwrite', '--duration', '300s', '-i', 'eth0',
    // Up to 20 pods at once: over the default limit of 5 (kubectl logs' --max-log-requests).
    '--max-targets', String(n),
  ];
  const proc = timed(argv);
  try {
    await waitForLine(proc, /capturing \S+ on /, 180_000, n);
    await sleep(SETTLE_MS);
    const cpu = cpuSampler();
    const before = counters(pods);
    await offerMany(pods.map((p) => p.ip), o.seconds);
    const offered = counters(pods) - before;
    await sleep(1000);
    proc.signal('SIGINT');
    const done = await proc.done;
    const report = cpu.stop();
    const kept = await countPcap(file);
    rmSync(file, { force: true });
    const drops = [...done.stderr.matchAll(/(\d+) dropped by kernel/g)].reduce((a, m) => a + Number(m[1]), 0);
    // Ctrl-C ends a capture with 130, as kubectl's own commands do.
    const ok = done.code === 0 || done.code === 130;
    return { route: 'ours', pods: n, ok, ...(ok ? {} : { error: done.stderr.slice(-300) }), offeredPackets: offered, keptPackets: kept.packets, dropped: drops, clientRssMB: done.maxRssMB, clientCpuS: done.cpuS, cpu: report };
  } catch (err) {
    proc.signal('SIGINT');
    await proc.done.catch(() => {});
    rmSync(file, { force: true });
    return { route: 'ours', pods: n, ok: false, error: (err as Error).message, offeredPackets: 0, keptPackets: 0, dropped: 0, clientRssMB: 0, clientCpuS: 0, cpu: {} };
  }
}

async function manualOnce(o: MultiOptions, n: number): Promise<MultiRun> {
  const pods = o.pods.slice(0, n);
  const stopFile = `/tmp/bench-stop-${n}-${Date.now()}`;
  const runs = pods.map((p) =>
    launch(
      'kubectl-ws',
      { ...o.setup, target: p.name, targetPid: p.pid },
      { durationS: 300, tag: `multi-${n}-${p.name}`, stopFile },
    ),
  );
  const stopAll = () => kubectl(['exec', '-n', o.setup.namespace, o.setup.manualPod, '--', 'touch', stopFile]).catch(() => '');
  try {
    await Promise.all(runs.map((r) => waitForLine(r.proc, r.listening, 120_000)));
    await sleep(SETTLE_MS);
    const cpu = cpuSampler();
    const before = counters(pods);
    await offerMany(pods.map((p) => p.ip), o.seconds);
    const offered = counters(pods) - before;
    await sleep(1000);
    await stopAll();
    const dones = await Promise.all(runs.map((r) => r.proc.done));
    const report = cpu.stop();
    let kept = 0;
    for (const r of runs) {
      r.cleanup();
      kept += (await countPcap(r.file!)).packets;
      rmSync(r.file!, { force: true });
    }
    const failed = dones.filter((d) => d.code !== 0).length;
    return {
      route: 'manual',
      pods: n,
      ok: failed === 0,
      ...(failed ? { error: `${failed} of ${n} kubectl exec failed` } : {}),
      offeredPackets: offered,
      keptPackets: kept,
      dropped: dones.reduce((a, d) => a + (parseCounts(d.stderr).dropped ?? 0), 0),
      clientRssMB: dones.reduce((a, d) => a + d.maxRssMB, 0),
      clientCpuS: dones.reduce((a, d) => a + d.cpuS, 0),
      cpu: report,
    };
  } catch (err) {
    await stopAll();
    for (const r of runs) r.proc.signal('SIGINT');
    await Promise.all(runs.map((r) => r.proc.done.catch(() => {})));
    for (const r of runs) {
      r.cleanup();
      if (r.file) rmSync(r.file, { force: true });
    }
    return { route: 'manual', pods: n, ok: false, error: (err as Error).message, offeredPackets: 0, keptPackets: 0, dropped: 0, clientRssMB: 0, clientCpuS: 0, cpu: {} };
  }
}

/** Runs the many-pods section. */
export async function multiBench(o: MultiOptions): Promise<SectionResult> {
  const runs: MultiRun[] = [];
  for (const p of o.pods) setRate(p.pid, o.perPodMbit);
  for (const n of o.counts) {
    for (let rep = 0; rep < o.reps; rep++) {
      for (const [route, fn] of [['ours', oursOnce], ['manual', manualOnce]] as const) {
        progress(`many pods: ${n} pods, ${route}, run ${rep + 1}/${o.reps}`);
        const r = await fn(o, n);
        if (!r.ok) progress(`  failed: ${r.error}`);
        runs.push(r);
      }
    }
  }
  const rows: string[][] = [];
  for (const n of o.counts) {
    for (const route of ['ours', 'manual'] as const) {
      const rs = runs.filter((r) => r.pods === n && r.route === route);
      const ok = rs.filter((r) => r.ok);
      rows.push([
        String(n),
        route === 'ours' ? 'kubectl-netns capture -l … (one command, one pcapng)' : `manual recipe ×${n} (kubectl exec per pod, a file each)`,
        `${n * o.perPodMbit}`,
        fmtSpread(spread(ok.map((r) => (r.offeredPackets ? Math.min(100, (100 * r.keptPackets) / r.offeredPackets) : undefined))), 1),
        fmtSpread(spread(ok.map((r) => r.dropped)), 0),
        fmtSpread(spread(ok.map((r) => r.clientRssMB)), 0),
        fmtSpread(spread(ok.map((r) => r.clientCpuS)), 1),
        String(rs.length - ok.length),
      ]);
    }
  }
  const markdown = [
    '## Many pods at once',
    '',
    `${o.perPodMbit} Mbit/s offered to each pod for ${o.seconds} s; ${o.reps} run(s) each. Client RSS and CPU of the manual recipe are summed over its kubectl processes.`,
    '',
    mdTable(['pods', 'route', 'offered Mbit/s (total)', 'kept % of offered packets', 'dropped by kernel (sum)', 'client peak RSS MB', 'client CPU s', 'failed runs'], rows),
  ].join('\n');
  return { markdown, data: runs };
}
