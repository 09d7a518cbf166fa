// Node single-executable applications: one preparation blob made from the bundle, injected into a
// copy of each target's node binary with postject. Node 22 has no --build-sea, so the blob comes
// from `node --experimental-sea-config`, run by a node of exactly the targets' version. No V8
// snapshot or code cache in the blob: those are specific to the platform that made them, are not
// byte-reproducible, and the blob must work on all six. Instead the blob's main script (SEA_MAIN)
// keeps V8's code cache in the user's cache directory, made on the first run.
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { quietly } from './quietly.ts';
import type { Target } from './targets.ts';

/** The fuse Node looks for to know it carries a blob (the same in every Node release). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const POSTJECT_CLI = createRequire(import.meta.url).resolve('postject/dist/cli.js');

/**
 * The blob's main script: runs the bundle (asset BUNDLE_ASSET) through vm.Script with V8's code
 * cache from the user's cache directory, written at the end of a run that had none (or a stale
 * one), so every later start skips compiling the ~9 MB bundle: measured on linux_amd64,
 * `--version` 0.31 s without, 0.16 s with. BUNDLE_KEY names the bundle, so an upgrade never
 * reuses an old cache (V8 would reject it anyway). A failure to read or write it only costs time.
 * Its cache directory follows compileCacheDir's rule (src/cli/compile-cache.ts): it runs before the
 * bundle, so it cannot call it.
 */
const SEA_MAIN = `'use strict';
const { getAsset } = require('node:sea');
const { Script, constants } = require('node:vm');
const fs = require('node:fs');
const { join, dirname } = require('node:path');
const { homedir } = require('node:os');
const env = process.env;
const base =
  process.platform === 'win32'
    ? env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local')
    : env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/')
      ? env.XDG_CACHE_HOME
      : join(homedir(), '.cache');
const file = join(base, 'kubectl-netns', 'sea-code-cache', 'BUNDLE_KEY-' + process.arch + '.bin');
let cachedData;
try {
  cachedData = fs.readFileSync(file);
} catch {}
const script = new Script(require('node:module').wrap(getAsset('BUNDLE_ASSET', 'utf8')), {
  filename: 'BUNDLE_ASSET',
  cachedData,
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      fs.mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const tmp = file + '.' + process.pid;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch {}
  });
}
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, process.execPath, dirname(process.execPath));
`;

/**
 * Writes the preparation blob for the bundle MAIN (a file name in DIR) into DIR using NODE (the
 * targets' version). Paths are relative to DIR: the blob records them, and absolute ones would
 * make the output depend on where the release was built.
 */
export function makeBlob(node: string, main: string, dir: string): string {
  const key = createHash('sha256')
    .update(readFileSync(join(dir, main)))
    .digest('hex')
    .slice(0, 16);
  // The asset is the bundle without its #! line (kept as an empty line, so line numbers hold),
  // which wrapped in a function would be a syntax error.
  const asset = `${main}.asset`;
  writeFileSync(join(dir, asset), readFileSync(join(dir, main), 'utf8').replace(/^#!.*/, ''));
  writeFileSync(join(dir, 'sea-main.cjs'), SEA_MAIN.replaceAll('BUNDLE_KEY', key).replaceAll('BUNDLE_ASSET', asset));
  writeFileSync(
    join(dir, 'sea-config.json'),
    JSON.stringify({
      main: 'sea-main.cjs',
      output: 'sea-prep.blob',
      assets: { [asset]: asset },
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  quietly(node, ['--experimental-sea-config', 'sea-config.json'], dir);
  return join(dir, 'sea-prep.blob');
}

/** Copies TARGET's NODE binary to OUT and injects BLOB into it. Mach-O and PE signatures are dropped. */
export function injectBlob(target: Target, node: string, blob: string, out: string): void {
  copyFileSync(node, out);
  const macho = target.os === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [];
  quietly(process.execPath, [POSTJECT_CLI, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE, ...macho]);
}
