// Runs a contender as a child process under GNU time, so every one of them (node, kubectl, sh) is
// measured the same way: wall time, peak RSS and CPU seconds from the kernel's own accounting
// (wait4's rusage), not from samples that can miss a peak.
import { spawn, type StdioOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Usage {
  wallS: number;
  /** Peak resident set of the process itself (not its children), MB. */
  maxRssMB: number;
  /** User + system CPU seconds, children included (wait4 counts waited-for descendants). */
  cpuS: number;
}

export interface Timed {
  /** The measured process (GNU time's child): signal this one, not time itself. */
  pid(): number | undefined;
  /** Resolves when it exits, with its usage and exit code. */
  done: Promise<Usage & { code: number; stderr: string }>;
  /** stdout, when it was piped. */
  stdout: NodeJS.ReadableStream | null;
  /** Each line of stderr as it arrives. */
  onLine(fn: (line: string) => void): void;
  /** Sends SIG to the measured process. */
  signal(sig: NodeJS.Signals): void;
}

/**
 * Starts ARGV under GNU time. STDOUT is 'pipe', 'ignore' or a file descriptor.
 * stdin is closed; stderr is collected and split into lines.
 */
export function timed(
  argv: string[],
  opts: { stdout?: 'pipe' | 'ignore' | number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Timed {
  const dir = mkdtempSync(join(tmpdir(), 'knetns-bench-time-'));
  const out = join(dir, 'usage');
  const stdio: StdioOptions = ['ignore', opts.stdout ?? 'ignore', 'pipe'];
  const child = spawn(GNU_TIME, ['-o', out, '-f', '%e %M %U %S', ...argv], {
    stdio,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  let stderr = '';
  let partial = '';
  const listeners: Array<(line: string) => void> = [];
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    partial += c.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) for (const fn of listeners) fn(l);
  });
  const innerPid = (): number | undefined => {
    if (child.pid === undefined) return undefined;
    try {
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
      const pid = Number(kids[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const done = new Promise<Usage & { code: number; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        // GNU time writes "Command exited with non-zero status N" before the format line.
        const lines = readFileSync(out, 'utf8').trim().split('\n');
        const [e, m, u, s] = lines.at(-1)!.split(' ').map(Number) as [number, number, number, number];
        resolve({ wallS: e, maxRssMB: m / 1024, cpuS: u + s, code: code ?? 128, stderr });
      } catch (err) {
        reject(new Error(`no usage from GNU time for ${argv.join(' ')}: ${String(err)}; stderr: ${stderr}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
  return {
    pid: innerPid,
    done,
    stdout: child.stdout,
    onLine: (fn) => listeners.push(fn),
    signal(sig) {
      const pid = innerPid();
      if (pid !== undefined) {
        try {
          process.kill(pid, sig);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Resolves once COUNT stderr lines of T have matched RE, or rejects after MS. */
export function waitForLine(t: Timed, re: RegExp, ms: number, count = 1): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms`)), ms);
    let settled = false;
    let seen = 0;
    t.onLine((line) => {
      if (settled || !re.test(line) || ++seen < count) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    });
    void t.done.then(
      (r) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`exited (${r.code}) before a line matching ${re}; stderr:\n${r.stderr.slice(-2000)}`));
      },
      () => {},
    );
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
