// Throughput and drops: every contender captures the same curl traffic to the web pod, at
// saturation (curl as fast as it goes) and at fixed offered rates, full snaplen and -s 128.
// Contenders run round-robin within each repetition, so machine noise spreads over all of them.
import { captureRun, deliveredMBps, keptPct, type RunRecord } from './lib/capture-run.ts';
import type { BenchPod } from './lib/cluster.ts';
import { CONTENDER_LABEL, type CaptureSetup, type ContenderId } from './lib/contenders.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { fmtRatio, fmtSpread, mdTable, spread } from './lib/stats.ts';

export interface ThroughputOptions {
  setup: CaptureSetup;
  pod: BenchPod;
  reps: number;
  saturationSeconds: number;
  rateSeconds: number;
  ratesMbit: number[];
  snaplens: Array<number | undefined>;
  saturationContenders: ContenderId[];
  rateContenders: ContenderId[];
}

interface Tagged extends RunRecord {
  scenario: string;
  rateMbit: number | undefined;
  snaplen: number | undefined;
  rep: number;
}

const snapLabel = (s: number | undefined) => (s ? `-s ${s}` : 'full');

async function scenario(
  o: ThroughputOptions,
  name: string,
  contenders: ContenderId[],
  seconds: number,
  rateMbit: number | undefined,
  snaplen: number | undefined,
): Promise<Tagged[]> {
  const out: Tagged[] = [];
  for (let rep = 0; rep < o.reps; rep++) {
    for (const c of contenders) {
      progress(`throughput: ${name}, ${c}, run ${rep + 1}/${o.reps}`);
      const r = await captureRun(
        c,
        o.setup,
        { durationS: seconds + 2, snaplen, tag: `${name}-${rep}`.replace(/[^a-z0-9-]/gi, '_') },
        o.pod,
        { seconds, rateMbit },
      );
      if (!r.ok) progress(`  failed: ${r.error}`);
      out.push({ ...r, scenario: name, rateMbit, snaplen, rep });
    }
  }
  return out;
}

/** Runs the throughput section. */
export async function throughputBench(o: ThroughputOptions): Promise<SectionResult> {
  const runs: Tagged[] = [];
  runs.push(...(await scenario(o, 'saturation', o.saturationContenders, o.saturationSeconds, undefined, undefined)));
  for (const snaplen of o.snaplens) {
    for (const rate of o.ratesMbit) {
      runs.push(...(await scenario(o, `${rate} Mbit/s ${snapLabel(snaplen)}`, o.rateContenders, o.rateSeconds, rate, snaplen)));
    }
  }
  const of = (scen: string, c: ContenderId) => runs.filter((r) => r.scenario === scen && r.contender === c);
  const fails = (rs: Tagged[]) => {
    const n = rs.filter((r) => !r.ok).length;
    return n ? ` (${n} failed)` : '';
  };

  const sat = o.saturationContenders;
  const oursSat = spread(of('saturation', 'ours').map(deliveredMBps));
  const oursKept = spread(of('saturation', 'ours').map(keptPct));
  const satTable = mdTable(
    ['contender', 'delivered pcap MB/s', 'kept % of offered packets', 'dropped by kernel', 'offered MB/s (pod eth0)', 'client peak RSS MB', 'client CPU s', 'ours / this (MB/s)', 'ours / this (kept)'],
    sat.map((c) => {
      const rs = of('saturation', c);
      const mbps = spread(rs.map(deliveredMBps));
      const kept = spread(rs.map(keptPct));
      return [
        CONTENDER_LABEL[c] + fails(rs),
        fmtSpread(mbps, 1),
        fmtSpread(kept, 1),
        fmtSpread(spread(rs.map((r) => r.droppedByKernel)), 0),
        fmtSpread(spread(rs.map((r) => (r.ok ? r.offeredBytes / 1e6 / r.trafficS : undefined))), 0),
        c.startsWith('node-') ? '(kubectl exec)' : fmtSpread(spread(rs.map((r) => (r.ok ? r.clientRssMB : undefined))), 0),
        fmtSpread(spread(rs.map((r) => (r.ok ? r.clientCpuS : undefined))), 1),
        c === 'ours' ? '' : fmtRatio(oursSat, mbps),
        c === 'ours' ? '' : fmtRatio(oursKept, kept),
      ];
    }),
  );
  const groups = ['kube-apiserver', 'kubelet', 'containerd', 'containerd-shim', 'tcpdump', 'machine'];
  const cpuTable = mdTable(
    ['contender', 'client', ...groups.map((g) => (g === 'machine' ? 'whole machine' : g))],
    sat.map((c) => {
      const rs = of('saturation', c).filter((r) => r.ok);
      return [
        CONTENDER_LABEL[c],
        fmtSpread(spread(rs.map((r) => r.clientCpuS)), 1),
        ...groups.map((g) => fmtSpread(spread(rs.map((r) => r.cpu[g] ?? 0)), 1)),
      ];
    }),
  );

  const rateRows: string[][] = [];
  for (const snaplen of o.snaplens) {
    for (const rate of o.ratesMbit) {
      const scen = `${rate} Mbit/s ${snapLabel(snaplen)}`;
      const oursDrops = spread(of(scen, 'ours').map((r) => (r.ok ? r.droppedByKernel : undefined)));
      const oursKeptR = spread(of(scen, 'ours').map(keptPct));
      for (const c of o.rateContenders) {
        const rs = of(scen, c);
        const kept = spread(rs.map(keptPct));
        const drops = spread(rs.map((r) => (r.ok ? r.droppedByKernel : undefined)));
        rateRows.push([
          String(rate),
          snapLabel(snaplen),
          CONTENDER_LABEL[c] + fails(rs),
          fmtSpread(kept, 1),
          fmtSpread(drops, 0),
          fmtSpread(spread(rs.map(deliveredMBps)), 1),
          c === 'ours' ? '' : `${fmtRatio(oursKeptR, kept)} kept; drops ${oursDrops && drops ? `${oursDrops.median.toFixed(0)} vs ${drops.median.toFixed(0)}` : 'n/a'}`,
        ]);
      }
    }
  }
  const rateTable = mdTable(
    ['offered Mbit/s', 'snaplen', 'contender', 'kept % of offered packets', 'dropped by kernel', 'delivered pcap MB/s', 'ours vs this'],
    rateRows,
  );
  const markdown = [
    '## Throughput at saturation',
    '',
    `curl downloads ${'random'} data from the web pod as fast as it can for ${o.saturationSeconds} s; each contender captures -i eth0 with a 32 MiB buffer, ${o.reps} runs each, round-robin.` +
      ' "Kept" counts the packets in the output (capinfos) against the packets through the pod\'s eth0 meanwhile (its own counters); "delivered" is pcap bytes per second of traffic.',
    '',
    satTable,
    '',
    'CPU seconds during the saturated runs (from the moment the contender listens until it exits; median of the runs):',
    '',
    cpuTable,
    '',
    '## Drops at fixed offered rates',
    '',
    `The web pod's eth0 is limited to the rate (tbf, set from the host: curl's own --limit-rate overshoots by 1.6-1.8× here); curl downloads for ${o.rateSeconds} s per run, ${o.reps} runs each.`,
    '',
    rateTable,
  ].join('\n');
  return { markdown, data: runs };
}
