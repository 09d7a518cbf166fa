// The user's cache directory, used only when nobody else can write along its path. What is cached
// is trusted when read back: compiled code (Node's compile cache runs what it finds) and the lists
// Wireshark's dialog offers. With $XDG_CACHE_HOME on a shared path, or `sudo -E` keeping a user's
// cache directory for root, another user could plant a file there for us to load, or a symbolic
// link for us to write through. So every directory from / down must be owned by root or by us and
// not writable by others (a sticky directory such as /tmp excepted: others cannot replace what is
// ours in it); our own directories and files must be ours and private; files are read and written
// without following links, written whole under a fresh exclusive name and renamed into place.
// A cache that fails these checks is not used: it only costs time. POSIX only: on Windows the
// per-user %LOCALAPPDATA% is private by its ACL.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/** $XDG_CACHE_HOME when absolute (the XDG spec says to ignore a relative one), else ~/.cache. */
export function xdgCacheHome(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(home, '.cache');
}

const uid = process.geteuid?.();

/** Is ST writable by others than its owner, and not sticky? */
function openToOthers(mode: number): boolean {
  return (mode & 0o022) !== 0 && (mode & 0o1000) === 0;
}

/** Why the existing directory FROM and those above it may not lead to our cache; undefined when they may. */
function untrustedPath(from: string): string | undefined {
  // As the kernel resolves them (a ~/.cache that links elsewhere is followed).
  for (let d = realpathSync(from); ; d = dirname(d)) {
    const st = lstatSync(d);
    if (st.uid !== uid && st.uid !== 0) return `${d} belongs to uid ${st.uid}`;
    if (openToOthers(st.mode)) return `${d} is writable by others`;
    if (dirname(d) === d) return undefined;
  }
}

/** Why DIR (which exists; throws if not) may not hold files we trust later (a cache, Wireshark's launcher); undefined when it may. */
export function untrustedDir(dir: string): string | undefined {
  if (uid === undefined) return undefined;
  const own = lstatSync(dir);
  if (!own.isDirectory()) return `${dir} is not a directory`;
  if (own.uid !== uid) return `${dir} belongs to uid ${own.uid}`;
  if ((own.mode & 0o022) !== 0) return `${dir} is writable by others`;
  return untrustedPath(dirname(dir));
}

/**
 * Makes DIR (private to us, as are the directories it makes) once the path above it passes, and
 * checks the whole path; returns why it may not hold our cache, or undefined when it may. Never throws.
 */
export function prepareCacheDir(dir: string): string | undefined {
  try {
    if (uid !== undefined) {
      // Nothing is made inside a directory that is not ours alone.
      let existing = dir;
      while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
      const problem = untrustedPath(existing);
      if (problem !== undefined) return problem;
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return untrustedDir(dir);
  } catch (err) {
    return (err as Error).message;
  }
}

/** The file at PATH if it is a regular file of ours that others cannot write (not following a link); else undefined. */
export function readCacheFile(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const st = fstatSync(fd);
    if (!st.isFile() || (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0))) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes DATA to PATH (MODE, default 0600): under a fresh name in PATH's directory (TMP_NAME), opened
 * exclusively and never through a link, then renamed into place. Throws.
 */
export function writeCacheFile(
  path: string,
  data: Uint8Array | string,
  mode = 0o600,
  tmpName = (p: string, tag: string) => `${p}.${tag}.tmp`,
): void {
  const tmp = tmpName(path, `${process.pid}.${randomBytes(6).toString('hex')}`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
  const fd = openSync(tmp, flags, mode);
  try {
    // The mode exactly, whatever the umask (a launcher must be executable).
    fchmodSync(fd, mode);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
