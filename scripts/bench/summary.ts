// The targets, each with what this run measured and whether it was met: the table the
// README shows. Built only from the sections' own data (no new measurements).
import type { ForensicsRow } from './forensics.ts';
import type { RunRecord } from './lib/capture-run.ts';
import type { SpoolBenchData } from './spool.ts';
import { deliveredMBps, keptPct } from './lib/capture-run.ts';
import { mdTable, spread, type Spread } from './lib/stats.ts';

interface ThroughputRun extends RunRecord {
  scenario: string;
}
interface TtfpRun {
  route: string;
  firstPacketS: number | undefined;
}
interface StartupRow {
  program: string;
  command: string;
  wall: Spread | undefined;
  rss: Spread | undefined;
}
interface MemoryRun extends RunRecord {
  scenario: string;
}

export interface SummaryInput {
  throughput?: ThroughputRun[];
  ttfp?: TtfpRun[];
  memory?: MemoryRun[];
  startup?: StartupRow[];
  forensics?: ForensicsRow[];
  spool?: SpoolBenchData;
}

const med = (xs: Array<number | undefined>) => spread(xs)?.median;
const f = (x: number | undefined, d = 2) => (x === undefined ? 'n/a' : x.toFixed(d));
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : '**not met**');

/** Markdown: one row per target of issue 10. */
export function summarize(d: SummaryInput): string {
  const rows: string[][] = [];
  const tp = d.throughput ?? [];
  const of = (scen: string, c: string) => tp.filter((r) => r.scenario === scen && r.contender === c);
  const scenarios = [...new Set(tp.map((r) => r.scenario))];
  if (tp.length) {
    const ratios = scenarios.map((s) => {
      const mbOurs = med(of(s, 'ours').map(deliveredMBps));
      const mbWs = med(of(s, 'kubectl-ws').map(deliveredMBps));
      const keptOurs = med(of(s, 'ours').map(keptPct));
      const keptWs = med(of(s, 'kubectl-ws').map(keptPct));
      const r = mbOurs !== undefined && mbWs ? mbOurs / mbWs : undefined;
      const k = keptOurs !== undefined && keptWs ? keptOurs / keptWs : undefined;
      return { s, r, k };
    });
    const worst = ratios.reduce((a, b) => ((b.k ?? Infinity) < (a.k ?? Infinity) ? b : a));
    rows.push([
      'throughput ≥ 1.0× the manual recipe over websockets at every offered rate',
      ratios.map((x) => `${x.s}: ${f(x.r)}× MB/s, ${f(x.k)}× kept`).join('; '),
      verdict(ratios.every((x) => (x.k ?? 0) >= 0.995 && (x.r ?? 0) >= 0.995)),
    ]);
    void worst;
    const ceiling = med(of('saturation', 'node-devnull').map(keptPct));
    const pipe = med(of('saturation', 'node-pipe').map(keptPct));
    const ours = med(of('saturation', 'ours').map(keptPct));
    rows.push([
      'as close to the no-stream ceiling as the exec path allows (saturation, kept % of packets)',
      `ours ${f(ours, 1)} %, tcpdump to a pipe on the node ${f(pipe, 1)} %, to /dev/null ${f(ceiling, 1)} %`,
      'see throughput',
    ]);
    const dropRows = scenarios
      .filter((s) => s !== 'saturation')
      .map((s) => ({
        s,
        ours: med(of(s, 'ours').map((r) => (r.ok ? r.droppedByKernel : undefined))),
        ws: med(of(s, 'kubectl-ws').map((r) => (r.ok ? r.droppedByKernel : undefined))),
      }));
    rows.push([
      'kernel drops never above the manual recipe at any offered rate',
      dropRows.map((x) => `${x.s}: ${f(x.ours, 0)} vs ${f(x.ws, 0)}`).join('; '),
      verdict(dropRows.every((x) => x.ours !== undefined && x.ws !== undefined && x.ours <= x.ws)),
    ]);
  }
  const tt = d.ttfp ?? [];
  if (tt.length) {
    const m = (route: string) => med(tt.filter((r) => r.route === route).map((r) => r.firstPacketS));
    const manual = m('manual');
    for (const [route, label] of [
      ['ours', 'node dist/main.js'],
      ['ours-release', 'release executable'],
    ] as const) {
      const t = m(route);
      if (t === undefined) continue;
      rows.push([
        `time to first packet ≤ 2 s median and ≤ 0.75× the scripted manual route (${label})`,
        `${f(t)} s against ${f(manual)} s: ${f(manual ? t / manual : undefined)}×`,
        verdict(t <= 2 && manual !== undefined && t <= 0.75 * manual),
      ]);
    }
  }
  const mem = d.memory ?? [];
  const rssAll = [...tp.filter((r) => r.contender === 'ours' && r.clientWallS > 0), ...mem.filter((r) => r.contender === 'ours' && r.clientWallS > 0)].map(
    (r) => r.clientRssMB,
  );
  if (rssAll.length) {
    const fileRss = mem.find((r) => r.contender === 'ours' && r.scenario === 'file')?.clientRssMB;
    const slowRss = mem.find((r) => r.contender === 'ours' && r.scenario === 'slow reader')?.clientRssMB;
    const max = Math.max(...rssAll);
    rows.push([
      'client RSS ≤ 150 MB whatever the capture size, flat with a slow reader',
      `peak ${f(max, 0)} MB over every capture of ours; long file ${f(fileRss, 0)} MB, slow reader ${f(slowRss, 0)} MB`,
      verdict(max <= 150 && (slowRss === undefined || fileRss === undefined || slowRss <= fileRss * 1.1)),
    ]);
  }
  const st = d.startup ?? [];
  for (const program of [...new Set(st.map((r) => r.program))].filter((p) => !/baseline|reference/.test(p))) {
    const row = (cmd: RegExp) => st.find((r) => r.program === program && cmd.test(r.command));
    const v = row(/^--version$/);
    const h = row(/^--help$/);
    const ch = row(/^capture --help$/);
    const c = row(/pod names/);
    const startRss = Math.max(v?.rss?.median ?? 0, h?.rss?.median ?? 0);
    rows.push([
      `start-up (${program}): --version/--help/capture --help ≤ 0.15 s, completion with its API call ≤ 0.3 s, RSS at start ≤ 80 MB`,
      `--version ${f(v?.wall?.median)} s, --help ${f(h?.wall?.median)} s, capture --help ${f(ch?.wall?.median)} s, completion of pod names ${f(c?.wall?.median)} s, RSS ${f(startRss, 0)} MB`,
      verdict(
        (v?.wall?.median ?? 9) <= 0.15 &&
          (h?.wall?.median ?? 9) <= 0.15 &&
          (ch === undefined || (ch.wall?.median ?? 9) <= 0.15) &&
          (c === undefined || (c.wall?.median ?? 9) <= 0.3) &&
          startRss <= 80,
      ),
    ]);
  }
  const fo = (d.forensics ?? []).filter((r) => r.program === 'this checkout' && r.set.startsWith('+'));
  if (fo.length) {
    const wall = (cmd: RegExp) => fo.find((r) => cmd.test(r.command))?.wall?.median;
    const ls = wall(/^ls .* -o json$/);
    const miss = wall(/^whohas MISS/);
    const hit = wall(/^whohas POD-IP/);
    const n = fo.find((r) => r.namespaces !== undefined)?.namespaces;
    rows.push([
      'forensics: a node with 1,000 more namespaces listed (ls -o json) in < 3 s end to end, whohas in < 2 s',
      `${n ?? 'n/a'} namespaces: ls ${f(ls)} s (table ${f(wall(/\(table\)$/))} s), whohas miss ${f(miss)} s, hit ${f(hit)} s`,
      verdict(ls !== undefined && miss !== undefined && ls < 3 && miss < 2 && (hit === undefined || hit < 2)),
    ]);
  }
  rows.push(...spoolRows(d.spool));
  return ['## Against the targets', '', mdTable(['target', 'measured (medians)', ''], rows)].join('\n');
}

