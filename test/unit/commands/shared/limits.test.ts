// What one capture may start without being asked: over a limit, one line that names the count and
// the flag that raises it, and the limit exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, UserError } from '../../../../src/errors.ts';
import {
  checkNodeCount,
  checkPodMemory,
  checkTargetCount,
  DEFAULT_MAX_NODES,
  DEFAULT_MAX_TARGETS,
  maxBufferMiB,
} from '../../../../src/commands/shared/limits.ts';
import { debugPodMemoryMiB, MAX_MEMORY_MIB } from '../../../../src/kube/debug-pod.ts';

const limits = { maxTargets: DEFAULT_MAX_TARGETS, maxNodes: DEFAULT_MAX_NODES };

function refused(fn: () => void, message: RegExp, hint: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.exitCode, ExitCode.limit);
    assert.match(e.message, message);
    assert.match(e.hint ?? '', hint);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

test("the defaults follow kubectl logs' --max-log-requests: 5", () => {
  assert.equal(DEFAULT_MAX_TARGETS, 5);
  assert.equal(DEFAULT_MAX_NODES, 5);
  assert.equal(ExitCode.limit, 13);
});

test('targets: up to the limit pass; over it, the count and --max-targets', () => {
  checkTargetCount(5, '-l app=web', limits);
  refused(
    () => checkTargetCount(21, '-l app=web', limits),
    /^21 pods match -l app=web, more than --max-targets allows \(5\)$/,
    /--max-targets 21$/,
  );
});

test('nodes: up to the limit pass; over it, what would start them, the count and --max-nodes', () => {
  checkNodeCount(['a', 'b'], 'x', '', limits);
  refused(
    () =>
      checkNodeCount(
        ['a', 'b', 'c', 'd', 'e', 'f'],
        '--follow for deployment/web',
        ' where its pods run or may be scheduled',
        limits,
      ),
    /^--follow for deployment\/web would start a debug pod on each of 6 nodes where its pods run or may be scheduled, more than --max-nodes allows \(5\)$/,
    /--max-nodes 6$/,
  );
});

test("a debug pod's memory is capped: the error says how much, and the --buffer-size that fits", () => {
  assert.equal(MAX_MEMORY_MIB, 2048);
  checkPodMemory(5, 32, 'on node n1');
  // What the reviewer saw: 20 captures of 4096 MiB asked for 82,688 MiB.
  assert.equal(debugPodMemoryMiB(Array.from({ length: 20 }, () => 4096)), 82688);
  refused(
    () => checkPodMemory(20, 4096, 'on node n1'),
    /^20 captures with --buffer-size 4096 MiB need 82688 MiB in the debug pod on node n1, more than a debug pod may have \(2048 MiB\)/,
    /lower --buffer-size \(at most 64 MiB for 20 captures\)/,
  );
  const fits = maxBufferMiB(20);
  checkPodMemory(20, fits, 'on node n1');
  assert.throws(() => checkPodMemory(20, fits + 1, 'on node n1'));
  refused(
    () => checkPodMemory(1, 4096, 'on node n1'),
    /^a capture with --buffer-size 4096 MiB needs 4256 MiB/,
    /at most 1888 MiB/,
  );
});
