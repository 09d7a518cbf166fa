// Writing the launcher into an extcap folder and taking it out again. The launcher names this
// kubectl-netns by absolute path, so install checks it by running it the way Wireshark will.
// Wireshark runs whatever is in that folder, as the user who starts it: a folder others can write
// (or whose path they can change) would let them replace the launcher, so install refuses it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitCode, UserError } from '../errors.ts';
import { untrustedDir, writeCacheFile } from '../user-cache.ts';
import { LAUNCHER_MARK, launcherName, launcherText, type LauncherEnv, type SelfCommand } from './launcher.ts';

/** How this process was started: a single executable (Node SEA) runs itself; otherwise node runs the script. */
export async function selfCommand(): Promise<SelfCommand> {
  const sea = await import('node:sea').then(
    (m) => m.isSea(),
    () => false,
  );
  if (sea) return { program: process.execPath, script: undefined };
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell which script runs kubectl-netns');
  // The real file, not a symlink on PATH that may point elsewhere later.
  return { program: process.execPath, script: realpathSync(script) };
}

/** Is the file at PATH a launcher we wrote? */
export function isOurLauncher(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').slice(0, 400).includes(LAUNCHER_MARK);
  } catch {
    return false;
  }
}

/** A write into DIR that failed, in words that say what to do. */
function cannotWrite(dir: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new UserError(`cannot write the launcher into ${dir}: ${code}`, {
    exitCode: ExitCode.output,
    hint:
      code === 'EACCES' || code === 'EPERM'
        ? 'that folder is not yours: rerun as its owner (e.g. with sudo), or choose a folder Wireshark reads with --dir'
        : 'choose a folder Wireshark reads with --dir',
    cause: err,
  });
}

/** Writes (or replaces our own) launcher into DIR; returns its path and whether one was there. */
export function writeLauncher(
  dir: string,
  platform: NodeJS.Platform,
  self: SelfCommand,
  env: LauncherEnv,
): { path: string; replaced: boolean } {
  const path = join(dir, launcherName(platform));
  const replaced = existsSync(path);
  if (replaced && !isOurLauncher(path)) {
    throw new UserError(`${path} exists and is not a kubectl-netns launcher`, {
      exitCode: ExitCode.output,
      hint: 'move it away, or install into another folder with --dir',
    });
  }
  let problem: string | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    problem = platform === 'win32' ? undefined : untrustedDir(dir);
  } catch (err) {
    throw cannotWrite(dir, err);
  }
  if (problem !== undefined) {
    throw new UserError(`refusing to put the launcher into ${dir}: ${problem}`, {
      exitCode: ExitCode.output,
      hint: 'Wireshark runs what is in that folder as you: anyone who can write it could replace the launcher. Make it yours alone (chmod go-w), or choose another folder with --dir',
    });
  }
  try {
    // Written whole under a fresh hidden name (exclusive, never through a link), then renamed:
    // Wireshark never runs half a launcher, nor one someone else prepared.
    writeCacheFile(path, launcherText(platform, self, env), 0o755, (p, tag) =>
      join(dirname(p), `.${basename(p)}.${tag}.tmp`),
    );
  } catch (err) {
    throw cannotWrite(dir, err);
  }
  return { path, replaced };
}

/** Runs the launcher at PATH as Wireshark does at start-up; returns the interfaces it lists. */
export function checkLauncher(path: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv = process.env): string[] {
  const args = ['--extcap-interfaces', '--extcap-version=4.0'];
  let out: string;
  try {
    out =
      platform === 'win32'
        ? execFileSync(process.env.ComSpec ?? 'cmd.exe', ['/d', '/c', path, ...args], { encoding: 'utf8', env })
        : execFileSync(path, args, { encoding: 'utf8', env });
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message: string };
    throw new UserError(
      `the launcher ${path} does not run: ${
        String(e.stderr ?? e.message)
          .trim()
          .split('\n')[0]
      }`,
      {
        exitCode: ExitCode.output,
        hint: 'kubectl-netns may have moved since: run install again from the kubectl-netns you use',
        cause: err,
      },
    );
  }
  return [...out.matchAll(/^interface \{value=([^}]*)\}\{display=([^}]*)\}/gm)].map((m) => `${m[2]} [${m[1]}]`);
}

/** Removes our launcher from each of DIRS; files there that are not ours are reported, not touched. */
export function removeLaunchers(
  dirs: readonly string[],
  platform: NodeJS.Platform,
): { removed: string[]; foreign: string[] } {
  const removed: string[] = [];
  const foreign: string[] = [];
  for (const dir of new Set(dirs)) {
    const path = join(dir, launcherName(platform));
    if (!existsSync(path)) continue;
    if (!isOurLauncher(path)) {
      foreign.push(path);
      continue;
    }
    try {
      rmSync(path);
    } catch (err) {
      throw cannotWrite(dir, err);
    }
    removed.push(path);
  }
  return { removed, foreign };
}
