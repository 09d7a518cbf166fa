// Capturing over a slow link: the same captures through a relay that limits the API connection to
// --link-mbit (both directions), with and without ours' --compress, next to the manual recipe
// through the same relay. Two payloads: random bytes (like TLS: nothing to gain from compression
// but the headers) and JSON text (like a plain HTTP API).
import { captureRun, deliveredMBps, keptPct, type RunRecord } from './lib/capture-run.ts';
import { PAYLOAD_PATH, TEXT_PAYLOAD_PATH, type BenchPod } from './lib/cluster.ts';
import { CONTENDER_LABEL, type CaptureSetup, type ContenderId } from './lib/contenders.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { startSlowRelay } from './lib/slow-relay.ts';
import { fmtRatio, fmtSpread, mdTable, spread } from './lib/stats.ts';

export interface CompressOptions {
  setup: CaptureSetup;
  pod: BenchPod;
  linkMbit: number;
  offeredMbit: number;
  seconds: number;
  reps: number;
  contenders: ContenderId[];
}

interface Tagged extends RunRecord {
  payload: string;
}

const PAYLOADS: Array<[string, string]> = [
  ['random (TLS-like)', PAYLOAD_PATH],
  ['JSON text', TEXT_PAYLOAD_PATH],
];

/** Runs the slow-link section. */
export async function compressBench(o: CompressOptions): Promise<SectionResult> {
  const relay = await startSlowRelay(o.setup.workDir, o.linkMbit);
  const setup: CaptureSetup = { ...o.setup, kubeconfig: relay.kubeconfig };
  const runs: Tagged[] = [];
  try {
    for (const [payload, path] of PAYLOADS) {
      for (let rep = 0; rep < o.reps; rep++) {
        for (const c of o.contenders) {
          progress(`slow link: ${payload}, ${c}, run ${rep + 1}/${o.reps}`);
          const r = await captureRun(c, setup, { durationS: o.seconds + 2, tag: `slow-${rep}` }, o.pod, {
            seconds: o.seconds,
            rateMbit: o.offeredMbit,
            path,
          });
          if (!r.ok) progress(`  failed: ${r.error}`);
          runs.push({ ...r, payload });
        }
      }
    }
  } finally {
    relay.close();
  }
  const rows: string[][] = [];
  for (const [payload] of PAYLOADS) {
    const pps = (rs: RunRecord[]) => spread(rs.map((r) => (r.ok ? r.keptPackets / r.trafficS : undefined)));
    const base = pps(runs.filter((r) => r.payload === payload && r.contender === 'ours'));
    for (const c of o.contenders) {
      const rs = runs.filter((r) => r.payload === payload && r.contender === c);
      const failed = rs.filter((r) => !r.ok).length;
      const with_ = [...new Set(rs.map((r) => r.compressor).filter(Boolean))].join(', ');
      rows.push([
        payload,
        CONTENDER_LABEL[c] + (with_ ? ` (${with_})` : '') + (failed ? ` (${failed} failed)` : ''),
        fmtSpread(pps(rs), 0),
        fmtSpread(spread(rs.map(keptPct)), 1),
        fmtSpread(spread(rs.map((r) => (r.ok ? r.droppedByKernel : undefined))), 0),
        fmtSpread(spread(rs.map(deliveredMBps)), 2),
        fmtSpread(spread(rs.map((r) => (r.ok ? r.clientCpuS : undefined))), 1),
        c === 'ours' ? '' : fmtRatio(pps(rs), base),
      ]);
    }
  }
  const markdown = [
    `## Over a slow link (${o.linkMbit} Mbit/s to the API server)`,
    '',
    `A relay on loopback limits the API connection to ${o.linkMbit} Mbit/s each way (5 ms one-way delay, 256 KiB queue), half of what the pod sends (${o.offeredMbit} Mbit/s, tbf) for ${o.seconds} s, so the backlog outgrows the 32 MiB kernel buffer; ${o.reps} runs each. Delivered is pcap after decompression, per second of traffic; the compressor is the one the debug image had (zstd in the image cluster:up builds now).`,
    '',
    mdTable(
      ['payload', 'contender', 'packets/s delivered', 'kept % of offered packets', 'dropped by kernel', 'pcap MB per s of traffic', 'client CPU s', 'this / ours without --compress (packets/s)'],
      rows,
    ),
  ].join('\n');
  return { markdown, data: runs };
}
