// `npm run bench`: kubectl-netns next to what users would do instead, in one run on the local
// cluster (npm run cluster:up first), written to bench/results.md (tables) and bench/results.json
// (every run's figures). Progress goes to stderr; nothing is asserted.
//
//   node scripts/bench/run.ts [--quick] [--only startup,forensics,throughput,ttfp,memory,compress,multi,merged,extcap,ksniff,lib,spool]
//                             [--no-cluster] [--out DIR] [--readme] [--baseline DIR]
//
// --baseline DIR measures another checkout (built: its dist/main.js) side by side where a section
// supports it (forensics), interleaved run by run.
//
// --readme also replaces the performance block of docs/performance.md (between its bench markers) with this
// run's summary against the targets, its date and machine. --readme-only does only that, from the
// results.json already in --out (no measurement).
//
// Sections: start-up per command; ls and whohas on a node with 1,000 extra namespaces; ksniff (built from the Go module proxy, or why not); throughput
// at saturation and drops at fixed rates against the manual kubectl exec recipe (websocket and
// SPDY) and the no-stream ceilings; time to first packet against a scripted manual route; client
// memory and CPU per GB (file and slow reader); a slow link with and without --compress; 1, 5 and
// 20 pods at once; the merged pcapng output's memory for 1 GB from 5 pods; the Wireshark extcap's
// start-up, stop and SIGKILL figures; and the library benchmarks (pcap parser, pcapng merge).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { K8S_VERSION } from '../cluster/paths.ts';
import { compressBench } from './compress.ts';
import { forensicsBench } from './forensics.ts';
import { ksniffBench } from './ksniff.ts';
import { memoryBench } from './memory.ts';
import { multiBench } from './multipod.ts';
import { startupBench } from './startup.ts';
import { throughputBench } from './throughput.ts';
import { ttfpBench } from './ttfp.ts';
import { deliveredMBps } from './lib/capture-run.ts';
import { BenchCluster, clusterProblem, DEBUG_IMAGE, KUBECTL, type BenchPod } from './lib/cluster.ts';
import type { CaptureSetup } from './lib/contenders.ts';
import { GNU_TIME } from './lib/proc.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { spread } from './lib/stats.ts';
import { summarize } from './summary.ts';
import { spoolBench } from './spool.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ALL = ['startup', 'forensics', 'ksniff', 'throughput', 'ttfp', 'memory', 'compress', 'multi', 'merged', 'extcap', 'lib', 'spool'] as const;
type SectionId = (typeof ALL)[number];
const CLUSTER_SECTIONS: SectionId[] = ['throughput', 'ttfp', 'memory', 'compress', 'multi', 'extcap', 'spool'];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-cluster': { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
    'readme-only': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench') },
    baseline: { type: 'string' },
  },
});
const quick = values.quick === true;
const only = new Set<SectionId>(
  values.only ? (values.only.split(',').map((s) => s.trim()) as SectionId[]) : [...ALL],
);
for (const s of only) if (!ALL.includes(s)) throw new Error(`unknown section ${s} (known: ${ALL.join(', ')})`);
if (values['no-cluster']) for (const s of CLUSTER_SECTIONS) only.delete(s);

/** Fails early, naming what to install, when a tool every contender is measured with is missing. */
function checkTools(): void {
  const missing = [
    [GNU_TIME, 'time'],
    ['/usr/bin/curl', 'curl'],
    ['/usr/bin/capinfos', 'tshark'],
  ].filter(([p]) => !existsSync(p!));
  if (missing.length) {
    throw new Error(`missing ${missing.map((m) => m[0]).join(', ')}: sudo bash scripts/install-deps.sh (packages ${missing.map((m) => m[1]).join(', ')})`);
  }
  if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('no dist/main.js: npm run build (npm run bench builds it first)');
}

