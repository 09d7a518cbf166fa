// The user's cache directory is used only when nobody else can write along its path; files in it
// are read and written without following links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareCacheDir, readCacheFile, writeCacheFile, xdgCacheHome } from '../../src/user-cache.ts';
import { tempDir } from '../helpers/temp.ts';

test('$XDG_CACHE_HOME only when absolute', () => {
  assert.equal(xdgCacheHome({ XDG_CACHE_HOME: '/c' }, '/home/u'), '/c');
  assert.equal(xdgCacheHome({ XDG_CACHE_HOME: 'c' }, '/home/u'), '/home/u/.cache');
  assert.equal(xdgCacheHome({}, '/home/u'), '/home/u/.cache');
});

test(
  'inside a sticky shared directory our own private folder is fine; inside a world-writable one it is not',
  { skip: process.platform === 'win32' },
  () => {
    const sticky = tempDir('knetns-uc-sticky-');
    chmodSync(sticky, 0o1777);
    assert.equal(prepareCacheDir(join(sticky, 'kubectl-netns', 'x')), undefined);
    assert.equal(statSync(join(sticky, 'kubectl-netns')).mode & 0o777, 0o700);

    const open = tempDir('knetns-uc-open-');
    chmodSync(open, 0o777);
    assert.match(prepareCacheDir(join(open, 'kubectl-netns')) ?? '', /is writable by others/);
    const loose = join(tempDir('knetns-uc-loose-'), 'kubectl-netns');
    mkdirSync(loose, { mode: 0o700 });
    chmodSync(loose, 0o775);
    assert.match(prepareCacheDir(loose) ?? '', /is writable by others/);
  },
);

test(
  'a file is read only when it is a regular file of ours, not a link; written private and whole',
  { skip: process.platform === 'win32' },
  () => {
    const dir = tempDir('knetns-uc-files-');
    writeCacheFile(join(dir, 'a'), 'data');
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o600);
    assert.equal(readCacheFile(join(dir, 'a'))?.toString(), 'data');
    symlinkSync(join(dir, 'a'), join(dir, 'link'));
    assert.equal(readCacheFile(join(dir, 'link')), undefined);
    writeFileSync(join(dir, 'shared'), 'x', { mode: 0o666 });
    chmodSync(join(dir, 'shared'), 0o666);
    assert.equal(readCacheFile(join(dir, 'shared')), undefined);
  },
);
