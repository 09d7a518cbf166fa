import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completionOutput, completionRequest, COMMANDS } from '../../../src/cli/complete.ts';

test('the first word completes to a command', () => {
  assert.deepEqual(completionRequest(['']).need, { kind: 'words', words: COMMANDS });
  assert.equal(completionOutput(COMMANDS, 'c', 4), 'capture\ncleanup\n:4\n');
});

test('targets complete to running pods, ls also to nodes; one positional only', () => {
  assert.deepEqual(completionRequest(['capture', 'we']).need, { kind: 'pods' });
  assert.deepEqual(completionRequest(['exec', '-n', 'shop', '']).need, { kind: 'pods' });
  assert.deepEqual(completionRequest(['ls', '']).need, { kind: 'nodes-and-pods' });
  assert.deepEqual(completionRequest(['capture', 'web', '']).need, { kind: 'nothing' });
  assert.deepEqual(completionRequest(['whohas', '']).need, { kind: 'nothing' });
});

test('flag values: namespaces, contexts, nodes, output formats; free text after --', () => {
  assert.deepEqual(completionRequest(['capture', '-n', '']).need, { kind: 'namespaces' });
  assert.deepEqual(completionRequest(['--context', '']).need, { kind: 'contexts' });
  assert.deepEqual(completionRequest(['ls', '--node', '']).need, { kind: 'nodes' });
  assert.deepEqual(completionRequest(['ls', '-o', '']).need, { kind: 'words', words: ['table', 'wide', 'json'] });
  assert.deepEqual(completionRequest(['capture', '-o', '']).need, { kind: 'files' });
  assert.deepEqual(completionRequest(['exec', 'web', '--', 'i']).need, { kind: 'nothing' });
});

test('the lookups use the cluster and namespace given so far', () => {
  const r = completionRequest(['--kubeconfig', '/k', '--context=prod', '-n', 'shop', 'capture', '']);
  assert.equal(r.kubeconfig, '/k');
  assert.equal(r.context, 'prod');
  assert.equal(r.namespace, 'shop');
  assert.equal(completionRequest(['--namespace=ops', 'exec', '']).namespace, 'ops');
});

test('after any flag that takes a value (per the real parser), the target still completes', async () => {
  const yargs = (await import('yargs')).default;
  const { commands } = await import('../../../src/cli/commands.ts');
  const { addGlobalOptions } = await import('../../../src/cli/global.ts');
  for (const c of commands.filter((c) => c.completes)) {
    const o = c.options(addGlobalOptions(yargs([]))).getOptions();
    const valued = Object.keys(o.key).filter((k) => !o.boolean.includes(k) && k !== 'where' && k !== 'target');
    assert.ok(valued.length > 5, `${c.name} has value flags`);
    for (const k of valued) {
      const flag = k.length === 1 ? `-${k}` : `--${k}`;
      assert.deepEqual(
        completionRequest([c.name, flag, 'x', '']).need,
        { kind: c.completes },
        `${c.name} ${flag} x <TAB>`,
      );
    }
  }
});
