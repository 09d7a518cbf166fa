import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { assertNotTerminal, fileSink, prepareDirectory } from '../../../src/output/sink.ts';
import { findWireshark } from '../../../src/output/wireshark.ts';
import { renderStatus, formatBytes } from '../../../src/output/status-line.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { tempDir } from '../../helpers/temp.ts';

const dir = tempDir('knetns-sink-');

test('a file appears under its name only when finished, cut to the last complete record', async () => {
  const path = join(dir, 'cap.pcap');
  const sink = await fileSink(path);
  sink.stream.write(Buffer.from('complete-part|partial-record'));
  assert.ok(!existsSync(path), 'not visible while capturing');
  await sink.finish(() => 'complete-part|'.length);
  assert.equal(readFileSync(path, 'utf8'), 'complete-part|');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('partial')),
    [],
  );
});

test('a failed capture leaves no file, and an existing file is not clobbered', async () => {
  const path = join(dir, 'keep.pcap');
  writeFileSync(path, 'previous capture');
  // Without --overwrite an existing file is refused before anything starts.
  await assert.rejects(
    fileSink(path),
    (e: unknown) =>
      e instanceof UserError &&
      e.exitCode === ExitCode.output &&
      /already exists/.test(e.message) &&
      /--overwrite/.test(e.hint ?? ''),
  );
  // With it, a capture that fails before any packet still leaves the old file alone.
  const sink = await fileSink(path, { overwrite: true });
  sink.stream.write(Buffer.from('junk'));
  await sink.discard();
  assert.equal(readFileSync(path, 'utf8'), 'previous capture');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('partial')),
    [],
  );
});

test('--overwrite replaces an existing file once the capture is complete', async () => {
  const path = join(dir, 'replace.pcap');
  writeFileSync(path, 'previous capture');
  const sink = await fileSink(path, { overwrite: true });
  sink.stream.write(Buffer.from('new capture'));
  await sink.finish(() => 'new capture'.length);
  assert.equal(readFileSync(path, 'utf8'), 'new capture');
});

test('capture files and their temporaries are private to the user (mode 0600)', async () => {
  const path = join(dir, 'private.pcap');
  const old = process.umask(0o022);
  try {
    const sink = await fileSink(path);
    const tmp = readdirSync(dir).find((f) => f.startsWith('.private.pcap.') && f.endsWith('.partial'));
    assert.ok(tmp, 'a temporary file exists while capturing');
    assert.equal(statSync(join(dir, tmp)).mode & 0o777, 0o600);
    sink.stream.write(Buffer.from('bytes'));
    await sink.finish(() => 5);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  } finally {
    process.umask(old);
  }
});

