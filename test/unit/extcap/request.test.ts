// Wireshark's extcap command lines, as Wireshark 4.0 ran them (seen with a probe extcap) and as
// doc/wsdg_src/wsdg_capture.adoc writes them, parsed into the request each one makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtcapRequest } from '../../../src/extcap/request.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

const words = (line: string) => line.split(' ').filter(Boolean);

test('--extcap-interfaces, with the version Wireshark passes as --extcap-version=X.Y', () => {
  assert.deepEqual(parseExtcapRequest(words('--extcap-interfaces --extcap-version=4.0')), {
    kind: 'interfaces',
    wiresharkVersion: '4.0',
  });
  assert.deepEqual(parseExtcapRequest(words('--extcap-interfaces')), {
    kind: 'interfaces',
    wiresharkVersion: undefined,
  });
});

test('--extcap-dlts for one interface, in either order', () => {
  const want = { kind: 'dlts', iface: 'kubectl_netns_kind' };
  assert.deepEqual(parseExtcapRequest(words('--extcap-dlts --extcap-interface kubectl_netns_kind')), want);
  assert.deepEqual(parseExtcapRequest(words('--extcap-interface kubectl_netns_kind --extcap-dlts')), want);
});

test('--extcap-config, and a reload: the option name without dashes, and the dialog fields as they are', () => {
  assert.deepEqual(parseExtcapRequest(words('--extcap-config --extcap-interface kubectl_netns_kind')), {
    kind: 'config',
    iface: 'kubectl_netns_kind',
    reload: undefined,
    options: {},
  });
  const reload = parseExtcapRequest(
    words(
      '--extcap-config --extcap-interface kubectl_netns_kind --extcap-reload-option pod --namespace shop --interface auto --snaplen 262144 --host-side',
    ),
  );
  assert.deepEqual(reload, {
    kind: 'config',
    iface: 'kubectl_netns_kind',
    reload: 'pod',
    options: { namespace: 'shop', interface: 'auto', snaplen: '262144', 'host-side': true },
  });
});

test('--capture: the FIFO, the capture filter as one word, the control pipes and every option', () => {
  const req = parseExtcapRequest([
    '--capture',
    '--extcap-interface',
    'kubectl_netns_kind',
    '--extcap-capture-filter',
    'tcp port 8080',
    '--fifo',
    '/tmp/wireshark_extcap_kubectl_netns_kind_20261201',
    '--extcap-control-out',
    '/tmp/wireshark_control_ext_to_ws_x',
    '--extcap-control-in',
    '/tmp/wireshark_control_ws_to_ext_x',
    '--namespace',
    'shop',
    '--pod',
    'deploy/web',
    '--privileged',
  ]);
  assert.deepEqual(req, {
    kind: 'capture',
    iface: 'kubectl_netns_kind',
    fifo: '/tmp/wireshark_extcap_kubectl_netns_kind_20261201',
    filter: 'tcp port 8080',
    controlIn: '/tmp/wireshark_control_ws_to_ext_x',
    controlOut: '/tmp/wireshark_control_ext_to_ws_x',
    options: { namespace: 'shop', pod: 'deploy/web', privileged: true },
  });
});

test('tshark passes only --capture --extcap-interface --fifo and the preferences set with -o', () => {
  const req = parseExtcapRequest(
    words('--capture --extcap-interface kubectl_netns_kind --fifo /tmp/f --pod web --namespace shop'),
  );
  assert.equal(req.kind, 'capture');
  assert.deepEqual(req.kind === 'capture' && [req.filter, req.controlIn, req.controlOut], [
    undefined,
    undefined,
    undefined,
  ]);
});

test('a capture filter alone is the GUI asking whether it is valid', () => {
  assert.deepEqual(
    parseExtcapRequest(['--extcap-capture-filter', 'port 53', '--extcap-interface', 'kubectl_netns_kind']),
    {
      kind: 'filter-check',
      iface: 'kubectl_netns_kind',
      filter: 'port 53',
    },
  );
});

test('flags spelled out as true/false, values given with =, and an empty value given as --name=', () => {
  const req = parseExtcapRequest(
    words('--extcap-config --extcap-interface=x --host-side false --privileged true --container= --pod=web'),
  );
  assert.deepEqual(req.kind === 'config' && req.options, {
    'host-side': false,
    privileged: true,
    container: '',
    pod: 'web',
  });
});

test("the word after an option is its value, whatever it looks like: a value never becomes one of Wireshark's options", () => {
  // Wireshark passes --NAME VALUE; a value such as --fifo=/tmp/theirs (a dialog field, a profile,
  // tshark -o) must not replace the FIFO Wireshark passed before it.
  const req = parseExtcapRequest([
    '--capture',
    '--extcap-interface',
    'x',
    '--fifo',
    '/tmp/wireshark_fifo',
    '--selector',
    '--fifo=/tmp/theirs',
    '--pod',
    '--extcap-interface',
  ]);
  assert.equal(req.kind, 'capture');
  assert.equal(req.kind === 'capture' && req.fifo, '/tmp/wireshark_fifo');
  assert.equal(req.kind === 'capture' && req.iface, 'x');
  assert.deepEqual(req.kind === 'capture' && req.options, {
    selector: '--fifo=/tmp/theirs',
    pod: '--extcap-interface',
  });
});

test('anything else is a usage error that says what Wireshark would have passed', () => {
  const usage = (line: string, re: RegExp) =>
    assert.throws(
      () => parseExtcapRequest(words(line)),
      (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.usage && re.test(e.message),
    );
  usage('', /no extcap request/);
  usage('--capture --extcap-interface x', /--fifo/);
  usage('--extcap-interface x', /expected --extcap-dlts/);
  usage('--extcap-interfaces --bogus', /unknown option --bogus/);
  usage('--extcap-interfaces stray', /unexpected word "stray"/);
});
