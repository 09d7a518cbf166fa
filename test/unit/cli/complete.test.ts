import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completionOutput, completionRequest, COMMANDS } from '../../../src/cli/complete.ts';

test('the first word completes to a command', async () => {
  assert.deepEqual(completionRequest(['']).need, { kind: 'words', words: COMMANDS });
  assert.equal(completionOutput(COMMANDS, 'c', 4), 'capture\ncaptures\ncleanup\ncompletion\n:4\n');
});

test('targets complete to running pods, ls also to nodes; one positional only', async () => {
  assert.deepEqual(completionRequest(['capture', 'we']).need, { kind: 'pods' });
  assert.deepEqual(completionRequest(['exec', '-n', 'shop', '']).need, { kind: 'pods' });
  assert.deepEqual(completionRequest(['ls', '']).need, { kind: 'nodes-and-pods' });
  assert.deepEqual(completionRequest(['capture', 'web', '']).need, { kind: 'nothing' });
  assert.deepEqual(completionRequest(['whohas', '']).need, { kind: 'nothing' });
  // Fixed words, and only what people type: not the launcher's own entry.
  assert.deepEqual(completionRequest(['wireshark-extcap', '']).need, {
    kind: 'words',
    words: ['install', 'uninstall'],
  });
});

test('flag values: namespaces, contexts, nodes, output formats; free text after --', async () => {
  assert.deepEqual(completionRequest(['capture', '-n', '']).need, { kind: 'namespaces' });
  assert.deepEqual(completionRequest(['--context', '']).need, { kind: 'contexts' });
  assert.deepEqual(completionRequest(['ls', '--node', '']).need, { kind: 'nodes' });
  assert.deepEqual(completionRequest(['ls', '-o', '']).need, {
    kind: 'words',
    words: ['table', 'wide', 'json', 'yaml', 'name'],
  });
  assert.deepEqual(completionRequest(['capture', '-o', '']).need, { kind: 'files' });
  assert.deepEqual(completionRequest(['exec', 'web', '--', 'i']).need, { kind: 'nothing' });
});

test('the lookups use the cluster and namespace given so far', async () => {
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
    const positionals = new Set((c.positionals ?? '').match(/[\w-]+/g) ?? []);
    const valued = Object.keys(o.key).filter((k) => !o.boolean.includes(k) && !positionals.has(k));
    assert.ok(valued.length > 5, `${c.name} has value flags`);
    const need = typeof c.completes === 'object' ? { kind: 'words', words: c.completes } : { kind: c.completes };
    for (const k of valued) {
      const flag = k.length === 1 ? `-${k}` : `--${k}`;
      assert.deepEqual(completionRequest([c.name, flag, 'x', '']).need, need, `${c.name} ${flag} x <TAB>`);
    }
  }
});

test('flag names complete after -, per command, hidden ones left out; -c offers the containers of the target', async () => {
  const r = completionRequest(['capture', 'web', '-']);
  assert.equal(r.need.kind, 'words');
  const names = (r.need as { words: readonly string[] }).words;
  for (const f of ['--duration', '--count', '-w', '--output', '--filter', '-n', '--kubeconfig', '--help'])
    assert.ok(names.includes(f), f);
  assert.ok(!names.includes('--target'), 'positionals are not flags');
  const ls = completionRequest(['ls', '-']);
  assert.ok(
    !(ls.need as { words: readonly string[] }).words.includes('-A'),
    '-A on ls only explains itself; it is not offered',
  );
  assert.deepEqual(completionRequest(['exec', 'deploy/web', '-c', '']).need, {
    kind: 'containers',
    target: 'deploy/web',
  });
});
