// The targets, each with what this run measured and whether it was met: the table the
// README shows. Built only from the sections' own data (no new measurements).
import type { ForensicsRow } from './forensics.ts';
import type { RunRecord } from './lib/capture-run.ts';
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
    const c = row(/pod names/);
    const startRss = Math.max(v?.rss?.median ?? 0, h?.rss?.median ?? 0);
    rows.push([
      `start-up (${program}): --version/--help ≤ 0.15 s, completion with its API call ≤ 0.3 s, RSS at start ≤ 80 MB`,
      `--version ${f(v?.wall?.median)} s, --help ${f(h?.wall?.median)} s, completion of pod names ${f(c?.wall?.median)} s, RSS ${f(startRss, 0)} MB`,
      verdict(
        (v?.wall?.median ?? 9) <= 0.15 && (h?.wall?.median ?? 9) <= 0.15 && (c === undefined || (c.wall?.median ?? 9) <= 0.3) && startRss <= 80,
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
  return ['## Against the targets', '', mdTable(['target', 'measured (medians)', ''], rows)].join('\n');
}
