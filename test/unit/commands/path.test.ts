// `path`: real argv strings through the real parser (the runner records instead of touching a
// cluster), and the pure plan: which end is an address, the filter, the stop conditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../helpers/argv.ts';
import { planPath, type PathArgs } from '../../../src/commands/path.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

async function plan(line: string) {
  const { command, argv } = await parse(line);
  assert.equal(command, 'path');
  return planPath(argv as unknown as PathArgs, new Date('2026-12-01T10:00:00Z'));
}

async function usage(line: string, re: RegExp): Promise<void> {
  await assert.rejects(plan(line), (err: unknown) => {
    assert.ok(err instanceof UserError, String(err));
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.message, re);
    return true;
  });
}

test('pods, workloads and Services are targets; an IP literal is an address outside the cluster', async () => {
  const p = await plan('path client svc/web -n shop --duration 20s -- tcp port 80');
  assert.deepEqual(p.src, { kind: 'target', text: 'client', ref: { kind: 'pod', name: 'client' } });
  assert.deepEqual(p.dst, { kind: 'target', text: 'svc/web', ref: { kind: 'service', name: 'web' } });
  assert.deepEqual(p.filter, ['tcp', 'port', '80']);
  assert.equal(p.durationSeconds, 20);
  assert.equal(p.file, 'path-client-web-20261201T100000Z.pcapng');
  assert.equal(p.output, 'text');
  const out = await plan('path deploy/api 192.0.2.10 --count 50 -w x.pcapng -o json');
  assert.deepEqual(out.dst, { kind: 'ip', address: '192.0.2.10' });
  assert.equal(out.count, 50);
  assert.deepEqual([out.file, out.output], ['x.pcapng', 'json']);
  assert.deepEqual((await plan('path fd00::5 web')).src, { kind: 'ip', address: 'fd00::5' });
});

test('usage errors: a missing end, two addresses, a bad name or count', async () => {
  await usage('path client', /two ends/);
  await usage('path 10.0.0.1 10.0.0.2', /at least one end of a path must be in the cluster/);
  await usage('path client bogus/web', /unsupported target kind/);
  await usage('path client web --count 0', /--count/);
});
