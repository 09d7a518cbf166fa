// The node-side spool, side by side in one run:
//   - saturation for N s into a spool big enough for the burst: packets in our file against what a
//     tcpdump writing to /dev/null on the same interface captured in the same window (both run at
//     once), and how long the stream took to drain after the traffic stopped;
//   - 1 Gbit/s of whole packets: kernel drops with the spool;
//   - at 100 Mbit/s and at a trickle (200 small datagrams/s): time to first packet and the delay
//     from tcpdump's timestamp to the packet reaching our stdout (p50, p99), with --spool and
//     without (the default). The cluster runs on this machine, so both clocks are the same clock.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PcapStreamParser } from '../../src/pcap/stream-reader.ts';
import { DEBUG_IMAGE, podCounters, setRate, type BenchPod } from './lib/cluster.ts';
import { launch, parseCounts, type CaptureSetup } from './lib/contenders.ts';
import { countPcap } from './lib/pcap-count.ts';
import { sleep, waitForLine } from './lib/proc.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { fmtSpread, mdTable, spread } from './lib/stats.ts';
import { offer, trickle } from './lib/traffic.ts';

export interface SpoolBenchOptions {
  setup: CaptureSetup;
  pod: BenchPod;
  reps: number;
  saturationSeconds: number;
  /** --spool-size for the saturated runs (big enough for the burst). */
  saturationSpool: string;
  rateSeconds: number;
}

export interface SaturationRun {
  ok: boolean;
  error?: string;
  /** Packets in our file. */
  kept: number;
  /** Packets the /dev/null tcpdump captured meanwhile. */
  reference: number | undefined;
  /** Kept as a share of the reference, %. */
  sharePct: number | undefined;
  droppedByKernel: number | undefined;
  /** Seconds from the end of the traffic until our capture had written its last packet and exited. */
  drainS: number | undefined;
  fileBytes: number;
  offeredMBps: number;
}

export interface RateRun {
  scenario: string;
  spool: boolean;
  ok: boolean;
  error?: string;
  droppedByKernel: number | undefined;
  kept: number;
  offeredPackets: number;
}

export interface DelayRun {
  scenario: string;
  spool: boolean;
  ok: boolean;
  error?: string;
  firstPacketS: number | undefined;
  /** Milliseconds from each packet's timestamp to its arrival on our stdout. */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  packets: number;
}

