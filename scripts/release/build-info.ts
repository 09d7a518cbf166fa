// What a build records about itself: package.json's version, the git commit (with -dirty when the
// work tree has uncommitted changes) and a timestamp for archive entries that changes only with
// the commit, so two builds of one commit are byte-identical (SOURCE_DATE_EPOCH overrides it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above this file). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SourceInfo {
  /** package.json's version, without v. */
  version: string;
  /** Short commit, `-dirty` appended for uncommitted changes; 'unknown' outside a git checkout. */
  commit: string;
  /** Seconds since the epoch for every archive entry's mtime. */
  sourceDateEpoch: number;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Reads the version, commit and timestamp of the checkout at ROOT. */
export function sourceInfo(env: NodeJS.ProcessEnv = process.env): SourceInfo {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const head = git(['rev-parse', '--short=12', 'HEAD']);
  const dirty = head !== undefined && git(['status', '--porcelain']) !== '';
  const fromEnv = env.SOURCE_DATE_EPOCH;
  const epoch = fromEnv && /^[0-9]+$/.test(fromEnv) ? Number(fromEnv) : Number(git(['log', '-1', '--format=%ct']) ?? 0);
  return { version: pkg.version, commit: head ? `${head}${dirty ? '-dirty' : ''}` : 'unknown', sourceDateEpoch: epoch };
}
