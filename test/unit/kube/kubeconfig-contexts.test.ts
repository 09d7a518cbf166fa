// Contexts read straight from kubeconfig files, merged the way kubectl merges them, without the
// Kubernetes client library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { readKubeContexts } from '../../../src/kube/kubeconfig-contexts.ts';
import { tempDir } from '../../helpers/temp.ts';

const dir = tempDir('knetns-contexts-');
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const a = file(
  'a.yaml',
  [
    'apiVersion: v1',
    'kind: Config',
    'current-context: prod',
    'contexts:',
    '- name: prod',
    '  context: {cluster: prod-cluster, user: me, namespace: shop}',
    '- name: dev',
    '  context: {cluster: dev-cluster, user: me}',
  ].join('\n'),
);
// JSON is YAML too; this file also names "prod", which the first file already defined.
const b = file(
  'b.json',
  JSON.stringify({
    'current-context': 'staging',
    contexts: [
      { name: 'prod', context: { cluster: 'other', namespace: 'ignored' } },
      { name: 'arn:aws:eks:eu-west-1:1234:cluster/staging', context: { cluster: 'eks' } },
    ],
  }),
);

test('several files in KUBECONFIG: the first that names a context or the current one wins; missing files are skipped', () => {
  const k = readKubeContexts(undefined, { KUBECONFIG: [a, join(dir, 'missing'), b].join(delimiter), HOME: dir });
  assert.deepEqual(k.files, [a, b]);
  assert.equal(k.current, 'prod');
  assert.deepEqual(k.contexts, [
    { name: 'prod', namespace: 'shop', cluster: 'prod-cluster' },
    { name: 'dev', namespace: undefined, cluster: 'dev-cluster' },
    { name: 'arn:aws:eks:eu-west-1:1234:cluster/staging', namespace: undefined, cluster: 'eks' },
  ]);
  assert.equal(k.problem, undefined);
});

test('--kubeconfig wins over KUBECONFIG; without either, ~/.kube/config', () => {
  assert.deepEqual(readKubeContexts(b, { KUBECONFIG: a }).files, [b]);
  const k = readKubeContexts(undefined, { HOME: dir });
  assert.deepEqual(k.contexts, []);
  assert.match(k.problem ?? '', /no kubeconfig at .*\.kube\/config/);
});

test('a file that is not YAML, or has no context, is a problem in words, not an exception', () => {
  const broken = file('broken.yaml', 'contexts: [ {name: x');
  assert.match(readKubeContexts(broken).problem ?? '', /^cannot read .*broken\.yaml: /);
  const empty = file('empty.yaml', 'apiVersion: v1\nkind: Config\n');
  assert.match(readKubeContexts(empty).problem ?? '', /^no context in /);
});
