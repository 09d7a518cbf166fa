// The capture Wireshark asks for, as typed values: each dialog value is checked against what it
// names (nothing that starts with "-", nothing cmd.exe would act on), and the log's command line
// reproduces it with --name=value words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLine, wiresharkCapture, type CaptureRequestParts } from '../../../src/extcap/capture-request.ts';
import type { WiresharkInterface } from '../../../src/extcap/interfaces.ts';

const iface: WiresharkInterface = {
  name: 'kubectl_netns_kind_dev',
  display: 'Kubernetes pods: kind-dev',
  context: 'kind-dev',
  namespace: 'default',
};
const base: CaptureRequestParts = {
  iface,
  fifo: '/tmp/wireshark_extcap_x',
  filter: undefined,
  options: {},
  verbose: false,
};

test("a pod in the interface's context and namespace, into the FIFO; defaults left to the capture command", () => {
  const c = wiresharkCapture({
    ...base,
    filter: ' tcp port 8080 ',
    options: { pod: 'web-7d9', namespace: '', snaplen: '262144' },
  });
  assert.deepEqual(c, {
    context: 'kind-dev',
    namespace: 'default',
    target: 'web-7d9',
    selector: undefined,
    container: undefined,
    iface: 'auto',
    snaplen: 262144,
    hostSide: false,
    debugNamespace: undefined,
    image: undefined,
    privileged: false,
    fifo: '/tmp/wireshark_extcap_x',
    filter: 'tcp port 8080',
    verbose: false,
  });
  assert.equal(
    commandLine(c),
    "kubectl netns capture web-7d9 --context=kind-dev --namespace=default --output=/tmp/wireshark_extcap_x -- 'tcp port 8080'",
  );
});

test('every option is carried; a selector replaces the pod; a context with odd characters is quoted in the log', () => {
  const c = wiresharkCapture({
    ...base,
    iface: { ...iface, context: "-v it's" },
    verbose: true,
    options: {
      pod: 'web',
      selector: 'app in (web, api),tier!=db',
      namespace: 'shop',
      container: 'app',
      interface: 'eth0',
      snaplen: '96',
      'host-side': true,
      'debug-namespace': 'netns-debug',
      image: 'registry.local:5000/netshoot:1@sha256:' + 'a'.repeat(64),
      privileged: true,
    },
  });
  assert.equal(c.target, undefined);
  assert.equal(c.selector, 'app in (web, api),tier!=db');
  assert.equal(c.snaplen, 96);
  assert.equal(c.iface, 'eth0');
  assert.equal(c.context, "-v it's");
  assert.match(
    commandLine(c),
    /^kubectl netns capture '--selector=app in \(web, api\),tier!=db' '--context=-v it'\\''s' /,
  );
});

test('a value that starts with "-" or carries cmd.exe metacharacters is refused, naming the option and where to change it', () => {
  const bad: Array<[keyof CaptureRequestParts['options'], string]> = [
    ['selector', '--kubeconfig=/tmp/evil.yaml'],
    ['selector', 'app=web&calc'],
    ['pod', '--server=https://evil'],
    ['pod', 'web|calc'],
    ['namespace', '-n'],
    ['namespace', 'Shop'],
    ['container', '--as=system:admin'],
    ['interface', '-i'],
    ['snaplen', '-1'],
    ['snaplen', '0'],
    ['debug-namespace', '--insecure-skip-tls-verify'],
    ['image', '--token=x'],
    ['image', 'busybox&calc'],
    ['image', 'busybox "x"'],
    ['image', 'busybox%PATH%'],
  ];
  for (const [option, value] of bad) {
    assert.throws(
      () => wiresharkCapture({ ...base, options: { pod: 'web', [option]: value } }),
      (err: Error & { exitCode?: number; hint?: string }) =>
        err.message.startsWith(`the ${option} "${value}" is not `) &&
        err.exitCode === 2 &&
        err.hint!.includes(`-o extcap.kubectl_netns_kind_dev.${option.replace(/-/g, '')}:VALUE`),
      `${option}=${value}`,
    );
  }
});
