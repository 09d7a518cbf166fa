// The up-front RBAC check: every missing right at once, in kubectl's words, each asked once per run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertAllowed,
  debugPodRights,
  describeRight,
  RightsCheck,
  type ResourceRight,
} from '../../../src/kube/access.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

test('rights read the way kubectl auth can-i takes them', () => {
  assert.equal(
    describeRight({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'dbg' }),
    'create pods/exec in namespace "dbg"',
  );
  assert.equal(describeRight({ verb: 'list', resource: 'nodes' }), 'list nodes (cluster-wide)');
  assert.equal(
    describeRight({ verb: 'get', resource: 'deployments', group: 'apps', namespace: 'shop' }),
    'get deployments.apps in namespace "shop"',
  );
});

test('a debug pod needs create/get/watch/delete on pods and create+get on pods/exec in its namespace', () => {
  assert.deepEqual(debugPodRights('dbg').map(describeRight), [
    'create pods in namespace "dbg"',
    'get pods in namespace "dbg"',
    'watch pods in namespace "dbg"',
    'delete pods in namespace "dbg"',
    'create pods/exec in namespace "dbg"',
    'get pods/exec in namespace "dbg"',
  ]);
});

test('every missing right is named in one forbidden error; all allowed passes', () => {
  const rights = debugPodRights('dbg');
  assert.doesNotThrow(() =>
    assertAllowed(
      rights,
      rights.map(() => true),
    ),
  );
  assert.throws(
    () => assertAllowed(rights, [true, true, true, true, false, false]),
    (e: unknown) =>
      e instanceof UserError &&
      e.exitCode === ExitCode.forbidden &&
      e.message.includes('missing 2 rights') &&
      e.message.includes('create pods/exec in namespace "dbg", get pods/exec in namespace "dbg"'),
  );
});

test('prefetched reviews are asked once and answer the later check; a refused one still fails it', async () => {
  const asked: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const client = {
    canI: async (r: ResourceRight) => {
      asked.push(describeRight(r));
      await gate;
      return r.subresource !== 'exec';
    },
  } as unknown as KubeClient;
  const rights = new RightsCheck(client);
  rights.prefetch(debugPodRights('dbg'));
  assert.equal(asked.length, 6, 'all six reviews are on their way before anyone waits for them');
  const checking = rights.assert(debugPodRights('dbg'));
  release();
  await assert.rejects(checking, /missing 2 rights/);
  assert.equal(asked.length, 6, 'the check reused the prefetched answers');
});
