// The last namespace and pod lists the options dialog loaded, per interface. Wireshark builds the
// dialog from `--extcap-config`, which it also runs at every start-up for every interface, so that
// call must not ask the API server anything; without a memory of the last lists, the pod chosen
// last time would not be among the dialog's choices, and Wireshark would forget it. The lists are
// only a convenience: a reload button refreshes them, and a stale pod fails with a clear error.
// They are read only from a cache directory nobody else can write (src/user-cache.ts): a planted
// list would put another's pod names into the dialog.
import { homedir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { prepareCacheDir, readCacheFile, untrustedDir, writeCacheFile, xdgCacheHome } from '../user-cache.ts';

export interface Choice {
  value: string;
  display: string;
}

export interface CachedChoices {
  namespaces?: string[] | undefined;
  /** The pods (and workloads) of one namespace. */
  pods?: { namespace: string; choices: Choice[] } | undefined;
}

/** Where per-user caches go on this platform. */
export function cacheDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (platform === 'win32') {
    return win32.join(env.LOCALAPPDATA ?? win32.join(home, 'AppData', 'Local'), 'kubectl-netns', 'cache');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Caches', 'kubectl-netns');
  return posix.join(xdgCacheHome(env, home), 'kubectl-netns');
}

function cacheFile(iface: string, dir: string): string {
  return join(dir, 'wireshark', `${iface}.json`);
}

/** Is V a list of choices? */
function isChoices(v: unknown): v is Choice[] {
  return (
    Array.isArray(v) &&
    v.every((c: unknown) => {
      const o = c as Partial<Record<keyof Choice, unknown>> | null;
      return typeof o === 'object' && o !== null && typeof o.value === 'string' && typeof o.display === 'string';
    })
  );
}

/** The cached lists for IFACE; nothing when there are none or the file is not ours to understand. */
export function readChoices(iface: string, dir: string = cacheDir()): CachedChoices {
  try {
    // A missing directory throws: no lists yet.
    if (untrustedDir(join(dir, 'wireshark')) !== undefined) return {};
    const bytes = readCacheFile(cacheFile(iface, dir));
    if (!bytes) return {};
    const doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const out: CachedChoices = {};
    if (Array.isArray(doc.namespaces) && doc.namespaces.every((n) => typeof n === 'string')) {
      out.namespaces = doc.namespaces;
    }
    const pods = doc.pods as Record<string, unknown> | undefined;
    if (pods && typeof pods.namespace === 'string' && isChoices(pods.choices)) {
      out.pods = { namespace: pods.namespace, choices: pods.choices };
    }
    return out;
  } catch {
    return {};
  }
}

/** Merges UPDATE into IFACE's cached lists; a cache that cannot be written is no reason to fail. */
export function writeChoices(iface: string, update: CachedChoices, dir: string = cacheDir()): void {
  const file = cacheFile(iface, dir);
  try {
    if (prepareCacheDir(join(dir, 'wireshark')) !== undefined) return;
    // Written whole, then renamed: a dialog opening meanwhile never reads half a file.
    writeCacheFile(file, JSON.stringify({ ...readChoices(iface, dir), ...update }));
  } catch {
    // Only the next dialog's convenience is lost.
  }
}
