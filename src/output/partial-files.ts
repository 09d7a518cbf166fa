// Capture files a killed run left unfinished. A file is written under a hidden temporary name
// (.NAME.kubectl-netns-PID.partial, next to NAME) and moved into place when complete; a SIGKILL, a
// crash or a power cut leaves it there, hidden from `ls`. The next capture into that directory and
// `cleanup` say where such files are: they hold the packets up to the kill (the last one may be
// cut), so they are reported, never deleted.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { warn } from '../log.ts';

const PARTIAL = /^\.(.+)\.kubectl-netns-(\d+)\.partial$/;

/** The temporary name a capture to PATH is written under by process PID. */
export function partialPath(path: string, pid: number = process.pid): string {
  return join(dirname(path), `.${basename(path)}.kubectl-netns-${pid}.partial`);
}

export interface LeftoverPartial {
  path: string;
  /** The name the capture was meant to get. */
  meantFor: string;
  bytes: number;
  modified: Date;
}

/** Is process PID still running (then its .partial file is a capture in progress)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The unfinished captures in DIR whose writer is gone, oldest first; none when DIR cannot be read. */
export function leftoverPartials(where: string, isAlive: (pid: number) => boolean = alive): LeftoverPartial[] {
  const dir = resolve(where);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: LeftoverPartial[] = [];
  for (const name of names) {
    const m = PARTIAL.exec(name);
    if (!m || isAlive(Number(m[2]))) continue;
    try {
      const st = statSync(join(dir, name));
      if (!st.isFile()) continue;
      found.push({ path: join(dir, name), meantFor: join(dir, m[1]!), bytes: st.size, modified: st.mtime });
    } catch {
      // Gone meanwhile.
    }
  }
  return found.sort((a, b) => a.modified.getTime() - b.modified.getTime());
}

/** One line per leftover in DIR, for people (stderr); nothing when there is none. */
export function reportLeftoverPartials(dir: string): LeftoverPartial[] {
  const found = leftoverPartials(dir);
  for (const f of found) {
    warn(
      `${f.path} is a capture a killed run left unfinished (${f.bytes} bytes, last written ${f.modified.toISOString()}): it holds the packets up to the kill; rename it (e.g. to ${f.meantFor}) to keep it, or delete it`,
    );
  }
  return found;
}
