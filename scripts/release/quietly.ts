// Runs a build tool whose chatter (LIEF's "signature seems corrupted" for the signature postject
// drops, its section-name warnings, rcodesign's progress) is only worth showing when it fails.
import { execFileSync } from 'node:child_process';

/** Runs CMD ARGS (in CWD) with output captured; on failure writes that output to stderr and throws. */
export function quietly(cmd: string, args: string[], cwd?: string): void {
  try {
    execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    process.stderr.write(`${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
    throw err;
  }
}
