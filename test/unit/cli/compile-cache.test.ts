// Where the module code cache goes: the user's own cache directory, never the shared temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCacheDir } from '../../../src/cli/compile-cache.ts';
import { runPlugin } from '../../helpers/plugin.ts';
import { tempDir } from '../../helpers/temp.ts';

test(
  'the code cache is per user: $XDG_CACHE_HOME when absolute, else ~/.cache; never the temp dir',
  { skip: process.platform === 'win32' },
  () => {
    assert.equal(
      compileCacheDir({ XDG_CACHE_HOME: '/var/cache/u1' }, '/home/u1'),
      '/var/cache/u1/kubectl-netns/node-compile-cache',
    );
    assert.equal(compileCacheDir({}, '/home/u1'), '/home/u1/.cache/kubectl-netns/node-compile-cache');
    // The XDG spec ignores relative paths; so do we.
    assert.equal(
      compileCacheDir({ XDG_CACHE_HOME: 'rel/dir' }, '/home/u1'),
      '/home/u1/.cache/kubectl-netns/node-compile-cache',
    );
    assert.ok(!compileCacheDir({}, '/home/u1').startsWith(tmpdir()));
  },
);

test(
  'the cache is used only in a directory nobody else can write: one another user made is left alone',
  { skip: process.platform === 'win32' },
  async () => {
    const mine = tempDir('knetns-cc-mine-');
    const r = await runPlugin(['version'], { env: { XDG_CACHE_HOME: mine } });
    assert.equal(r.code, 0, r.stderr);
    const made = join(mine, 'kubectl-netns', 'node-compile-cache');
    assert.ok(readdirSync(made).length > 0, 'the cache was written');
    assert.equal(statSync(made).mode & 0o777, 0o700);

    // A shared cache path (sticky and world-writable, as /tmp) where another user made our folder first.
    const shared = tempDir('knetns-cc-shared-');
    chmodSync(shared, 0o1777);
    const theirs = join(shared, 'kubectl-netns');
    mkdirSync(theirs);
    chmodSync(theirs, 0o777);
    chownSync(theirs, 65534, 65534);
    const again = await runPlugin(['version'], { env: { XDG_CACHE_HOME: shared } });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(readdirSync(theirs), [], 'nothing of ours was written into (or read from) their folder');
  },
);
