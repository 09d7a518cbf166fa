// The gate on a capture's stdout: bytes wait for open(), keep their order, and are never lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { HoldUntilOpen } from '../../../src/node/hold-until-open.ts';

function collect(gate: HoldUntilOpen): { out: PassThrough; got: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  gate.pipe(out);
  return { out, got: () => Buffer.concat(chunks).toString('utf8') };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('nothing passes before open(); then what was held, then the rest, in order', async () => {
  const gate = new HoldUntilOpen();
  const { out, got } = collect(gate);
  gate.write('ab');
  gate.write('cd');
  await tick();
  assert.equal(got(), '');
  assert.equal(gate.isOpen, false);
  gate.open();
  gate.open();
  gate.write('ef');
  gate.end();
  await finished(out);
  assert.equal(got(), 'abcdef');
});

test('never opened: the end lets everything held through', async () => {
  const gate = new HoldUntilOpen();
  const { out, got } = collect(gate);
  gate.end('all of it');
  await finished(out);
  assert.equal(got(), 'all of it');
});

test('a line that never comes does not hold more than 4 MiB', async () => {
  const gate = new HoldUntilOpen();
  const { got } = collect(gate);
  const mib = Buffer.alloc(1024 * 1024, 0x61);
  for (let i = 0; i < 4; i++) gate.write(mib);
  await tick();
  assert.equal(gate.isOpen, true);
  assert.equal(got().length, 4 * 1024 * 1024);
});