export interface SpoolBenchData {
  saturation: SaturationRun[];
  rates: RateRun[];
  delays: DelayRun[];
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** Ours and a /dev/null tcpdump on the same interface at once, the same saturated traffic. */
async function saturationRun(o: SpoolBenchOptions, rep: number): Promise<SaturationRun> {
  setRate(o.pod.pid, undefined);
  const ours = launch('ours', o.setup, {
    durationS: o.saturationSeconds + 2,
    tag: `spool-sat-${rep}`,
    extra: ['--spool-size', o.saturationSpool],
  });
  const ref = launch('node-devnull', o.setup, { durationS: o.saturationSeconds + 2, tag: `spool-ref-${rep}` });
  try {
    await Promise.all([waitForLine(ours.proc, ours.listening, 120_000), waitForLine(ref.proc, ref.listening, 120_000)]);
    await sleep(1000);
    const before = podCounters(o.pod.pid);
    const t0 = Date.now();
    await offer(o.pod.ip, o.saturationSeconds);
    const trafficEnd = Date.now();
    const after = podCounters(o.pod.pid);
    const [done, refDone] = await Promise.all([ours.proc.done, ref.proc.done]);
    const exited = Date.now();
    const file = await countPcap(ours.file!);
    rmSync(ours.file!, { force: true });
    const reference = parseCounts(refDone.stderr).captured;
    const counts = parseCounts(done.stderr);
    return {
      ok: done.code === 0,
      ...(done.code === 0 ? {} : { error: `exit ${done.code}: ${done.stderr.trim().split('\n').slice(-2).join(' / ')}` }),
      kept: file.packets,
      reference,
      sharePct: reference ? (100 * file.packets) / reference : undefined,
      droppedByKernel: counts.dropped,
      // The capture stops itself 2 s after the traffic's planned end; what comes after is the drain.
      drainS: Math.max(0, (exited - trafficEnd) / 1000 - 2),
      fileBytes: file.fileBytes,
      offeredMBps: (after.bytes - before.bytes) / 1e6 / ((trafficEnd - t0) / 1000),
    };
  } catch (err) {
    ours.proc.signal('SIGINT');
    ref.proc.signal('SIGINT');
    await Promise.all([ours.proc.done.catch(() => {}), ref.proc.done.catch(() => {})]);
    if (ours.file) rmSync(ours.file, { force: true });
    return { ok: false, error: (err as Error).message, kept: 0, reference: undefined, sharePct: undefined, droppedByKernel: undefined, drainS: undefined, fileBytes: 0, offeredMBps: 0 };
  } finally {
    ours.cleanup();
    ref.cleanup();
  }
}

/** Ours at a fixed rate of whole packets, with or without the spool: what the kernel dropped. */
async function rateRun(o: SpoolBenchOptions, rateMbit: number, spool: boolean, rep: number): Promise<RateRun> {
  const scenario = `${rateMbit} Mbit/s full`;
  setRate(o.pod.pid, rateMbit);
  const l = launch('ours', o.setup, {
    durationS: o.rateSeconds + 2,
    tag: `spool-rate-${rateMbit}-${spool}-${rep}`,
    extra: spool ? ['--spool'] : [],
  });
  try {
    await waitForLine(l.proc, l.listening, 120_000);
    await sleep(1000);
    const before = podCounters(o.pod.pid);
    await offer(o.pod.ip, o.rateSeconds);
    const after = podCounters(o.pod.pid);
    const done = await l.proc.done;
    const file = await countPcap(l.file!);
    return {
      scenario,
      spool,
      ok: done.code === 0,
      ...(done.code === 0 ? {} : { error: `exit ${done.code}` }),
      droppedByKernel: parseCounts(done.stderr).dropped,
      kept: file.packets,
      offeredPackets: after.packets - before.packets,
    };
  } catch (err) {
    l.proc.signal('SIGINT');
    await l.proc.done.catch(() => {});
    return { scenario, spool, ok: false, error: (err as Error).message, droppedByKernel: undefined, kept: 0, offeredPackets: 0 };
  } finally {
    if (l.file) rmSync(l.file, { force: true });
    l.cleanup();
    setRate(o.pod.pid, undefined);
  }
}

/**
 * Ours to stdout: launch → first record (time to first packet), then for SECONDS of traffic the
 * delay of every record (its arrival here minus its timestamp).
 */
async function delayRun(o: SpoolBenchOptions, scenario: string, spool: boolean): Promise<DelayRun> {
  const s = o.setup;
  const argv = [
    process.execPath,
    join(s.root, 'dist/main.js'),
    '--kubeconfig', s.kubeconfig,
    '-n', s.namespace,
    '--image', DEBUG_IMAGE,
    'capture', s.target,
    '-o', '-',
    '-i', 'eth0',
    '--duration', `${o.rateSeconds + 8}s`,
    ...(spool ? ['--spool'] : []),
  ];
  const low = scenario.startsWith('trickle');
  setRate(o.pod.pid, low ? undefined : 100);
  const drip = trickle(o.pod.ip, 200, 60);
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const delays: number[] = [];
  let first: number | undefined;
  let measuring = false;
  const parser = new PcapStreamParser({
    onRecord: (r) => {
      const now = performance.timeOrigin + performance.now();
      first ??= (performance.now() - t0) / 1000;
      if (!measuring) return;
      const ts = r.tsSec * 1000 + r.tsFrac / 1000;
      delays.push(now - ts);
    },
  });
  child.stdout.on('data', (b: Buffer) => parser.push(b));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const start = Date.now();
    while (first === undefined && Date.now() - start < 120_000) await sleep(20);
    if (first === undefined) throw new Error('no packet within 120 s');
    await sleep(1000);
    measuring = true;
    if (low) await sleep(o.rateSeconds * 1000);
    else await offer(o.pod.ip, o.rateSeconds);
    measuring = false;
    child.kill('SIGINT');
    const code = await exited;
    return {
      scenario,
      spool,
      ok: code === 0 || code === 130,
      ...(code === 0 || code === 130 ? {} : { error: `exit ${code}: ${stderr.trim().split('\n').slice(-2).join(' / ')}` }),
      firstPacketS: first,
      p50Ms: pct(delays, 0.5),
      p99Ms: pct(delays, 0.99),
      packets: delays.length,
    };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    return { scenario, spool, ok: false, error: (err as Error).message, firstPacketS: first, p50Ms: undefined, p99Ms: undefined, packets: 0 };
  } finally {
    drip.stop();
    setRate(o.pod.pid, undefined);
  }
}

