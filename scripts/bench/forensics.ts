// Forensics at scale: `ls NODE` and `whohas` end to end (debug pod start and deletion included) on
// the node as it is, and with EXTRA more network namespaces on it (`unshare -n sleep`, what a node
// that leaks namespaces is full of; bounded in number and lifetime, killed at the end), next to
// the agent's scan alone on the node (sh, no pod, no exec stream) to tell the two costs apart.
// With a baseline checkout (--baseline DIR: its dist/main.js and src/node/agent.sh), every row is
// measured for both, interleaved run by run, so a change is quoted side by side in one run.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_NAME, type BenchPod } from './lib/cluster.ts';
import { sleep, timed } from './lib/proc.ts';
import { progress, type SectionResult } from './lib/section.ts';
import { fmtSpread, mdTable, spread, type Spread } from './lib/stats.ts';

export interface ForensicsOptions {
  root: string;
  /** Another checkout to measure side by side (its dist/main.js must be built). */
  baseline: string | undefined;
  kubeconfig: string;
  namespace: string;
  image: string;
  /** A running pod on the node: whohas of its IP is a hit in a pod's namespace. */
  pod: BenchPod;
  extra: number;
  reps: number;
}

export interface ForensicsRow {
  set: string;
  /** Network namespaces on the node during the set (ls -o json's item count, last run). */
  namespaces: number | undefined;
  command: string;
  program: string;
  wall: Spread | undefined;
  cpu: Spread | undefined;
  rss: Spread | undefined;
  /** Exit codes seen (whohas of a miss exits 4). */
  codes: number[];
}

interface Program {
  name: string;
  dir: string;
}

/** COUNT processes alone in new network namespaces, one process group, each gone after 15 min at the latest. */
async function extraNamespaces(count: number): Promise<() => void> {
  const root = readlinkSync('/proc/self/ns/net');
  const child = spawn(
    'sh',
    ['-c', `i=0; while [ $i -lt ${count} ]; do unshare -n sleep 900 & echo $!; i=$((i + 1)); done; echo started; wait`],
    { stdio: ['ignore', 'pipe', 'ignore'], detached: true },
  );
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  process.once('exit', stop);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const end = Date.now() + 120_000;
  while (!out.includes('started')) {
    if (Date.now() > end) throw new Error(`could not start ${count} namespaces`);
    await sleep(100);
  }
  const pids = out.split('\n').filter((l) => /^\d+$/.test(l));
  const away = (pid: string) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) !== root;
    } catch {
      return false;
    }
  };
  while (!pids.every(away)) {
    if (Date.now() > end) throw new Error(`${count} processes did not all reach new namespaces`);
    await sleep(100);
  }
  return stop;
}

