// The admission policy pins what the debug pod runs, from the pod builder: the shipped file must
// hold exactly what the builder makes today (node scripts/policy.ts rewrites it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { buildDebugPod, debugContainerCommand } from '../../../src/kube/debug-pod.ts';
import { emptyDirNames, withPinnedBlock } from '../../../src/kube/policy-pins.ts';

const file = new URL('../../../deploy/policy/debug-pod-policy.yaml', import.meta.url);
const policy = readFileSync(file, 'utf8');

test('the shipped policy holds what the pod builder makes (else: node scripts/policy.ts)', () => {
  assert.equal(
    withPinnedBlock(policy),
    policy,
    'deploy/policy/debug-pod-policy.yaml is out of date: run node scripts/policy.ts',
  );
});

test("the policy's pinned command is the debug container's, word for word; only the reconnect window and the deadline are numbers", () => {
  const docs = (policy.split(/^---$/m).map((d) => load(d)) as any[]).filter(Boolean);
  const vap = docs.find((d) => d.kind === 'ValidatingAdmissionPolicy');
  const expr: string = vap.spec.variables.find((v: any) => v.name === 'commandPinned').expression;
  const pinned = [...expr.matchAll(/variables\.c\.command\[(\d+)\] == ("(?:[^"\\]|\\.)*")/g)].map((m) => [
    Number(m[1]),
    JSON.parse(m[2]!) as string,
  ]);
  const built = buildDebugPod({
    namespace: 'n',
    nodeName: 'node',
    image: 'i',
    privileged: false,
    target: { namespace: 'shop', pod: 'web' },
    sessionId: 's',
    suffix: 'x',
    podTimeoutSeconds: 60,
    durationSeconds: 30,
    version: 'v',
  }).spec!.containers[0]!.command!;
  assert.deepEqual(built, debugContainerCommand(120));
  assert.deepEqual(
    pinned,
    built.slice(0, -2).map((w, i) => [i, w]),
  );
  assert.match(expr, new RegExp(`size\\(variables\\.c\\.command\\) == ${built.length}`));
  assert.match(
    expr,
    /variables\.c\.command\[5\]\.matches\('\^\[0-9\]\{1,4\}\$'\) && int\(variables\.c\.command\[5\]\) <= 3600 && variables\.c\.command\[6\]\.matches\('\^\[0-9\]\{1,6\}\$'\) && int\(variables\.c\.command\[6\]\) <= 14460/,
  );
  // The validations use what is generated.
  assert.ok(vap.spec.validations.some((v: any) => v.expression === 'variables.commandPinned'));
  assert.deepEqual(emptyDirNames(), ['spool']);
});
