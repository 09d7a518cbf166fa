// Node's on-disk code cache for the modules a run loads (node:module enableCompileCache): the npm
// build loads ~1000 module files (most of them @kubernetes/client-node's), and compiling them was
// ~0.3 s of every command that talks to a cluster. The cache lives in the user's own cache
// directory, not in Node's default (the shared temporary directory, where another local user
// could plant code for us to run). A failure to use it only costs that time.
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the cache goes: $XDG_CACHE_HOME, else ~/.cache (%LOCALAPPDATA% on Windows). */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const base =
    process.platform === 'win32'
      ? (env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'))
      : env.XDG_CACHE_HOME?.startsWith('/')
        ? env.XDG_CACHE_HOME
        : join(home, '.cache');
  return join(base, 'kubectl-netns', 'node-compile-cache');
}

/** Turns the code cache on for every module loaded from now on. Never throws. */
export function useCompileCache(): void {
  try {
    // Undefined before Node 22.1; the single executable has no module files to cache, but no harm.
    enableCompileCache?.(compileCacheDir());
  } catch {
    // A read-only home, an odd platform: the run just compiles as before.
  }
}
