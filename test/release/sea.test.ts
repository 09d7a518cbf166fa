// The single executable's start-up script (scripts/release/sea.ts) and its V8 code cache, for
// real: two small single executables built the way the release builds them (makeBlob, injectBlob)
// on this Node, from two bundles of the same length that print GOOD and EVIL. V8 checks little more
// than the source's length before it runs a cache, so a cache compiled from other source must
// never reach it, and a cache directory someone else can write must never be used.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { injectBlob, makeBlob } from '../../scripts/release/sea.ts';
import { TARGETS } from '../../scripts/release/targets.ts';

const host = TARGETS.find((t) => t.platform === process.platform && t.nodeArch === process.arch);
const skip = !host || host.os === 'windows' ? `no single executable to run on ${process.platform}` : false;
const work = mkdtempSync(join(tmpdir(), 'knetns-sea-'));
const exe = { good: join(work, 'good'), evil: join(work, 'evil') };

/** A single executable at OUT whose bundle prints WORD. */
function build(word: string, out: string): void {
  const dir = join(work, `${word}-build`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.cjs'), `#!/usr/bin/env node\nprocess.stdout.write(${JSON.stringify(word)} + '\\n');\n`);
  injectBlob(host!, process.execPath, makeBlob(process.execPath, 'app.cjs', dir), out);
}

/** Runs EXE with XDG_CACHE_HOME=CACHE (and HOME); resolves with what it printed. */
function run(path: string, cache: string, home = join(work, 'home')): string {
  return execFileSync(path, [], { env: { PATH: '/nonexistent', XDG_CACHE_HOME: cache, HOME: home }, cwd: work, encoding: 'utf8' });
}

/** The one cache file under CACHE. */
function cacheFile(cache: string): string {
  const dir = join(cache, 'kubectl-netns', 'sea-code-cache');
  const files = readdirSync(dir);
  assert.equal(files.length, 1, files.join(', '));
  return join(dir, files[0]!);
}

/** A new cache directory. */
function newCache(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

describe('the single executable and its code cache', { skip, timeout: 300_000 }, () => {
  before(() => {
    build('GOOD', exe.good);
    build('EVIL', exe.evil);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('the first run writes the cache (private, marked with its source), the next runs from it', () => {
    const cache = newCache('c-first');
    assert.equal(run(exe.good, cache), 'GOOD\n');
    const file = cacheFile(cache);
    assert.equal(statSync(join(cache, 'kubectl-netns', 'sea-code-cache')).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const before = statSync(file).mtimeMs;
    assert.equal(run(exe.good, cache), 'GOOD\n');
    assert.equal(statSync(file).mtimeMs, before, 'accepted: not written again');
  });

  test('a cache compiled from other source of the same length is never run', () => {
    const theirs = newCache('c-evil');
    assert.equal(run(exe.evil, theirs), 'EVIL\n');
    const mine = newCache('c-mine');
    assert.equal(run(exe.good, mine), 'GOOD\n');
    // EVIL's cache put where GOOD looks for its own.
    copyFileSync(cacheFile(theirs), cacheFile(mine));
    assert.equal(run(exe.good, mine), 'GOOD\n');
    // It was replaced by GOOD's own.
    assert.equal(run(exe.good, mine), 'GOOD\n');
  });

  test('a cache folder another user made, or one others can write, is neither read nor written', () => {
    const theirs = newCache('c-ref');
    run(exe.evil, theirs);
    const evilBody = readFileSync(cacheFile(theirs)).subarray(32);
    const mine = newCache('c-ref-good');
    run(exe.good, mine);
    const goodName = cacheFile(mine).slice(mine.length + 1);
    const goodHash = readFileSync(cacheFile(mine)).subarray(0, 32);
    // A forged file: GOOD's mark (anyone can compute it) on EVIL's code, planted where GOOD looks.
    for (const [name, plant] of [
      [
        'c-nobody',
        (d: string) => {
          chmodSync(d, 0o1777);
          chownSync(join(d, 'kubectl-netns'), 65534, 65534);
          chownSync(join(d, 'kubectl-netns', 'sea-code-cache'), 65534, 65534);
        },
      ],
      ['c-open', (d: string) => chmodSync(join(d, 'kubectl-netns', 'sea-code-cache'), 0o777)],
      ['c-open-parent', (d: string) => chmodSync(d, 0o777)],
    ] as const) {
      const d = newCache(name);
      mkdirSync(join(d, 'kubectl-netns', 'sea-code-cache'), { recursive: true });
      const forged = join(d, goodName);
      writeFileSync(forged, Buffer.concat([goodHash, evilBody]), { mode: 0o600 });
      plant(d);
      assert.equal(run(exe.good, d), 'GOOD\n', name);
      assert.deepEqual(readdirSync(join(d, 'kubectl-netns', 'sea-code-cache')), [goodName.split('/').pop()], name);
    }
  });

  test('a link at the cache file is not followed; a relative $XDG_CACHE_HOME is ignored', () => {
    const cache = newCache('c-link');
    run(exe.good, cache);
    const file = cacheFile(cache);
    const victim = join(work, 'victim');
    writeFileSync(victim, 'keep me');
    rmSync(file);
    symlinkSync(victim, file);
    assert.equal(run(exe.good, cache), 'GOOD\n');
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.ok(lstatSync(file).isFile(), 'the link was replaced by our own file');

    const home = join(work, 'rel-home');
    mkdirSync(home, { mode: 0o700 });
    assert.equal(run(exe.good, 'rel-cache', home), 'GOOD\n');
    assert.equal(existsSync(join(work, 'rel-cache')), false);
    assert.ok(existsSync(join(home, '.cache', 'kubectl-netns', 'sea-code-cache')));
  });
});
