import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../helpers/argv.ts';
import { planCapture, type CaptureArgs } from '../../../src/commands/capture.ts';
import { planExec } from '../../../src/commands/exec.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

// Real argv strings, parsed by the real parser; the runner records instead of touching a cluster.
async function usageFailure(line: string): Promise<UserError> {
  try {
    await parse(line);
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    assert.equal(err.exitCode, ExitCode.usage);
    return err;
  }
  assert.fail(`accepted: ${line}`);
}

afterEach(() => {
  process.exitCode = 0;
});

test('capture: filter words after -- stay separate words; global flags anywhere', async () => {
  const { command, argv } = await parse(
    'capture deploy/web -n shop --context prod -o web.pcap --count 10 -- tcp port 80',
  );
  assert.equal(command, 'capture');
  assert.equal(argv.target, 'deploy/web');
  assert.equal(argv.namespace, 'shop');
  assert.equal(argv.context, 'prod');
  const plan = planCapture(argv as unknown as CaptureArgs);
  assert.deepEqual(plan.filter, ['tcp', 'port', '80']);
  assert.deepEqual(plan.output, { kind: 'file', path: 'web.pcap' });
  assert.equal(plan.count, 10);
  assert.equal(plan.iface, 'auto');
  assert.equal(plan.bufferKiB, 32 * 1024, 'a 32 MiB kernel buffer by default');
  assert.equal(plan.compress, false, 'uncompressed unless asked');
});

test('capture --compress: asked for once, for one pod and for many', async () => {
  const one = planCapture((await parse('capture web --compress -o w.pcap')).argv as unknown as CaptureArgs);
  assert.equal(one.compress, true);
  const many = planCapture((await parse('capture -l app=web --compress')).argv as unknown as CaptureArgs);
  assert.equal(many.compress, true);
});

test('capture: -f keeps the expression as one word; -o - means stdout; --duration parsed', async () => {
  const { argv } = await parse('capture web -f port=53 -o - --duration 1m -i any -s 128');
  const plan = planCapture(argv as unknown as CaptureArgs);
  assert.deepEqual(plan.filter, ['port=53']);
  assert.deepEqual(plan.output, { kind: 'stdout' });
  assert.equal(plan.durationSeconds, 60);
  assert.equal(plan.iface, 'any');
  assert.equal(plan.snaplen, 128);
});

test('capture: the default file is named after the target and the start time', async () => {
  const { argv } = await parse('capture pod/web-7d9');
  const plan = planCapture(argv as unknown as CaptureArgs, new Date('2026-11-22T10:15:00.123Z'));
  assert.deepEqual(plan.output, { kind: 'file', path: 'web-7d9-20261122T101500Z.pcap' });
});

test('capture: contradictory or invalid flags are usage errors', async () => {
  const both = await parse('capture web -f tcp -- udp');
  assert.throws(() => planCapture(both.argv as unknown as CaptureArgs), /either with --filter or after --/);
  const ws = await parse('capture web --wireshark -o x.pcap');
  assert.throws(() => planCapture(ws.argv as unknown as CaptureArgs), /mutually exclusive/);
  const count = await parse('capture web --count abc');
  assert.throws(() => planCapture(count.argv as unknown as CaptureArgs), /--count must be a whole number/);
  const iface = await parse('capture web -i eth0;id');
  assert.throws(() => planCapture(iface.argv as unknown as CaptureArgs), /invalid interface name/);
  // Names the agent would refuse are refused here, as usage errors, before any pod exists.
  const dashed = await parse('capture web --interface=-x');
  assert.throws(() => planCapture(dashed.argv as unknown as CaptureArgs), /invalid interface name/);
});

test('unknown flags, unknown commands and missing targets are usage errors', async () => {
  assert.match((await usageFailure('capture web --bogus')).message, /Unknown argument: bogus/);
  assert.match((await usageFailure('xyzzy web')).message, /Unknown arguments?: xyzzy/);
  assert.throws(
    () => planCapture({ ...({} as CaptureArgs), interface: 'auto', 'buffer-size': 32 }),
    /what should be captured/,
  );
  await usageFailure('capture web -v -q');
});

