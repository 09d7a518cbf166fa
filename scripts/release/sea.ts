// Node single-executable applications: one preparation blob made from the bundle, injected into a
// copy of each target's node binary with postject. Node 22 has no --build-sea, so the blob comes
// from `node --experimental-sea-config`, run by a node of exactly the targets' version. No V8
// snapshot or code cache in the blob: those are specific to the platform that made them, are not
// byte-reproducible, and the blob must work on all six. Instead the blob's main script (SEA_MAIN)
// keeps V8's code cache in the user's cache directory, made on the first run.
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
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
 * `--version` 0.31 s without, 0.16 s with. A failure to read or write it only costs time.
 *
 * V8 runs the code a cache holds and checks little more than the source's length: it ran a cache
 * compiled from other source of the same length. So the cache is trusted as src/user-cache.ts
 * trusts a cache (this runs before the bundle, so it cannot import it; the rules are the same):
 * the cache directory is ours and private, every directory above it is root's or ours and not
 * writable by others (sticky ones excepted); the file is ours, read and written without following
 * links, written under a fresh exclusive name and renamed. And each file starts with the SHA-256 of
 * the source it was made from (BUNDLE_HASH, fixed when the blob is made), so a cache of other
 * source is never handed to V8; BUNDLE_KEY (its first 16 digits) names the file, so an upgrade
 * starts a new one. The directory follows compileCacheDir's rule (src/cli/compile-cache.ts):
 * $XDG_CACHE_HOME only when absolute.
 */
const SEA_MAIN = `'use strict';
const { getAsset } = require('node:sea');
const { Script, constants } = require('node:vm');
const fs = require('node:fs');
const { join, dirname, isAbsolute } = require('node:path');
const { homedir } = require('node:os');
const env = process.env;
const base =
  process.platform === 'win32'
    ? env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local')
    : env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : join(homedir(), '.cache');
const dir = join(base, 'kubectl-netns', 'sea-code-cache');
const file = join(dir, 'BUNDLE_KEY-' + process.arch + '.bin');
const hash = Buffer.from('BUNDLE_HASH', 'hex');
const uid = process.geteuid ? process.geteuid() : undefined;
const NOFOLLOW = fs.constants.O_NOFOLLOW || 0;
function pathOk(from) {
  for (let d = fs.realpathSync(from); ; d = dirname(d)) {
    const st = fs.lstatSync(d);
    if (st.uid !== uid && st.uid !== 0) return false;
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return false;
    if (dirname(d) === d) return true;
  }
}
function dirOk() {
  if (uid === undefined) return true;
  const st = fs.lstatSync(dir);
  return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0 && pathOk(dirname(dir));
}
function readCache() {
  let fd;
  try {
    if (!dirOk()) return undefined;
    fd = fs.openSync(file, fs.constants.O_RDONLY | NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0))) return undefined;
    const data = fs.readFileSync(fd);
    return data.subarray(0, hash.length).equals(hash) ? data.subarray(hash.length) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
function writeCache(data) {
  if (uid !== undefined) {
    let existing = dir;
    while (!fs.existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
    if (!pathOk(existing)) return;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!dirOk()) return;
  const tmp = file + '.' + process.pid + '.' + require('node:crypto').randomBytes(6).toString('hex');
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, 0o600);
  try {
    const all = Buffer.concat([hash, data]);
    for (let at = 0; at < all.length; ) at += fs.writeSync(fd, all, at);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
const cachedData = readCache();
const script = new Script(getAsset('BUNDLE_ASSET', 'utf8'), {
  filename: 'BUNDLE_ASSET',
  cachedData,
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      writeCache(script.createCachedData());
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
  // The asset is the bundle without its #! line (kept as an empty line, so line numbers hold),
  // already wrapped as a CommonJS module, so the start-up script compiles it without making a
  // second copy of it; and ASCII only (non-ASCII left in comments escaped), so V8 keeps it as a
  // one-byte string, half the memory of a two-byte one.
  const asset = `${main}.asset`;
  const source = asciiOnly(Module.wrap(readFileSync(join(dir, main), 'utf8').replace(/^#!.*/, '')));
  writeFileSync(join(dir, asset), source);
  // The hash of the source V8 compiles.
  const hash = createHash('sha256').update(source).digest('hex');
  writeFileSync(
    join(dir, 'sea-main.cjs'),
    SEA_MAIN.replaceAll('BUNDLE_HASH', hash)
      .replaceAll('BUNDLE_KEY', hash.slice(0, 16))
      .replaceAll('BUNDLE_ASSET', asset),
  );
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

/** TEXT with every non-ASCII character as a \\uXXXX escape, which means the same in JavaScript's comments, strings and regular expressions (esbuild already escapes them outside comments). */
export function asciiOnly(text: string): string {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
