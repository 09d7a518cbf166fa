// The ring's shape for a spool size, and the disk the debug pod must allow for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SPOOL_BYTES, spoolDir, spoolDiskBytes, spoolGeometry } from '../../../src/node/spool-plan.ts';

test('spoolGeometry: 16 files where it can, files of 1 to 64 MB, never fewer than 2', () => {
  assert.deepEqual(spoolGeometry(DEFAULT_SPOOL_BYTES), { ringFiles: 16, fileMB: 32 });
  assert.deepEqual(spoolGeometry(2_000_000), { ringFiles: 2, fileMB: 1 });
  assert.deepEqual(spoolGeometry(10_000_000), { ringFiles: 10, fileMB: 1 });
  assert.deepEqual(spoolGeometry(16_000_000_000), { ringFiles: 250, fileMB: 64 });
  // Never more than asked: files × size stays within the spool.
  for (const b of [2e6, 3.5e6, 17e6, 512e6, 1e9, 5.5e9]) {
    const g = spoolGeometry(b);
    assert.ok(g.ringFiles * g.fileMB * 1e6 <= b, `${b}`);
  }
});

test('spoolDiskBytes: the ring plus two files and a margin; spoolDir under the volume', () => {
  const g = spoolGeometry(DEFAULT_SPOOL_BYTES);
  assert.ok(spoolDiskBytes(DEFAULT_SPOOL_BYTES) >= (g.ringFiles + 2) * g.fileMB * 1e6);
  assert.ok(spoolDiskBytes(DEFAULT_SPOOL_BYTES) < 600_000_000);
  assert.equal(spoolDir('ab12cd34'), '/spool/ab12cd34');
});
