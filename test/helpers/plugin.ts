// Runs the real plugin executable (dist/main.js, built by `npm test`'s pretest) as a user would,
// against the local cluster, with the locally built debug image.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PLUGIN = `${ROOT}/dist/main.js`;
/** Built and imported by scripts/images/build.ts; the product's default stays a public image. */
export const DEBUG_IMAGE = 'kubectl-netns.local/debug:dev';
export const WEB_IMAGE = 'kubectl-netns.local/web:dev';

export interface PluginResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/** Starts the plugin; stdout/stderr are piped unless told otherwise. */
export function startPlugin(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore'; cwd?: string } = {},
): ChildProcess {
  return spawn(process.execPath, [PLUGIN, ...args], {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
}

/** Collects a started plugin's output and exit. */
export function collect(child: ChildProcess, timeoutMs = 120_000): Promise<PluginResult> {
  const started = Date.now();
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // SIGTERM first so the plugin still deletes its debug pod; SIGKILL if that hangs too.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      reject(new Error(`plugin did not exit within ${timeoutMs}ms; stderr so far:\n${err}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - started });
    });
  });
}

/** Runs the plugin to completion, optionally feeding stdin. */
export function runPlugin(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number; cwd?: string } = {},
): Promise<PluginResult> {
  const child = startPlugin(args, {
    env: opts.env,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    cwd: opts.cwd,
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  return collect(child, opts.timeoutMs);
}

/** Resolves once stderr has shown a line matching `re` (e.g. tcpdump is listening). */
export function waitForStderr(child: ChildProcess, re: RegExp, timeoutMs = 90_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${re} on stderr within ${timeoutMs}ms; got:\n${seen}`)),
      timeoutMs,
    );
    const onData = (c: Buffer) => {
      seen += c.toString();
      if (re.test(seen)) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.on('close', () => {
      clearTimeout(timer);
      if (!re.test(seen)) reject(new Error(`plugin exited before ${re}; stderr:\n${seen}`));
    });
  });
}
