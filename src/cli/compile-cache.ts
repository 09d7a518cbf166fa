// Node's on-disk code cache for the modules a run loads (node:module enableCompileCache): the npm
// build loads ~1000 module files (most of them @kubernetes/client-node's), and compiling them was
// ~0.3 s of every command that talks to a cluster. Node runs what it finds there, so the cache lives
// in the user's own cache directory, not in Node's default (the shared temporary directory), and is
// used only when nobody else can write along its path (src/user-cache.ts): otherwise another local
// user could plant code for us to run. A failure to use it only costs that time.
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { prepareCacheDir, xdgCacheHome } from '../user-cache.ts';

/** Where the cache goes: $XDG_CACHE_HOME when absolute, else ~/.cache (%LOCALAPPDATA% on Windows). */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const base =
    process.platform === 'win32' ? (env.LOCALAPPDATA ?? join(home, 'AppData', 'Local')) : xdgCacheHome(env, home);
  return join(base, 'kubectl-netns', 'node-compile-cache');
}

/** Turns the code cache on for every module loaded from now on, if its directory is ours alone. Never throws. */
export function useCompileCache(): void {
  try {
    const dir = compileCacheDir();
    if (prepareCacheDir(dir) !== undefined) return;
    // Undefined before Node 22.1; the single executable has no module files to cache, but no harm.
    enableCompileCache?.(dir);
  } catch {
    // A read-only home, an odd platform: the run just compiles as before.
  }
}