/** Runs the spool section. */
export async function spoolBench(o: SpoolBenchOptions): Promise<SectionResult> {
  const data: SpoolBenchData = { saturation: [], rates: [], delays: [] };
  for (let rep = 0; rep < o.reps; rep++) {
    progress(`spool: saturation into a ${o.saturationSpool} spool, run ${rep + 1}/${o.reps}`);
    data.saturation.push(await saturationRun(o, rep));
    for (const spool of [true, false]) {
      progress(`spool: 1000 Mbit/s whole packets, ${spool ? '--spool' : 'no spool'}, run ${rep + 1}/${o.reps}`);
      data.rates.push(await rateRun(o, 1000, spool, rep));
    }
    for (const scenario of ['100 Mbit/s', 'trickle (200/s)']) {
      for (const spool of [true, false]) {
        progress(`spool: delay at ${scenario}, ${spool ? '--spool' : 'no spool'}, run ${rep + 1}/${o.reps}`);
        data.delays.push(await delayRun(o, scenario, spool));
      }
    }
  }
  const sat = data.saturation;
  const satTable = mdTable(
    ['runs', 'kept % of the /dev/null tcpdump', 'packets kept', '/dev/null tcpdump captured', 'dropped by kernel', 'drain after the traffic s', 'file MB', 'offered MB/s'],
    [[
      `${sat.filter((r) => r.ok).length}/${sat.length}`,
      fmtSpread(spread(sat.map((r) => r.sharePct)), 1),
      fmtSpread(spread(sat.map((r) => (r.ok ? r.kept : undefined))), 0),
      fmtSpread(spread(sat.map((r) => r.reference)), 0),
      fmtSpread(spread(sat.map((r) => r.droppedByKernel)), 0),
      fmtSpread(spread(sat.map((r) => r.drainS)), 1),
      fmtSpread(spread(sat.map((r) => (r.ok ? r.fileBytes / 1e6 : undefined))), 0),
      fmtSpread(spread(sat.map((r) => (r.ok ? r.offeredMBps : undefined))), 0),
    ]],
  );
  const rateTable = mdTable(
    ['offered', 'mode', 'dropped by kernel', 'kept % of offered packets'],
    [true, false].map((spool) => {
      const rs = data.rates.filter((r) => r.spool === spool);
      return [
        '1000 Mbit/s whole packets',
        spool ? '--spool' : 'no spool (default)',
        fmtSpread(spread(rs.map((r) => (r.ok ? r.droppedByKernel : undefined))), 0),
        fmtSpread(spread(rs.map((r) => (r.ok && r.offeredPackets ? Math.min(100, (100 * r.kept) / r.offeredPackets) : undefined))), 1),
      ];
    }),
  );
  const delayRows: string[][] = [];
  for (const scenario of ['100 Mbit/s', 'trickle (200/s)']) {
    for (const spool of [true, false]) {
      const rs = data.delays.filter((r) => r.scenario === scenario && r.spool === spool);
      delayRows.push([
        scenario,
        spool ? '--spool' : 'no spool (default)',
        fmtSpread(spread(rs.map((r) => r.firstPacketS)), 2),
        fmtSpread(spread(rs.map((r) => r.p50Ms)), 1),
        fmtSpread(spread(rs.map((r) => r.p99Ms)), 1),
        fmtSpread(spread(rs.map((r) => (r.ok ? r.packets : undefined))), 0),
      ]);
    }
  }
  const delayTable = mdTable(['traffic', 'mode', 'time to first packet s', 'delay p50 ms', 'delay p99 ms', 'packets measured'], delayRows);
  const markdown = [
    '## The node-side spool',
    '',
    `Saturation: curl as fast as it goes for ${o.saturationSeconds} s while ours captures into a ${o.saturationSpool} spool and, on the same interface at the same time, tcpdump writes to /dev/null in the manual pod; ${o.reps} runs. "Drain" is how long ours kept streaming after the traffic stopped (beyond its own 2 s of slack).`,
    '',
    satTable,
    '',
    `Fixed rate: the web pod's eth0 limited to 1000 Mbit/s, curl for ${o.rateSeconds} s.`,
    '',
    rateTable,
    '',
    `Delivery: ours writes to stdout; the delay of a packet is its arrival here minus tcpdump's timestamp (one machine, one clock), over ${o.rateSeconds} s of traffic; time to first packet is from launch, with 200 small datagrams/s reaching the pod.`,
    '',
    delayTable,
  ].join('\n');
  return { markdown, data };
}