/** "A few milliseconds": what the spool may add to a packet's delivery at p50 and at p99. */
const SPOOL_DELAY_BUDGET_MS = 3;

/** The node-side spool's targets (issue 18): saturation share and drain, 1 Gbit/s drops, delivery delay. */
function spoolRows(sp: SpoolBenchData | undefined): string[][] {
  if (!sp) return [];
  const rows: string[][] = [];
  const sat = sp.saturation.filter((r) => r.ok);
  if (sp.saturation.length) {
    const share = med(sat.map((r) => r.sharePct));
    rows.push([
      'spool: saturated into a spool big enough for the burst, ≥ 95 % of the packets tcpdump to /dev/null captures in the same window; and the drain',
      `${f(share, 1)} % (${f(med(sat.map((r) => r.kept)), 0)} packets against ${f(med(sat.map((r) => r.reference)), 0)}; ${f(med(sat.map((r) => r.droppedByKernel)), 0)} kernel drops); drained ${f(med(sat.map((r) => r.drainS)), 1)} s after the traffic; ${sat.length}/${sp.saturation.length} runs ok`,
      verdict(share === undefined ? undefined : share >= 95),
    ]);
  }
  const drops = (spool: boolean) => med(sp.rates.filter((r) => r.ok && r.spool === spool).map((r) => r.droppedByKernel));
  if (sp.rates.length) {
    const withSpool = drops(true);
    rows.push([
      'spool: 1 Gbit/s of whole packets, 0 kernel drops',
      `--spool ${f(withSpool, 0)} drops, without ${f(drops(false), 0)}`,
      verdict(withSpool === undefined ? undefined : withSpool === 0),
    ]);
  }
  const at = (spool: boolean) => sp.delays.filter((r) => r.ok && r.scenario === '100 Mbit/s' && r.spool === spool);
  if (at(true).length && at(false).length) {
    const m = (spool: boolean, k: 'firstPacketS' | 'p50Ms' | 'p99Ms') => med(at(spool).map((r) => r[k]));
    const extra = (k: 'p50Ms' | 'p99Ms') => {
      const a = m(true, k);
      const b = m(false, k);
      return a === undefined || b === undefined ? undefined : a - b;
    };
    const p50 = extra('p50Ms');
    const p99 = extra('p99Ms');
    rows.push([
      `spool: at 100 Mbit/s, at most a few ms (${SPOOL_DELAY_BUDGET_MS}) more per packet (p50, p99) than without`,
      `--spool: first packet ${f(m(true, 'firstPacketS'))} s, delay p50 ${f(m(true, 'p50Ms'), 1)} ms, p99 ${f(m(true, 'p99Ms'), 1)} ms; without: ${f(m(false, 'firstPacketS'))} s, ${f(m(false, 'p50Ms'), 1)} ms, ${f(m(false, 'p99Ms'), 1)} ms`,
      verdict(p50 === undefined || p99 === undefined ? undefined : p50 <= SPOOL_DELAY_BUDGET_MS && p99 <= SPOOL_DELAY_BUDGET_MS),
    ]);
  }
  return rows;
}
