// The capture Wireshark asks for, as a `kubectl netns capture` command line that the real parser
// accepts and plans the way a person's would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildParser } from '../../../src/cli/app.ts';
import { planCapture, type CaptureArgs } from '../../../src/commands/capture.ts';
import { captureArgv, shellLine, type CaptureRequestParts } from '../../../src/extcap/capture-argv.ts';

const base: CaptureRequestParts = {
  context: 'kind-dev',
  namespace: 'default',
  fifo: '/tmp/wireshark_extcap_kubectl_netns_kind_dev_x',
  filter: undefined,
  options: {},
  verbose: false,
};

/** Parses ARGV with the real parser, records what it would run, and plans the capture. */
async function plan(argv: string[]) {
  let seen: Record<string, unknown> | undefined;
  await buildParser(argv, async (command, a) => {
    assert.equal(command, 'capture');
    seen = { ...a };
    return 0;
  }).parseAsync();
  return { args: seen!, plan: planCapture(seen as unknown as CaptureArgs) };
}

test('a pod in a namespace on the interface context, into the FIFO; the capture filter after --', async () => {
  const argv = captureArgv({ ...base, filter: 'tcp port 8080', options: { pod: 'web-7d9', namespace: 'shop' } });
  assert.deepEqual(argv, [
    'capture',
    'web-7d9',
    '--context',
    'kind-dev',
    '-n',
    'shop',
    '-w',
    '/tmp/wireshark_extcap_kubectl_netns_kind_dev_x',
    '--',
    'tcp port 8080',
  ]);
  const { args, plan: p } = await plan(argv);
  assert.equal(args.context, 'kind-dev');
  assert.deepEqual(p.output, { kind: 'file', path: base.fifo });
  assert.deepEqual(p.filter, ['tcp port 8080']);
  assert.equal(p.iface, 'auto');
});

test("defaults are left to the capture command; the interface's namespace when none is chosen", async () => {
  const argv = captureArgv({ ...base, options: { pod: 'web', interface: 'auto', snaplen: '262144', namespace: '' } });
  assert.deepEqual(argv, ['capture', 'web', '--context', 'kind-dev', '-n', 'default', '-w', base.fifo]);
});

test('every option maps to its capture flag, and the plan has them', async () => {
  const argv = captureArgv({
    ...base,
    verbose: true,
    options: {
      pod: 'deploy/web',
      namespace: 'shop',
      container: 'app',
      interface: 'eth0',
      snaplen: '96',
      'host-side': true,
      'debug-namespace': 'netns-debug',
      image: 'registry.local/netshoot:1',
      privileged: true,
    },
  });
  const { args, plan: p } = await plan(argv);
  assert.deepEqual(p.refs, [{ kind: 'deployment', name: 'web' }]);
  assert.equal(p.iface, 'eth0');
  assert.equal(p.snaplen, 96);
  assert.equal(p.hostSide, true);
  assert.equal(args.container, 'app');
  assert.equal(args['debug-namespace'], 'netns-debug');
  assert.equal(args.image, 'registry.local/netshoot:1');
  assert.equal(args.privileged, true);
  assert.equal(args.verbose, true);
});

test('a label selector replaces the pod: several pods into one pcapng', async () => {
  const argv = captureArgv({ ...base, options: { pod: 'web-7d9', selector: ' app=web,tier in (front) ' } });
  assert.deepEqual(argv.slice(0, 3), ['capture', '-l', 'app=web,tier in (front)']);
  assert.ok(!argv.includes('web-7d9'));
  const { plan: p } = await plan(argv);
  assert.equal(p.selector, 'app=web,tier in (front)');
  assert.deepEqual(p.refs, []);
});

test('without a context (no kubeconfig) the kubeconfig default applies; the log line pastes into a shell', () => {
  const argv = captureArgv({
    ...base,
    context: undefined,
    filter: 'host 10.0.0.1 and port 80',
    options: { pod: 'web' },
  });
  assert.ok(!argv.includes('--context'));
  assert.equal(
    shellLine(['kubectl', 'netns', ...argv]),
    `kubectl netns capture web -n default -w /tmp/wireshark_extcap_kubectl_netns_kind_dev_x -- 'host 10.0.0.1 and port 80'`,
  );
  assert.equal(shellLine(["it's"]), `'it'\\''s'`);
});
