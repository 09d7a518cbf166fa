// inspect, ls, whohas, shell and capture --host-side: real argv strings through the real parser
// (the runner records instead of touching a cluster), and the pure planning each command does.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../../helpers/argv.ts';
import { planCapture, type CaptureArgs } from '../../../src/commands/capture.ts';
import { planLs, type LsArgs } from '../../../src/commands/ls.ts';
import { planShell, shellCommand, SHELL_SCRIPT } from '../../../src/commands/shell.ts';
import { planWhoHas, type WhoHasArgs } from '../../../src/commands/whohas.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

async function usageFailure(line: string, re?: RegExp): Promise<void> {
  try {
    const { command, argv } = await parse(line);
    if (command === 'ls') planLs(argv as unknown as LsArgs);
    if (command === 'whohas') planWhoHas(argv as unknown as WhoHasArgs);
    if (command === 'capture') planCapture(argv as unknown as CaptureArgs);
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    assert.equal(err.exitCode, ExitCode.usage);
    if (re) assert.match(err.message, re);
    return;
  }
  assert.fail(`accepted: ${line}`);
}

afterEach(() => {
  process.exitCode = 0;
});

test('ls: a bare word may be a node or a pod; TYPE/NAME is a target; --node and --all-nodes', async () => {
  const plan = async (line: string) => planLs((await parse(line)).argv as unknown as LsArgs);
  assert.deepEqual(await plan('ls knetns-node'), { kind: 'node-or-pod', word: 'knetns-node' });
  assert.deepEqual(await plan('ls deploy/web -n shop'), { kind: 'target', target: 'deploy/web' });
  assert.deepEqual(await plan('ls --node n1 -o json'), { kind: 'node', node: 'n1' });
  assert.deepEqual(await plan('ls --all-nodes -o wide'), { kind: 'all' });
  const { argv } = await parse('ls n1');
  assert.equal(argv.output, 'table');
  assert.equal(argv.parallel, 4);
});

test('ls: exactly one of NODE/TARGET, --node, --all-nodes; known output formats only', async () => {
  await usageFailure('ls', /which node/);
  await usageFailure('ls n1 --node n2', /one of/);
  await usageFailure('ls --node n1 --all-nodes', /one of/);
  await usageFailure('ls n1 -o xml');
});

test('whohas: every node unless --node; addresses and subnets checked before anything runs', async () => {
  const p = planWhoHas((await parse('whohas 10.214.0.4')).argv as unknown as WhoHasArgs);
  assert.equal(p.node, undefined);
  assert.equal(p.query.text, '10.214.0.4');
  assert.equal(planWhoHas((await parse('whohas fd00::2 --node n1 -o json')).argv as unknown as WhoHasArgs).node, 'n1');
  assert.ok(
    planWhoHas((await parse('whohas 10.214.0.0/24 --all-nodes')).argv as unknown as WhoHasArgs).query.matches({
      family: 'inet',
      address: '10.214.0.9',
      prefixlen: 24,
      scope: 'global',
    }),
  );
  await usageFailure('whohas web-7d9', /not an IP address/);
  await usageFailure('whohas 10.0.0.1/40', /prefix length/);
  await usageFailure('whohas 10.0.0.1 --node n1 --all-nodes', /mutually exclusive/);
  await usageFailure('whohas');
});

test('inspect and shell take a target (and -c)', async () => {
  const i = await parse('inspect deploy/web -n shop -o wide -c app');
  assert.deepEqual(
    [i.command, i.argv.target, i.argv.output, i.argv.container],
    ['inspect', 'deploy/web', 'wide', 'app'],
  );
  const s = await parse('shell web-7d9 --context prod');
  assert.deepEqual([s.command, s.argv.target, s.argv.context], ['shell', 'web-7d9', 'prod']);
  await usageFailure('shell');
  await usageFailure('inspect web -o xml');
});

test('capture --host-side: planned as such; -i any has no single host side', async () => {
  const plan = planCapture((await parse('capture web --host-side -o x.pcap')).argv as unknown as CaptureArgs);
  assert.equal(plan.hostSide, true);
  assert.equal(plan.iface, 'auto');
  assert.equal(planCapture((await parse('capture web -o x.pcap')).argv as unknown as CaptureArgs).hostSide, false);
  await usageFailure('capture web --host-side -i any', /not any/);
});

test('shell: a TTY exactly when stdin is a terminal; stdin always forwarded', () => {
  assert.equal(planShell(true).tty, true);
  assert.equal(planShell(false).tty, false);
  assert.equal(planShell(undefined).tty, false);
  assert.equal(planShell(undefined).stdin, true);
  assert.deepEqual(planShell(true).command({ namespace: 'shop', pod: 'web-7d9' }), [
    'sh',
    '-c',
    SHELL_SCRIPT,
    'kubectl-netns-shell',
    'shop/web-7d9',
  ]);
  // Shells expand parameters in PS1: only a name of the RFC 1123 form ever reaches it.
  assert.equal(shellCommand({ namespace: 'shop', pod: '$(touch /tmp/x)' })[4], '');
});

test('the shell script names the pod in the prompt and runs the commands it reads (bash, else sh)', () => {
  // A PATH whose only shell is dash (the debug image has busybox sh and no bash), then the usual one.
  const bin = mkdtempSync(join(tmpdir(), 'knt-shell-'));
  try {
    symlinkSync('/usr/bin/dash', join(bin, 'sh'));
    for (const [PATH, want] of [
      [bin, 'sh'],
      [process.env.PATH ?? '', 'bash'],
    ] as const) {
      const r = spawnSync('/usr/bin/dash', ['-c', SHELL_SCRIPT, 'kubectl-netns-shell', 'shop/web'], {
        input: 'echo "prompt=$PS1"; /bin/cat /proc/$$/comm; exit 4\n',
        encoding: 'utf8',
        env: { PATH, HOME: '/nonexistent' },
      });
      // A non-interactive bash drops PS1 (an interactive one shows it unless its rc files set their own).
      assert.equal(
        r.stdout,
        `prompt=${want === 'sh' ? '[netns shop/web] # ' : ''}\n${want}\n`,
        `PATH=${PATH}: ${r.stderr}`,
      );
      assert.equal(r.status, 4);
    }
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('-A means --all-namespaces, as in kubectl: the node commands say to use --all-nodes', async () => {
  await usageFailure('ls -A', /-A \(--all-namespaces\) has no meaning here/);
  await usageFailure('whohas 10.0.0.1 -A', /-A \(--all-namespaces\) has no meaning here/);
  const { argv } = await parse('cleanup -A');
  assert.equal(argv['all-namespaces'], true);
});
