import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parsePositiveInt } from '../../../src/cli/parse.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

test('durations: units, compound forms and bare seconds', () => {
  assert.equal(parseDuration('30s', '--duration'), 30);
  assert.equal(parseDuration('5m', '--duration'), 300);
  assert.equal(parseDuration('1h30m', '--duration'), 5400);
  assert.equal(parseDuration('1.5m', '--duration'), 90);
  assert.equal(parseDuration('250ms', '--duration'), 0.25);
  assert.equal(parseDuration('45', '--duration'), 45);
});

test('bad durations and counts are usage errors naming the flag', () => {
  for (const bad of ['', 'abc', '5x', '-3s', '0', '10s junk']) {
    assert.throws(
      () => parseDuration(bad, '--duration'),
      (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.usage && /--duration/.test(e.message),
      bad,
    );
  }
  assert.throws(() => parsePositiveInt(Number.NaN, '--count'), /--count must be a whole number/);
  assert.throws(() => parsePositiveInt(0, '--count'), /--count/);
  assert.throws(() => parsePositiveInt(300000, '--snaplen', 262144), /between 1 and 262144/);
  assert.equal(parsePositiveInt(100, '--count'), 100);
});

test('--request-timeout takes a duration, and 0 means no limit (as kubectl)', async () => {
  const { parseTimeout } = await import('../../../src/cli/parse.ts');
  assert.equal(parseTimeout('30s', '--request-timeout'), 30_000);
  assert.equal(parseTimeout('2m', '--request-timeout'), 120_000);
  assert.equal(parseTimeout('0', '--request-timeout'), Infinity);
  assert.equal(parseTimeout('0s', '--request-timeout'), Infinity);
  assert.throws(
    () => parseTimeout('soon', '--request-timeout'),
    (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.usage,
  );
});
