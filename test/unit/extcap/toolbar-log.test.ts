// Our log lines, as Wireshark's interface toolbar receives them through a real FIFO: each line a
// logger "Add" message with a time, progress lines also for the status bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { LOGGER_CONTROL } from '../../../src/extcap/answers.ts';
import { ControlCommand, decodeControl } from '../../../src/extcap/control.ts';
import { logMessages, ToolbarLog } from '../../../src/extcap/toolbar-log.ts';
import { openPipeWriter } from '../../../src/output/fifo.ts';
import { tempDir } from '../../helpers/temp.ts';

test('a progress line goes to the log window and the status bar; -v detail only to the log window', () => {
  const at = new Date(2026, 11, 1, 9, 5, 7);
  const progress = decodeControl(Buffer.concat(logMessages('starting debug pod on node n1...', at))).messages;
  assert.deepEqual(
    progress.map((m) => [m.control, m.command, m.payload.toString()]),
    [
      [LOGGER_CONTROL, ControlCommand.add, '09:05:07 starting debug pod on node n1...\n'],
      [LOGGER_CONTROL, ControlCommand.statusbar, 'starting debug pod on node n1...'],
    ],
  );
  const detail = decodeControl(Buffer.concat(logMessages('debug: deleting debug pod ns/p', at))).messages;
  assert.deepEqual(
    detail.map((m) => m.command),
    [ControlCommand.add],
  );
});

test('lines written before the pipe opens arrive first, whole, after it opens', async () => {
  const path = join(tempDir('knetns-toolbar-'), 'control_out');
  execFileSync('mkfifo', [path]);
  const log = new ToolbarLog();
  log.write('first line\nsecond ');
  log.write('line\n');
  const reader = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  reader.stdout.on('data', (c: Buffer) => chunks.push(c));
  log.attach(await openPipeWriter(path));
  log.write('debug: third\n');
  await new Promise((r) => setTimeout(r, 50));
  await log.close();
  await new Promise((r) => reader.on('close', r));
  const adds = decodeControl(Buffer.concat(chunks))
    .messages.filter((m) => m.command === ControlCommand.add)
    .map((m) => m.payload.toString().replace(/^\d\d:\d\d:\d\d /, ''));
  assert.deepEqual(adds, ['first line\n', 'second line\n', 'debug: third\n']);
});