function machine(): Record<string, string> {
  const cpu = cpus();
  const commit = (() => {
    try {
      return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit,
    cpus: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    kernel: release(),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at start)`,
    'load average at start': loadavg().map((x) => x.toFixed(2)).join(', '),
    node: process.version,
    kubernetes: K8S_VERSION,
    mode: quick ? 'quick (--quick: one run each, short traffic; a sanity run, not figures to publish)' : 'full',
  };
}

/** Benchmarks that print their own figures; results.md keeps them as they are, under TITLE. */
function printedBench(title: string, runs: Array<[string, string[]]>): SectionResult {
  const node = process.execPath;
  const dir = join(ROOT, 'scripts/bench');
  const texts: string[] = [];
  for (const [file, args] of runs) {
    progress(`library: ${file}`);
    texts.push(`$ node scripts/bench/${file} ${args.join(' ')}\n${execFileSync(node, [join(dir, file), ...args], { encoding: 'utf8' }).trim()}`);
  }
  return {
    markdown: [`## ${title}`, '', '```', texts.join('\n\n'), '```'].join('\n'),
    data: texts,
  };
}

/** The pcap parser and the pcapng merge on their own. */
function libBench(): SectionResult {
  return printedBench('Library benchmarks', [
    ['pcap-parse.ts', quick ? ['--mib', '16', '--rounds', '1', '--whole-mib', '4'] : ['--mib', '64', '--rounds', '2', '--whole-mib', '8']],
    ['pcapng-merge.ts', quick ? ['--packets', '100000', '--rounds', '1'] : ['--packets', '300000', '--rounds', '2']],
  ]);
}

async function main(): Promise<void> {
  if (values['readme-only']) {
    const saved = JSON.parse(readFileSync(join(values.out, 'results.json'), 'utf8')) as {
      machine: Record<string, string>;
      sections: Record<string, unknown>;
    };
    updateReadme(summarize(saved.sections), saved.machine);
    return;
  }
  checkTools();
  const info = machine();
  progress(`${info.mode} run on ${info.cpus}, load ${info['load average at start']}`);
  const sections: Array<{ id: SectionId; result: SectionResult }> = [];
  const needCluster = CLUSTER_SECTIONS.some((s) => only.has(s)) || only.has('startup') || only.has('forensics');
  const problem = needCluster && !values['no-cluster'] ? await clusterProblem() : 'not used (--no-cluster)';
  if (problem && CLUSTER_SECTIONS.some((s) => only.has(s))) {
    throw new Error(`the local cluster is not usable: ${problem}. Start it with: sudo npm run cluster:up (or pass --no-cluster for start-up and library figures only)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'knetns-bench-'));
  const bench = new BenchCluster();
  let created = false;
  try {
    if (only.has('ksniff')) sections.push({ id: 'ksniff', result: ksniffBench(ROOT) });
    if (!problem) {
      progress(`namespace ${bench.ns}: web pod, payloads, the manual recipe's privileged pod`);
      await bench.create();
      created = true;
    }
    if (only.has('startup')) {
      if (created) await bench.webPods(['startup-web']);
      sections.push({
        id: 'startup',
        result: await startupBench({
          root: ROOT,
          reps: quick ? 2 : 5,
          cluster: created ? { kubeconfig: bench.kubeconfig, namespace: bench.ns, kubectl: KUBECTL } : undefined,
        }),
      });
    }
    if (only.has('forensics') && created) {
      const [pod] = await bench.webPods(['forensics-web']);
      sections.push({
        id: 'forensics',
        result: await forensicsBench({
          root: ROOT,
          baseline: values.baseline,
          kubeconfig: bench.kubeconfig,
          namespace: bench.ns,
          image: DEBUG_IMAGE,
          pod: pod!,
          extra: 1000,
          reps: quick ? 1 : 3,
        }),
      });
    }
    if (CLUSTER_SECTIONS.some((s) => only.has(s))) {
      const [web] = await bench.webPods(['web']);
      await bench.payload('web', quick ? 16 : 64, true);
      await bench.manualPod('manual');
      const setup: CaptureSetup = {
        root: ROOT,
        kubeconfig: bench.kubeconfig,
        namespace: bench.ns,
        target: 'web',
        targetPid: await bench.pidOf('manual', web!),
        manualPod: 'manual',
        workDir: work,
      };
      let oursMBps: number | undefined;
      if (only.has('throughput')) {
        const result = await throughputBench({
          setup,
          pod: web!,
          reps: quick ? 1 : 3,
          saturationSeconds: quick ? 4 : 8,
          rateSeconds: quick ? 3 : 5,
          ratesMbit: quick ? [200] : [100, 500, 1000],
          snaplens: quick ? [undefined] : [undefined, 128],
          saturationContenders: ['ours', 'kubectl-ws', 'kubectl-spdy', 'node-devnull', 'node-pipe'],
          rateContenders: ['ours', 'kubectl-ws', 'node-devnull'],
        });
        sections.push({ id: 'throughput', result });
        const runs = result.data as Array<{ scenario: string; contender: string; ok: boolean }>;
        oursMBps = spread(
          runs.filter((r) => r.scenario === 'saturation' && r.contender === 'ours').map((r) => deliveredMBps(r as never)),
        )?.median;
      }
      if (only.has('ttfp')) {
        sections.push({ id: 'ttfp', result: await ttfpBench({ root: ROOT, kubeconfig: bench.kubeconfig, namespace: bench.ns, pod: web!, reps: quick ? 2 : 5 }) });
      }
      if (only.has('memory')) {
        sections.push({
          id: 'memory',
          result: await memoryBench({
            setup,
            pod: web!,
            gb: quick ? 0.2 : 2,
            mbps: oursMBps ?? 40,
            maxSeconds: quick ? 10 : 60,
            slowReaderMBps: 5,
            slowSeconds: quick ? 5 : 15,
            contenders: ['ours', 'kubectl-ws'],
          }),
        });
      }
      if (only.has('compress')) {
        sections.push({
          id: 'compress',
          result: await compressBench({
            setup,
            pod: web!,
            linkMbit: 50,
            offeredMbit: 100,
            seconds: quick ? 6 : 12,
            reps: quick ? 1 : 2,
            contenders: ['ours', 'ours-compress', 'kubectl-ws'],
          }),
        });
      }
      if (only.has('spool')) {
        sections.push({
          id: 'spool',
          result: await spoolBench({
            setup,
            pod: web!,
            reps: quick ? 1 : 3,
            saturationSeconds: quick ? 4 : 8,
            saturationSpool: '2GB',
            rateSeconds: quick ? 3 : 5,
          }),
        });
      }
      if (only.has('multi')) {
        const counts = quick ? [1, 5] : [1, 5, 20];
        const max = Math.max(...counts);
        const names = Array.from({ length: max }, (_, i) => `web-m${i}`);
        progress(`many pods: starting ${max} web pods`);
        const pods: BenchPod[] = [];
        for (const [i, name] of names.entries()) {
          const labels: Record<string, string> = { app: 'bench-multi' };
          for (const n of counts) if (i < n) labels[`bench-m${n}`] = 'y';
          pods.push(...(await bench.webPods([name], labels)));
        }
        await Promise.all(names.map((n) => bench.payload(n, 4)));
        sections.push({
          id: 'multi',
          result: await multiBench({ setup, pods, counts, perPodMbit: 20, seconds: quick ? 3 : 6, reps: 1 }),
        });
      }
    }
    if (only.has('merged')) {
      sections.push({
        id: 'merged',
        result: printedBench('Whole-workload capture: memory of the merged pcapng', [
          ['merged-memory.ts', quick ? ['--gigabytes', '0.2'] : ['--gigabytes', '1']],
        ]),
      });
    }
    if (only.has('extcap')) {
      sections.push({ id: 'extcap', result: printedBench('Wireshark extcap', [['wireshark-extcap.ts', []]]) });
    }
    if (only.has('lib')) sections.push({ id: 'lib', result: libBench() });
  } finally {
    if (created) await bench.destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const order: SectionId[] = ['throughput', 'ttfp', 'memory', 'compress', 'spool', 'multi', 'merged', 'extcap', 'startup', 'ksniff', 'lib'];
  sections.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  const data = Object.fromEntries(sections.map((s) => [s.id, s.result.data]));
  const summary = summarize(data);
  const machineLines = Object.entries(info).map(([k, v]) => `- ${k}: ${v}`);
  const md = [
    '# kubectl-netns benchmarks',
    '',
    'Written by `npm run bench` (scripts/bench/run.ts); rerun it after `sudo npm run cluster:up`. Every figure comes from this one run.',
    '',
    ...machineLines,
    '',
    summary,
    '',
    ...sections.map((s) => `${s.result.markdown}\n`),
  ].join('\n');
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'results.md'), md);
  writeFileSync(join(values.out, 'results.json'), `${JSON.stringify({ machine: info, sections: data }, null, 1)}\n`);
  progress(`wrote ${join(values.out, 'results.md')} and results.json`);
  if (values.readme) updateReadme(summary, info);
}

const BEGIN = '<!-- bench:begin (npm run bench -- --readme writes this block) -->';
const END = '<!-- bench:end -->';

/** Replaces the performance page's block (docs/performance.md) with SUMMARY, the date and the machine. */
function updateReadme(summary: string, info: Record<string, string>): void {
  const path = join(ROOT, 'docs', 'performance.md');
  const text = readFileSync(path, 'utf8');
  const from = text.indexOf(BEGIN);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/performance.md has no ${BEGIN} … ${END} block`);
  const block = [
    BEGIN,
    '',
    `Measured ${info.date} on ${info.cpus}, ${(info.memory ?? '').replace(/ \(.*/, '')} RAM, Linux ${info.kernel}, load average ${info['load average at start']} at start, Kubernetes ${info.kubernetes} (the local cluster), Node ${info.node}, commit ${info.commit}.`,
    '',
    summary.replace(/^## Against the targets\n\n/, ''),
    '',
    END,
  ].join('\n');
  writeFileSync(path, text.slice(0, from) + block + text.slice(to + END.length));
  progress('updated the performance block in docs/performance.md');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
