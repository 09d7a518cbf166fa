// How many exec requests one capture makes of the API server, and how long their URIs are, for a
// 5-pod capture with stderr on a terminal (the live status asks for kernel-drop counters), read from
// the local cluster's audit log. API server audit logs record every request URI in full.
//
//   node scripts/bench/exec-requests.ts [--pods 5] [--seconds 60] [--plugin DIST/main.js]
//
// --plugin runs another build (e.g. a copy of dist/ from before a change) for a side-by-side figure.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { auditLogProblem, execRequests, type ExecRequestRecord } from './lib/audit.ts';
import { BenchCluster, clusterProblem, DEBUG_IMAGE, KUBECONFIG } from './lib/cluster.ts';
import { progress } from './lib/section.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ExecRequestFigures {
  pods: number;
  seconds: number;
  requests: number;
  perMinute: number;
  largestUriBytes: number;
  /** Requests per agent op (the word after the script, or the command's first word). */
  byOp: Record<string, number>;
  exitCode: number | null;
}

/** The agent op an exec ran: the word after the agent script (sh -c SCRIPT ARGV0 OP, or sh PATH OP), or the install. */
function opOf(r: ExecRequestRecord): string {
  const c = r.command;
  if (c[0] === 'sh' && c[1] === '-c' && c[3] === 'kubectl-netns-install') return 'install';
  if (c[0] === 'sh' && c[1] === '-c') return c[4] ?? c[3] ?? 'sh -c';
  if (c[0] === 'sh') return c[2] ?? 'sh';
  return c[0] ?? '?';
}

/** Runs the capture of PODS pods for SECONDS on a pty and reads its exec requests from the audit log. */
export async function execRequestsBench(o: { pods: number; seconds: number; plugin?: string }): Promise<ExecRequestFigures> {
  const cluster = new BenchCluster();
  const dir = mkdtempSync(join(tmpdir(), 'knetns-bench-exec-'));
  try {
    await cluster.create();
    const names = Array.from({ length: o.pods }, (_, i) => `web-${i}`);
    await cluster.webPods(names, { app: 'exec-requests' });
    const argv = [
      process.execPath, o.plugin ?? join(ROOT, 'dist/main.js'), '--kubeconfig', KUBECONFIG, '-n', cluster.ns,
      '--image', DEBUG_IMAGE, 'capture', '-l', 'app=exec-requests', '-o', join(dir, 'out.pcapng'),
      '--duration', `${o.seconds}s`,
    ];
    const cmd = argv.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ');
    const since = Date.now() - 1000;
    // script(1) gives the plugin a pty for stderr, as an interactive user has.
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['ignore', 'ignore', 'ignore'] });
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // The API server writes an event when the request completes; give the last ones a moment.
    await new Promise((r) => setTimeout(r, 2000));
    const reqs = execRequests(cluster.ns, since);
    const spanS = reqs.length > 1 ? (reqs.at(-1)!.atMs - reqs[0]!.atMs) / 1000 : o.seconds;
    const byOp: Record<string, number> = {};
    for (const r of reqs) byOp[opOf(r)] = (byOp[opOf(r)] ?? 0) + 1;
    return {
      pods: o.pods,
      seconds: o.seconds,
      requests: reqs.length,
      perMinute: Math.round((reqs.length / Math.max(spanS, 1)) * 60),
      largestUriBytes: Math.max(0, ...reqs.map((r) => Buffer.byteLength(r.uri))),
      byOp,
      exitCode,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cluster.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { pods: { type: 'string', default: '5' }, seconds: { type: 'string', default: '60' }, plugin: { type: 'string' } } });
  const problem = (await clusterProblem()) ?? auditLogProblem();
  if (problem) {
    process.stderr.write(`exec-requests: ${problem}\n`);
    process.exit(2);
  }
  progress(`capturing ${values.pods} pods for ${values.seconds}s on a pty`);
  const f = await execRequestsBench({ pods: Number(values.pods), seconds: Number(values.seconds), plugin: values.plugin });
  process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
}