test('a file that appears under the name while capturing is not replaced; the capture is kept aside', async () => {
  const path = join(dir, 'race.pcap');
  const sink = await fileSink(path);
  sink.stream.write(Buffer.from('ours'));
  writeFileSync(path, 'someone else');
  await assert.rejects(
    sink.finish(() => 4),
    (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.output && /kept in /.test(e.message),
  );
  assert.equal(readFileSync(path, 'utf8'), 'someone else');
  const kept = readdirSync(dir).find((f) => f.startsWith('.race.pcap.') && f.endsWith('.partial'));
  assert.ok(kept);
  assert.equal(readFileSync(join(dir, kept), 'utf8'), 'ours');
});

test('unwritable destinations are output errors before anything starts', async () => {
  await assert.rejects(
    fileSink(join(dir, 'missing-dir', 'x.pcap')),
    (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.output,
  );
  await assert.rejects(fileSink(dir), (e: unknown) => e instanceof UserError && /is a directory/.test(e.message));
});

test('-w DIR/ is created when missing, private to the user; a file in its way is an output error', async () => {
  const target = join(dir, 'per-pod', 'today');
  await prepareDirectory(target);
  assert.ok(statSync(target).isDirectory());
  assert.equal(statSync(target).mode & 0o777, 0o700);
  await prepareDirectory(target); // already there: fine
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  await assert.rejects(
    prepareDirectory(file),
    (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.output && /is a file/.test(e.hint ?? ''),
  );
});

test('pcap is never written to a terminal', () => {
  assert.throws(
    () => assertNotTerminal(true),
    (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.output && /-o - \| wireshark/.test(e.hint ?? ''),
  );
  assert.doesNotThrow(() => assertNotTerminal(false));
  assert.doesNotThrow(() => assertNotTerminal(undefined));
});

test('Wireshark is found on PATH or at its install path, else a clear error', () => {
  const bin = tempDir('knetns-ws-');
  // Only the temporary directory counts as installed: this machine may have a real Wireshark.
  const onlyBin = (p: string) => p.startsWith(bin) && existsSync(p);
  assert.throws(
    () => findWireshark('linux', { PATH: bin }, onlyBin),
    (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.output && /not installed/.test(e.message),
  );
  writeFileSync(join(bin, 'wireshark'), '#!/bin/sh\n');
  chmodSync(join(bin, 'wireshark'), 0o755);
  assert.equal(findWireshark('linux', { PATH: bin }, onlyBin), join(bin, 'wireshark'));
  assert.throws(
    () => findWireshark('darwin', { PATH: '/nonexistent', HOME: '/nonexistent' }, onlyBin),
    /not installed/,
  );
});

test('the status line shows packets, bytes, rate and kernel drops', () => {
  assert.equal(
    renderStatus(
      { packets: 1234, bytes: 3 * 1024 * 1024, elapsedMs: 12_400, droppedByKernel: 7 },
      { pps: 99.6, bps: 2048 },
    ),
    'capturing: 1234 packets, 3.0 MiB (100 pkt/s, 2.0 KiB/s), 7 dropped by kernel, 12s',
  );
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
});

test('a named pipe of our own is written in place with --overwrite (refused without), and stays a pipe', async () => {
  const fifoDir = tempDir('knetns-sink-fifo-');
  const path = join(fifoDir, 'wireshark_extcap_fifo');
  execFileSync('mkfifo', [path]);
  const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  reader.stdout.on('data', (c: Buffer) => chunks.push(c));
  await assert.rejects(fileSink(path), /already exists/);
  const sink = await fileSink(path, { overwrite: true });
  sink.stream.write(Buffer.from('pcap bytes'));
  await sink.finish(() => 3);
  await new Promise((r) => reader.on('close', r));
  // Every byte reached the reader (a pipe cannot be cut back), and no file took the pipe's place.
  assert.equal(Buffer.concat(chunks).toString(), 'pcap bytes');
  assert.ok(statSync(path).isFIFO());
  assert.deepEqual(readdirSync(fifoDir), ['wireshark_extcap_fifo']);
});

test("a named pipe's reader closing it is the consumer going away, not a failure", async () => {
  const path = join(tempDir('knetns-sink-fifo-'), 'pipe');
  execFileSync('mkfifo', [path]);
  const reader = spawn('head', ['-c', '1', path], { stdio: ['ignore', 'ignore', 'inherit'] });
  const sink = await fileSink(path, { overwrite: true });
  let failed = false;
  void sink.failed.then(() => (failed = true));
  const timer = setInterval(() => sink.stream.write(Buffer.from('x')), 10);
  await sink.gone;
  clearInterval(timer);
  assert.equal(failed, false);
  await sink.discard();
  reader.kill();
});

test(
  'a named pipe another user put at the output path gets no byte, with or without --overwrite',
  { timeout: 20_000 },
  async () => {
    // As in the report: user nobody, a shared sticky directory, a FIFO under the capture's name and a
    // reader waiting on it; root then captures to that name.
    const shared = tempDir('knetns-sink-shared-');
    chmodSync(shared, 0o1777);
    const path = join(shared, 'cap.pcap');
    const stolen = join(shared, 'stolen.bin');
    const thief = spawn('sh', ['-c', 'mkfifo cap.pcap && exec cat cap.pcap > stolen.bin'], {
      cwd: shared,
      uid: 65534,
      gid: 65534,
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !existsSync(stolen); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(statSync(path).uid, 65534);
    await assert.rejects(
      fileSink(path),
      (e: UserError) => e.exitCode === ExitCode.output && /already exists/.test(e.message),
    );
    await assert.rejects(
      fileSink(path, { overwrite: true }),
      (e: UserError) =>
        e.exitCode === ExitCode.output && /is a named pipe owned by another user \(uid 65534\)/.test(e.message),
    );
    thief.kill();
    await new Promise((r) => thief.on('close', r));
    assert.equal(statSync(stolen).size, 0);
  },
);

test('a device or socket at the output path is refused even with --overwrite; a symlink is replaced, not followed', async () => {
  await assert.rejects(
    fileSink('/dev/null', { overwrite: true }),
    (e: UserError) => e.exitCode === ExitCode.output && /\/dev\/null is a character device/.test(e.message),
  );
  const d = tempDir('knetns-sink-link-');
  const target = join(d, 'target');
  writeFileSync(target, 'keep me');
  const link = join(d, 'cap.pcap');
  symlinkSync(target, link);
  await assert.rejects(fileSink(link), /already exists/);
  const sink = await fileSink(link, { overwrite: true });
  sink.stream.write(Buffer.from('capture'));
  await sink.finish(() => 'capture'.length);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
  assert.equal(lstatSync(link).isFile(), true);
});
