// Where the module code cache goes: the user's own cache directory, never the shared temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { compileCacheDir } from '../../../src/cli/compile-cache.ts';

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
