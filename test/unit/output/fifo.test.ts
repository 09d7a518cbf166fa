// Named pipes made with mkfifo, opened the way Wireshark's extcap pipes are: never blocking a
// thread while the other end is missing, and reporting a reader that leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isWindowsPipe, openPipeReader, openPipeWriter, preopenPipeWriter } from '../../../src/output/fifo.ts';
import { tempDir } from '../../helpers/temp.ts';

function fifo(): string {
  const path = join(tempDir('knetns-fifo-'), 'pipe');
  execFileSync('mkfifo', [path]);
  return path;
}

test('the write end opens once a reader comes, and a reader that leaves is an EPIPE', async () => {
  const path = fifo();
  let opened = false;
  const opening = openPipeWriter(path).then((s) => ((opened = true), s));
  // The event loop is free meanwhile: no thread waits in open().
  await delay(200);
  assert.equal(opened, false);
  const reader = spawn('head', ['-c', '5', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  reader.stdout.on('data', (c: Buffer) => (got += c.toString()));
  const socket = await opening;
  const error = new Promise<NodeJS.ErrnoException>((resolve) => socket.on('error', resolve));
  socket.write('hello');
  await new Promise((r) => reader.on('close', r));
  assert.equal(got, 'hello');
  // The next writes meet a pipe nobody reads.
  const timer = setInterval(() => socket.write('more'), 20);
  assert.equal((await error).code, 'EPIPE');
  clearInterval(timer);
});

test('waiting for a reader ends when the signal aborts', async () => {
  const ac = new AbortController();
  const opening = openPipeWriter(fifo(), ac.signal);
  setTimeout(() => ac.abort(new Error('stopped')), 100);
  await assert.rejects(opening, /stopped/);
});

test('the read end opens at once and does not end while no writer is attached', async () => {
  const path = fifo();
  const reader = await openPipeReader(path);
  let data = '';
  let ended = false;
  reader.on('data', (c: Buffer) => (data += c.toString()));
  reader.on('end', () => (ended = true));
  await delay(200);
  assert.equal(ended, false);
  // A writer that opens with a plain blocking open() finds us there at once.
  execFileSync('sh', ['-c', `printf 'one' > '${path}'`], { timeout: 5000 });
  execFileSync('sh', ['-c', `printf 'two' > '${path}'`], { timeout: 5000 });
  await delay(100);
  assert.equal(data, 'onetwo');
  assert.equal(ended, false);
  reader.destroy();
});

test('a pipe opened ahead is taken over by the next open of its path; released untaken, it ends the reader', async () => {
  const path = fifo();
  const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  reader.stdout.on('data', (c: Buffer) => (got += c.toString()));
  const early = await preopenPipeWriter(path);
  const socket = await openPipeWriter(path);
  early.release(); // taken: not closed by this
  await new Promise<void>((resolve) => socket.end('through the early end', resolve));
  await new Promise((r) => reader.on('close', r));
  assert.equal(got, 'through the early end');

  // Nobody takes it (the capture failed first): release() is the reader's end of file.
  const path2 = fifo();
  const waiting = spawn('cat', [path2], { stdio: 'ignore' });
  const unused = await preopenPipeWriter(path2);
  unused.release();
  assert.equal(await new Promise((r) => waiting.on('close', r)), 0);
});

test('Windows named pipes are recognised by their path', () => {
  assert.ok(isWindowsPipe('\\\\.\\pipe\\wireshark_extcap_kubectl_netns_lab_20261201'));
  assert.ok(!isWindowsPipe('/tmp/wireshark_extcap_x'));
  assert.ok(!isWindowsPipe('C:\\pipe\\x'));
});
