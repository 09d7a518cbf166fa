// The extcap's capture reaches the capture command as typed arguments and plans exactly as the same
// capture typed by a person would, into Wireshark's FIFO as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GLOBAL_DEFAULTS } from '../../../../src/cli/global.ts';
import { CAPTURE_DEFAULTS, planCapture } from '../../../../src/commands/capture.ts';
import { captureArgs } from '../../../../src/commands/shared/extcap-host.ts';
import type { WiresharkCapture } from '../../../../src/extcap/capture-request.ts';

const defaults = { ...CAPTURE_DEFAULTS, ...GLOBAL_DEFAULTS };
const capture: WiresharkCapture = {
  context: '-v',
  namespace: 'shop',
  target: 'deploy/web',
  selector: undefined,
  container: 'app',
  iface: 'eth0',
  snaplen: 96,
  hostSide: true,
  debugNamespace: 'netns-debug',
  image: 'registry.local/netshoot:1',
  privileged: true,
  fifo: '/tmp/wireshark_extcap_x',
  filter: 'tcp port 80',
  verbose: true,
};

test('every value becomes its argument; the plan writes into the FIFO as an extcap FIFO, not a user file', () => {
  const a = captureArgs(capture, defaults);
  assert.equal(a.context, '-v');
  assert.equal(a['debug-namespace'], 'netns-debug');
  assert.equal(a.image, 'registry.local/netshoot:1');
  assert.equal(a['pod-timeout'], '60s');
  const p = planCapture(a, new Date(), capture.fifo);
  assert.deepEqual(p.refs, [{ kind: 'deployment', name: 'web' }]);
  assert.deepEqual(p.output, { kind: 'extcap-fifo', path: '/tmp/wireshark_extcap_x' });
  assert.deepEqual(p.filter, ['tcp port 80']);
  assert.equal(p.iface, 'eth0');
  assert.equal(p.snaplen, 96);
  assert.equal(p.hostSide, true);
  assert.equal(p.defaultName, false);
});

test('a selector, with the defaults of the flags', () => {
  const p = planCapture(
    captureArgs(
      { ...capture, target: undefined, selector: 'app=web', snaplen: undefined, filter: undefined },
      defaults,
    ),
    new Date(),
    capture.fifo,
  );
  assert.equal(p.selector, 'app=web');
  assert.deepEqual(p.refs, []);
  assert.deepEqual(p.filter, []);
  assert.equal(p.bufferKiB, 32 * 1024);
});