test('exec: the command after -- is kept verbatim, -it parsed', async () => {
  const { command, argv } = await parse('exec web -it -c app -- ip -j addr show dev eth0');
  assert.equal(command, 'exec');
  assert.equal(argv.stdin, true);
  assert.equal(argv.tty, true);
  assert.equal(argv.container, 'app');
  assert.deepEqual(planExec(argv as never, true).command, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
});

test('exec: no command, or -t without a terminal, are usage errors', async () => {
  const none = await parse('exec web');
  assert.throws(() => planExec(none.argv as never, true), /no command given/);
  const tty = await parse('exec web -t -- bash');
  assert.throws(() => planExec(tty.argv as never, false), /-t needs a terminal/);
});

test('cleanup: -A and --dry-run', async () => {
  const { command, argv } = await parse('cleanup -A --dry-run');
  assert.equal(command, 'cleanup');
  assert.equal(argv['all-namespaces'], true);
  assert.equal(argv['dry-run'], true);
});

test('words after -- reach the command exactly as typed, never parsed as numbers', async () => {
  const exec = await parse('exec web -- printf %s\\n 0x10 1.10 1e3 007 -0 +5');
  assert.deepEqual(planExec(exec.argv as never, false).command, [
    'printf',
    '%s\\n',
    '0x10',
    '1.10',
    '1e3',
    '007',
    '-0',
    '+5',
  ]);
  const cap = await parse('capture web -- ip[9] == 0x06 and len > 1e3');
  assert.deepEqual(planCapture(cap.argv as unknown as CaptureArgs).filter, [
    'ip[9]',
    '==',
    '0x06',
    'and',
    'len',
    '>',
    '1e3',
  ]);
  const shell = await parse('shell 0123');
  assert.equal(shell.argv.target, '0123');
});

test("capture: -w FILE (tcpdump's spelling) and -o FILE (kubectl users') name the same file", async () => {
  for (const flag of ['-w', '-o', '--output']) {
    const { argv } = await parse(`capture web ${flag} web.pcap`);
    assert.deepEqual(planCapture(argv as unknown as CaptureArgs).output, { kind: 'file', path: 'web.pcap' }, flag);
  }
});

test('capture of many: several targets, -l with -A, --follow, --wait, --format, rotation, -w DIR/', async () => {
  const plan = async (line: string) => planCapture((await parse(line)).argv as unknown as CaptureArgs);
  const many = await plan('capture web-1 deploy/api svc/front');
  assert.deepEqual(
    many.refs.map((r) => `${r.kind}/${r.name}`),
    ['pod/web-1', 'deployment/api', 'service/front'],
  );
  const sel = await plan('capture -l app=web -A --follow --rotate-size 50MB --rotate-count 5');
  assert.equal(sel.selector, 'app=web');
  assert.equal(sel.allNamespaces, true);
  assert.equal(sel.follow, true);
  assert.deepEqual(sel.rotation, { maxBytes: 50_000_000, keepFiles: 5 });
  assert.deepEqual((await plan('capture -l app=web -w out/')).output, { kind: 'dir', path: 'out/' });
  for (const [line, re] of [
    ['capture -A', /what should be captured/],
    ['capture web -A', /-A \(--all-namespaces\) goes with -l/],
    ['capture a b --wait', /--wait captures one pod/],
    ['capture a b --format pcap', /--format pcap holds one running pod/],
    // --wait writes pcapng, whose interface names the pod: pcap was silently ignored here before.
    ['capture later --wait --format pcap', /--format pcap holds one running pod/],
    ['capture -l app=web --rotate-size 10MB -w -', /write files/],
    ['capture web --rotate-size lots', /rotate-size/],
  ] as const) {
    await assert.rejects(
      plan(line),
      (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.usage && re.test(e.message),
      line,
    );
  }
});

test('capture limits: --max-targets and --max-nodes default to 5 (kubectl logs --max-log-requests); --all-nodes goes with --follow or --wait', async () => {
  const plan = async (line: string) => planCapture((await parse(line)).argv as unknown as CaptureArgs);
  const d = await plan('capture -l app=web');
  assert.deepEqual([d.maxTargets, d.maxNodes, d.allNodes], [5, 5, false]);
  const raised = await plan('capture -l app=web --follow --all-nodes --max-targets 40 --max-nodes 12');
  assert.deepEqual([raised.maxTargets, raised.maxNodes, raised.allNodes], [40, 12, true]);
  for (const bad of [
    'capture -l app=web --all-nodes',
    'capture -l app=web --max-targets 0',
    'capture -l x --max-nodes -1',
  ]) {
    await assert.rejects(plan(bad), (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.usage, bad);
  }
});

test('capture: the spool is off by default, on with --spool (512 MB) or --spool-size', async () => {
  const plan = async (line: string) => planCapture((await parse(line)).argv as unknown as CaptureArgs);
  assert.equal((await plan('capture web')).spoolBytes, undefined);
  const d = await plan('capture web --spool');
  assert.equal(d.spoolBytes, 512_000_000);
  assert.equal(d.reconnectSeconds, 60);
  assert.equal((await plan('capture web --spool-size 2GB')).spoolBytes, 2_000_000_000);
  assert.equal((await plan('capture web --spool-size 64MiB')).spoolBytes, 64 * 2 ** 20);
  assert.equal((await plan('capture web --no-spool')).spoolBytes, undefined);
  assert.equal((await plan('capture web --spool --reconnect-timeout 5m')).reconnectSeconds, 300);
  assert.equal((await plan('capture web --spool --reconnect-timeout 0')).reconnectSeconds, 0);
  await assert.rejects(plan('capture web --spool-size 1MB'), /--spool-size must be at least 2MB/);
  await assert.rejects(plan('capture web --spool-size lots'), /--spool-size: not a size/);
  await assert.rejects(plan('capture web --no-spool --spool-size 1GB'), /--no-spool turns off/);
  await assert.rejects(plan('capture web --spool --reconnect-timeout soon'), /invalid duration/);
  await assert.rejects(plan('capture web --reconnect-timeout 5m'), /--reconnect-timeout goes with --spool/);
});

test('capture --detach: needs --duration, implies the spool, keeps 1h by default, within 4 hours in all', async () => {
  const plan = async (line: string) => planCapture((await parse(line)).argv as unknown as CaptureArgs);
  const d = await plan('capture web --detach --duration 30m');
  assert.deepEqual(d.detach, { keepSeconds: 3600 });
  assert.equal(d.spoolBytes, 512_000_000);
  assert.equal((await plan('capture web --detach --duration 30m --spool-size 2GB')).spoolBytes, 2_000_000_000);
  assert.deepEqual((await plan('capture web --detach --duration 1h --keep 2h')).detach, { keepSeconds: 7200 });
  assert.equal((await plan('capture web --duration 1h')).detach, undefined);
  await assert.rejects(plan('capture web --detach'), /--detach needs --duration/);
  await assert.rejects(plan('capture web --detach --duration 3h --keep 1h'), /more than a debug pod may live/);
  await assert.rejects(plan('capture web --detach --duration 1m -w x.pcap'), /--detach and -w\/--output/);
  await assert.rejects(plan('capture web --detach --duration 1m --wireshark'), /--detach and --wireshark/);
  await assert.rejects(plan('capture web --detach --duration 1m --no-spool'), /--detach and --no-spool/);
  await assert.rejects(plan('capture web --detach --duration 1m --follow'), /--detach and --follow/);
  await assert.rejects(plan('capture web --duration 1m --keep 1h'), /--keep goes with --detach/);
});
