// The control pipe's framing (doc/wsdg_src/wsdg_capture.adoc, "Control Protocol"): "T", a 3-byte
// length (payload + 2), the control number, the command, the payload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlCommand, decodeControl, encodeControl } from '../../../src/extcap/control.ts';

test('a log line for control 0, command Add, byte for byte', () => {
  assert.deepEqual(
    encodeControl(0, ControlCommand.add, 'hi\n'),
    Buffer.from([0x54, 0x00, 0x00, 0x05, 0x00, 0x02, 0x68, 0x69, 0x0a]),
  );
  // Initialized, as the GUI sends it when it is ready: no payload.
  assert.deepEqual(encodeControl(0, ControlCommand.initialized), Buffer.from('T\x00\x00\x02\x00\x00', 'latin1'));
});

test('messages split across reads come out whole, in order', () => {
  const stream = Buffer.concat([
    encodeControl(0, ControlCommand.initialized),
    encodeControl(3, ControlCommand.set, 'value'),
    encodeControl(0, ControlCommand.add, 'x'.repeat(300)),
  ]);
  const first = decodeControl(stream.subarray(0, 20));
  assert.deepEqual(
    first.messages.map((m) => [m.control, m.command, m.payload.toString()]),
    [
      [0, 0, ''],
      [3, 1, 'value'],
    ],
  );
  const rest = decodeControl(Buffer.concat([first.rest, stream.subarray(20)]));
  assert.equal(rest.messages.length, 1);
  assert.equal(rest.messages[0]!.payload.length, 300);
  assert.equal(rest.rest.length, 0);
});

test('a payload over 65535 bytes is cut to what the protocol carries; a broken stream is an error', () => {
  const big = encodeControl(0, ControlCommand.add, Buffer.alloc(70_000, 0x41));
  assert.equal(big.length, 6 + 65535);
  assert.equal(big.readUIntBE(1, 3), 65537);
  assert.throws(() => decodeControl(Buffer.from('X\x00\x00\x02\x00\x00', 'latin1')), /expected "T"/);
});
