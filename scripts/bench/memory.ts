// The client's cost: peak RSS and CPU seconds per GB delivered, for a long saturated capture into
// a file (about --gb of pcap), and for a capture into a deliberately slow reader, where a client
// without backpressure would buffer everything it cannot hand on.
import { join } from 'node:path';
import { captureRun, keptPct, type RunRecord } from './lib/capture-run.ts';
import type { BenchPod } from './lib/cluster.ts';
import { CONTENDER_LABEL, type CaptureSetup, type ContenderId } from './lib/contenders.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { fmtSpread, mdTable, spread } from './lib/stats.ts';

export interface MemoryOptions {
  setup: CaptureSetup;
  pod: BenchPod;
  /** pcap to deliver into the file, roughly (the run lasts GB / the saturated rate). */
  gb: number;
  /** The saturated delivery rate ours reached (MB/s), to size the run; a guess when unknown. */
  mbps: number;
  maxSeconds: number;
  slowReaderMBps: number;
  slowSeconds: number;
  contenders: ContenderId[];
}

interface Tagged extends RunRecord {
  scenario: 'file' | 'slow reader';
}

/** Runs the client-cost section. */
export async function memoryBench(o: MemoryOptions): Promise<SectionResult> {
  const runs: Tagged[] = [];
  const seconds = Math.max(5, Math.min(o.maxSeconds, Math.round((o.gb * 1000) / Math.max(1, o.mbps))));
  for (const c of o.contenders) {
    progress(`client cost: ${c} into a file, ${seconds} s saturated`);
    const r = await captureRun(c, o.setup, { durationS: seconds + 2, tag: 'mem-file' }, o.pod, { seconds });
    if (!r.ok) progress(`  failed: ${r.error}`);
    runs.push({ ...r, scenario: 'file' });
  }
  for (const c of o.contenders) {
    progress(`client cost: ${c} into a ${o.slowReaderMBps} MB/s reader, ${o.slowSeconds} s saturated`);
    const r = await captureRun(
      c,
      o.setup,
      { durationS: o.slowSeconds + 2, tag: 'mem-slow' },
      o.pod,
      { seconds: o.slowSeconds },
      { bytesPerS: o.slowReaderMBps * 1e6, file: join(o.setup.workDir, `${c}-slow.pcap`) },
    );
    if (!r.ok) progress(`  failed: ${r.error}`);
    runs.push({ ...r, scenario: 'slow reader' });
  }
  const rows = runs.map((r) => {
    const gb = (r.deliveredBytes ?? 0) / 1e9;
    // A run that exited non-zero still used what it used; the last column says how it ended.
    const measured = r.clientWallS > 0;
    return [
      r.scenario === 'file' ? `file (${seconds} s saturated)` : `reader at ${o.slowReaderMBps} MB/s (${o.slowSeconds} s saturated)`,
      CONTENDER_LABEL[r.contender],
      gb.toFixed(2),
      fmtSpread(spread([keptPct({ ...r, ok: true })]), 1),
      measured ? r.clientRssMB.toFixed(0) : 'n/a',
      measured ? r.clientCpuS.toFixed(1) : 'n/a',
      measured && gb > 0.01 ? (r.clientCpuS / gb).toFixed(1) : 'n/a',
      r.ok ? 'exit 0' : (r.error ?? 'failed').replace(/\|/g, '/').slice(0, 160),
    ];
  });
  const markdown = [
    '## Client memory and CPU',
    '',
    'One run each (the long runs dominate the benchmark\'s time). Peak RSS and CPU of the client process only (GNU time). Target: ours ≤ 150 MB whatever the capture size, flat with a slow reader.',
    '',
    mdTable(['output', 'contender', 'GB delivered', 'kept %', 'client peak RSS MB', 'client CPU s (start-up included)', 'client CPU s per GB', 'how it ended'], rows),
  ].join('\n');
  return { markdown, data: runs };
}
