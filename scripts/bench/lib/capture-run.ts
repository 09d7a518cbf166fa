// One measured capture: start a contender, wait until it listens, offer the traffic, let it stop
// itself, then count what it delivered (capinfos) against what went through the pod's eth0.
import { createWriteStream, rmSync } from 'node:fs';
import { podCounters, setRate, type BenchPod } from './cluster.ts';
import { cpuSampler, type CpuReport } from './cpu.ts';
import { countPcap } from './pcap-count.ts';
import { launch, parseCounts, type CaptureParams, type CaptureSetup, type ContenderId } from './contenders.ts';
import { sleep, waitForLine } from './proc.ts';
import { offer } from './traffic.ts';

/** Pause between "listening" and the traffic. */
export const SETTLE_MS = 1000;

export interface TrafficParams {
  seconds: number;
  /** The pod's sending rate (tbf on its eth0); undefined: as fast as it goes. */
  rateMbit?: number | undefined;
  /** The file downloaded (default: the random payload). */
  path?: string | undefined;
}

/** Where a contender started with toStdout writes: read at most BYTES_PER_S into FILE. */
export interface SlowReader {
  bytesPerS: number;
  file: string;
}

/** Reads STREAM into FILE no faster than BYTES_PER_S (pausing it, so the writer feels it). */
function readSlowly(stream: NodeJS.ReadableStream, r: SlowReader): Promise<void> {
  const out = createWriteStream(r.file, { mode: 0o600 });
  const started = Date.now();
  let total = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (b: Buffer) => {
      total += b.length;
      out.write(b);
      const due = started + (total / r.bytesPerS) * 1000 - Date.now();
      if (due > 0) {
        stream.pause();
        setTimeout(() => stream.resume(), due);
      }
    });
    stream.on('end', () => out.end(() => resolve()));
    stream.on('error', reject);
  });
}

export interface RunRecord {
  contender: ContenderId;
  ok: boolean;
  error?: string;
  /** Packets and bytes through the pod's eth0 while the traffic ran (both directions). */
  offeredPackets: number;
  offeredBytes: number;
  trafficS: number;
  /** Packets that reached the output (the file; for the ceilings, tcpdump's own count). */
  keptPackets: number;
  /** pcap bytes delivered (file size, or the pipe's byte count); undefined for /dev/null. */
  deliveredBytes: number | undefined;
  droppedByKernel: number | undefined;
  capturedByTcpdump: number | undefined;
  clientWallS: number;
  clientRssMB: number;
  clientCpuS: number;
  cpu: CpuReport;
  /** --compress: what the agent compressed with. */
  compressor?: string | undefined;
}

/** Kept share of the offered packets, in percent (capped at 100: a few packets fall outside the window). */
export function keptPct(r: RunRecord): number | undefined {
  if (!r.ok || r.offeredPackets === 0) return undefined;
  return Math.min(100, (100 * r.keptPackets) / r.offeredPackets);
}

/** Delivered pcap MB per second of traffic. */
export function deliveredMBps(r: RunRecord): number | undefined {
  return r.ok && r.deliveredBytes !== undefined ? r.deliveredBytes / 1e6 / r.trafficS : undefined;
}

/** Runs contender C once against POD with TRAFFIC; never throws (a failure is a record with ok=false). */
export async function captureRun(
  c: ContenderId,
  setup: CaptureSetup,
  params: CaptureParams,
  pod: BenchPod,
  traffic: TrafficParams,
  slow?: SlowReader,
): Promise<RunRecord> {
  setRate(pod.pid, traffic.rateMbit);
  const l = launch(c, setup, { ...params, toStdout: slow !== undefined });
  const reading = slow && l.proc.stdout ? readSlowly(l.proc.stdout, slow) : undefined;
  const empty = {
    contender: c,
    offeredPackets: 0,
    offeredBytes: 0,
    trafficS: traffic.seconds,
    keptPackets: 0,
    deliveredBytes: undefined,
    droppedByKernel: undefined,
    capturedByTcpdump: undefined,
    clientWallS: 0,
    clientRssMB: 0,
    clientCpuS: 0,
    cpu: {},
  };
  let pipeOut = '';
  if (c === 'node-pipe') l.proc.stdout?.on('data', (b: Buffer) => (pipeOut += b.toString()));
  let cpu: ReturnType<typeof cpuSampler> | undefined;
  try {
    await waitForLine(l.proc, l.listening, 120_000);
    // The streaming itself, not the contender's start-up: its time to first packet is measured
    // apart, and the node is still settling its debug pod's start (kubelet, containerd) for a moment.
    await sleep(SETTLE_MS);
    cpu = cpuSampler();
    const before = podCounters(pod.pid);
    const t0 = Date.now();
    await offer(pod.ip, traffic.seconds, traffic.path);
    const trafficS = (Date.now() - t0) / 1000;
    const after = podCounters(pod.pid);
    const done = await l.proc.done;
    await reading;
    const report = cpu.stop();
    l.cleanup();
    const counts = parseCounts(done.stderr);
    const outFile = slow?.file ?? l.file;
    const file = outFile ? await countPcap(outFile) : undefined;
    if (outFile) rmSync(outFile, { force: true });
    const pipeBytes = c === 'node-pipe' ? Number(pipeOut.trim()) : undefined;
    const ok = done.code === 0;
    return {
      ...empty,
      ok,
      ...(ok ? {} : { error: `exit ${done.code}: ${done.stderr.trim().split('\n').slice(-3).join(' / ')}` }),
      offeredPackets: after.packets - before.packets,
      offeredBytes: after.bytes - before.bytes,
      trafficS,
      keptPackets: file ? file.packets : (counts.captured ?? 0),
      deliveredBytes: file ? file.fileBytes : pipeBytes,
      droppedByKernel: counts.dropped,
      capturedByTcpdump: counts.captured,
      clientWallS: done.wallS,
      clientRssMB: done.maxRssMB,
      clientCpuS: done.cpuS,
      cpu: report,
      compressor: /compressing with (\w+)/.exec(done.stderr)?.[1],
    };
  } catch (err) {
    l.proc.signal('SIGINT');
    const done = await l.proc.done.catch(() => undefined);
    cpu?.stop();
    l.cleanup();
    for (const f of [l.file, slow?.file]) if (f) rmSync(f, { force: true });
    return { ...empty, ok: false, error: `${(err as Error).message.split('\n')[0]}${done ? ` (exit ${done.code})` : ''}` };
  }
}
