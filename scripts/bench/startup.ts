// Start-up cost per command: wall time and peak RSS of a whole process, from launch to exit, for
// the npm build (node dist/main.js) and, when `npm run release` has left one, the single
// executable (release/bin/linux_amd64/kubectl-netns; the benchmark does not build it). Static commands need no cluster; the completion of pod names and a command that
// fails at its first API call (a missing pod) need the local cluster, and are skipped without it.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { timed } from './lib/proc.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { fmtSpread, mdTable, spread, type Spread } from './lib/stats.ts';

export interface StartupOptions {
  root: string;
  reps: number;
  /** Cluster access for the commands that make API calls; undefined skips them. */
  cluster: { kubeconfig: string; namespace: string; kubectl: string } | undefined;
}

interface Program {
  name: string;
  /** argv prefix of the CLI. */
  main: string[];
  /** argv prefix of the completion helper. */
  complete: string[];
}

interface Row {
  program: string;
  command: string;
  wall: Spread | undefined;
  cpu: Spread | undefined;
  rss: Spread | undefined;
}

/** The programs to measure: the npm build, and the release executable for this machine if present. */
function programs(root: string): Program[] {
  const node = process.execPath;
  const out: Program[] = [];
  const main = join(root, 'dist/main.js');
  if (existsSync(main)) {
    const complete = join(root, 'dist/complete.js');
    out.push({
      name: 'node dist/main.js',
      main: [node, main],
      complete: existsSync(complete) ? [node, complete] : [node, main, '__complete'],
    });
  }
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  // `npm run release` writes release/bin/<os>_<arch>/kubectl-netns (a Node single executable).
  const binDir = join(root, 'release/bin');
  if (existsSync(binDir)) {
    for (const d of readdirSync(binDir)) {
      const exe = join(binDir, d, 'kubectl-netns');
      if (d.includes('linux') && d.includes(arch) && existsSync(exe)) {
        out.push({ name: `release executable (${d})`, main: [exe], complete: [exe, '__complete'] });
      }
    }
  }
  return out;
}

async function measure(
  argv: string[],
  reps: number,
  env: NodeJS.ProcessEnv,
): Promise<{ wall: Spread | undefined; cpu: Spread | undefined; rss: Spread | undefined }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  const rsss: number[] = [];
  // One unmeasured run first: the page cache holds the files afterwards, as on a user's machine.
  await timed(argv, { env }).done;
  for (let i = 0; i < reps; i++) {
    const r = await timed(argv, { env }).done;
    walls.push(r.wallS);
    cpus.push(r.cpuS);
    rsss.push(r.maxRssMB);
  }
  return { wall: spread(walls), cpu: spread(cpus), rss: spread(rsss) };
}

/** Runs the start-up section. */
export async function startupBench(o: StartupOptions): Promise<SectionResult> {
  const env = { ...process.env, KUBECONFIG: o.cluster?.kubeconfig ?? '/nonexistent/kubeconfig' };
  const rows: Row[] = [];
  const add = async (program: string, command: string, argv: string[]) => {
    progress(`start-up: ${program}: ${command}`);
    rows.push({ program, command, ...(await measure(argv, o.reps, env)) });
  };
  await add('node (baseline)', 'node -e 0', [process.execPath, '-e', '0']);
  for (const p of programs(o.root)) {
    await add(p.name, '--version', [...p.main, '--version']);
    await add(p.name, '--help', [...p.main, '--help']);
    await add(p.name, 'capture --help', [...p.main, 'capture', '--help']);
    await add(p.name, 'completion: command names (Tab)', [...p.complete, '']);
    await add(p.name, 'completion: capture flags (Tab)', [...p.complete, 'capture', '--']);
    if (o.cluster) {
      const ns = ['-n', o.cluster.namespace];
      await add(p.name, 'completion: pod names (Tab, 1 API call)', [...p.complete, 'capture', ...ns, '']);
      await add(p.name, 'capture MISSING-POD (fails at its first API answer)', [
        ...p.main,
        'capture',
        ...ns,
        'no-such-pod-bench',
        '-q',
      ]);
    }
  }
  if (o.cluster) {
    const k = [o.cluster.kubectl, '--kubeconfig', o.cluster.kubeconfig];
    await add('kubectl (reference)', 'kubectl version --client', [...k, 'version', '--client']);
    await add('kubectl (reference)', 'kubectl get pod MISSING-POD', [...k, 'get', 'pod', '-n', o.cluster.namespace, 'no-such-pod-bench']);
  }
  const table = mdTable(
    ['program', 'command', 'wall s, median (min–max)', 'CPU s (user+sys), median', 'peak RSS MB, median (min–max)'],
    rows.map((r) => [r.program, r.command, fmtSpread(r.wall, 2), fmtSpread(r.cpu, 2), fmtSpread(r.rss, 0)]),
  );
  const markdown = [
    '## Start-up per command',
    '',
    `Whole process, launch to exit, ${o.reps} runs each after one warm-up run (GNU time: wall clock, CPU time, which a busy machine inflates far less than wall time, and peak RSS).` +
      ' Targets: `--version`/`--help` ≤ 0.15 s, a completion answer ≤ 0.3 s including its API call, RSS at start ≤ 80 MB.',
    '',
    table,
  ].join('\n');
  return { markdown, data: rows };
}