/** Runs ARGV under GNU time with stdout into a file; returns the usage and what it printed. */
async function run(argv: string[], env: NodeJS.ProcessEnv, out: string) {
  const fd = openSync(out, 'w');
  try {
    const r = await timed(argv, { stdout: fd, env }).done;
    return { ...r, stdout: readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

export async function forensicsBench(o: ForensicsOptions): Promise<SectionResult> {
  const programs: Program[] = [{ name: 'this checkout', dir: o.root }];
  if (o.baseline) {
    if (!existsSync(join(o.baseline, 'dist/main.js'))) throw new Error(`--baseline ${o.baseline}: no dist/main.js (npm run build there)`);
    programs.push({ name: `baseline (${o.baseline})`, dir: o.baseline });
  }
  const env = { ...process.env, KUBECONFIG: o.kubeconfig };
  const common = ['-n', o.namespace, '--image', o.image];
  const miss = '10.232.255.254'; // 10.232.0.0/16 is the tests' own range; nothing holds this one
  const commands: Array<{ name: string; argv: (p: Program) => string[]; json?: boolean }> = [
    { name: `ls ${NODE_NAME} -o json`, argv: (p) => [process.execPath, join(p.dir, 'dist/main.js'), 'ls', NODE_NAME, ...common, '-o', 'json'], json: true },
    { name: `ls ${NODE_NAME} (table)`, argv: (p) => [process.execPath, join(p.dir, 'dist/main.js'), 'ls', NODE_NAME, ...common] },
    {
      name: 'whohas MISS --node (nobody has it)',
      argv: (p) => [process.execPath, join(p.dir, 'dist/main.js'), 'whohas', miss, '--node', NODE_NAME, ...common, '-o', 'json'],
    },
    {
      name: "whohas POD-IP --node (a pod's)",
      argv: (p) => [process.execPath, join(p.dir, 'dist/main.js'), 'whohas', o.pod.ip, '--node', NODE_NAME, ...common, '-o', 'json'],
    },
    // The agent alone, on the node, with the node's sh: what the scan costs without pod or stream.
    { name: 'agent scan on the node (no pod)', argv: (p) => ['sh', join(p.dir, 'src/node/agent.sh'), 'scan'] },
  ];
  const rows: ForensicsRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'knetns-bench-forensics-'));
  const out = join(dir, 'stdout');
  for (const set of [
    { label: 'the node as it is', extra: 0 },
    { label: `+${o.extra} namespaces (unshare -n sleep)`, extra: o.extra },
  ]) {
    progress(`forensics: ${set.label}`);
    const stop = set.extra ? await extraNamespaces(set.extra) : () => {};
    try {
      let namespaces: number | undefined;
      for (const c of commands) {
        const runs = new Map<string, Array<{ wallS: number; cpuS: number; maxRssMB: number; code: number }>>();
        // One unmeasured run each first (page cache, image on the node), then interleaved.
        for (const p of programs) await run(c.argv(p), env, out);
        for (let i = 0; i < o.reps; i++) {
          for (const p of programs) {
            progress(`forensics: ${set.label}: ${p.name}: ${c.name} (${i + 1}/${o.reps})`);
            const r = await run(c.argv(p), env, out);
            if (c.json && r.code === 0) namespaces = (JSON.parse(r.stdout) as { items: unknown[] }).items.length;
            if (r.code !== 0 && !(c.name.startsWith('whohas MISS') && r.code === 4))
              progress(`forensics: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
            runs.set(p.name, [...(runs.get(p.name) ?? []), r]);
          }
        }
        for (const p of programs) {
          const rs = runs.get(p.name) ?? [];
          rows.push({
            set: set.label,
            namespaces,
            command: c.name,
            program: p.name,
            wall: spread(rs.map((r) => r.wallS)),
            cpu: spread(rs.map((r) => r.cpuS)),
            rss: spread(rs.map((r) => r.maxRssMB)),
            codes: [...new Set(rs.map((r) => r.code))],
          });
        }
      }
    } finally {
      stop();
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const table = mdTable(
    ['node', 'command', 'program', 'wall s, median (min–max)', 'CPU s (client, or agent)', 'peak RSS MB', 'exit'],
    rows.map((r) => [
      `${r.set}${r.namespaces === undefined ? '' : `: ${r.namespaces} namespaces`}`,
      r.command,
      r.program,
      fmtSpread(r.wall, 2),
      fmtSpread(r.cpu, 2),
      fmtSpread(r.rss, 0),
      r.codes.join(', '),
    ]),
  );
  const markdown = [
    '## Forensics at scale',
    '',
    `End to end (client start, debug pod on ${NODE_NAME}, scan, pod deletion), ${o.reps} runs each after one warm-up run,` +
      ` on the node as it is and with ${o.extra} more network namespaces; "agent scan on the node" is the agent's scan alone` +
      " (the node's sh, no pod, no exec stream). Targets: 1,000 namespaces listed in under 3 s, whohas in under 2 s.",
    '',
    table,
  ].join('\n');
  return { markdown, data: rows };
}
