// Release archives are deterministic: the same files give the same bytes (so the same sha256 in
// the krew manifest) whenever and wherever they are built, and krew and tar read them as meant.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeArchive, type ArchiveEntry } from '../../../scripts/release/archive.ts';

const dir = mkdtempSync(join(tmpdir(), 'knetns-archive-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MTIME = 1_700_000_000; // 2023-11-14T22:13:20Z
writeFileSync(join(dir, 'exe'), '#!/bin/sh\necho hi\n', { mode: 0o700 });
writeFileSync(join(dir, 'LICENSE'), 'licence text\n', { mode: 0o600 });
const entries: ArchiveEntry[] = [
  { name: 'kubectl-netns', source: join(dir, 'exe'), mode: 0o755 },
  { name: 'LICENSE', source: join(dir, 'LICENSE'), mode: 0o644 },
];

test('the same files give byte-identical archives, whatever the files’ own times and modes', async () => {
  await writeArchive(join(dir, 'a.tar.gz'), entries, MTIME);
  utimesSync(join(dir, 'exe'), new Date(), new Date());
  await writeArchive(join(dir, 'b.tar.gz'), entries, MTIME);
  assert.deepEqual(readFileSync(join(dir, 'a.tar.gz')), readFileSync(join(dir, 'b.tar.gz')));
});

test('GNU tar lists the entries in order with the given modes, root owner and the fixed time', async () => {
  await writeArchive(join(dir, 'c.tar.gz'), entries, MTIME);
  const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tzvf', join(dir, 'c.tar.gz')], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  assert.deepEqual(
    listing
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)),
    [
      ['-rwxr-xr-x', '0/0', '18', '2023-11-14', '22:13:20', 'kubectl-netns'],
      ['-rw-r--r--', '0/0', '13', '2023-11-14', '22:13:20', 'LICENSE'],
    ],
  );
  const out = mkdtempSync(join(dir, 'x-'));
  execFileSync('tar', ['-xzf', join(dir, 'c.tar.gz'), '-C', out]);
  assert.equal(execFileSync(join(out, 'kubectl-netns'), { encoding: 'utf8' }), 'hi\n');
});

test('the gzip header names no file and no time, and says Unix whatever machine built it', async () => {
  await writeArchive(join(dir, 'd.tar.gz'), entries, MTIME);
  const head = readFileSync(join(dir, 'd.tar.gz')).subarray(0, 10);
  assert.deepEqual([...head.subarray(0, 4)], [0x1f, 0x8b, 8, 0], 'gzip, deflate, no FNAME/FCOMMENT flags');
  assert.equal(head.readUInt32LE(4), 0, 'MTIME field is zero');
  assert.equal(head[9], 3, 'OS field is Unix');
});
