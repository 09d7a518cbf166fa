import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../../src/kube/config.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { tempDir } from '../../helpers/temp.ts';

// Real kubeconfig files on disk, read the way kubectl reads them.
const dir = tempDir('knetns-kubeconfig-');
function kubeconfig(name: string, body: { current?: string; contexts: Array<[string, string, string?]> }): string {
  const clusters = [...new Set(body.contexts.map(([, c]) => c))];
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    `current-context: "${body.current ?? ''}"`,
    'clusters:',
    ...clusters.flatMap((c) => [`- name: ${c}`, '  cluster:', `    server: https://${c}.test:6443`]),
    'users:',
    '- name: me',
    '  user:',
    '    token: abc',
    'contexts:',
    ...body.contexts.flatMap(([n, c, ns]) => [
      `- name: ${n}`,
      '  context:',
      `    cluster: ${c}`,
      '    user: me',
      ...(ns ? [`    namespace: ${ns}`] : []),
    ]),
  ].join('\n');
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

const first = kubeconfig('first.yaml', {
  current: 'prod',
  contexts: [
    ['prod', 'prod-cluster', 'shop'],
    ['shared', 'first-cluster'],
  ],
});
const second = kubeconfig('second.yaml', {
  current: 'dev',
  contexts: [
    ['dev', 'dev-cluster'],
    ['shared', 'second-cluster'],
  ],
});

test('with several KUBECONFIG files the first current-context and the first duplicate win, like kubectl', async () => {
  const r = await resolveConfig({}, { KUBECONFIG: `${first}:${join(dir, 'missing.yaml')}:${second}` });
  assert.equal(r.contextName, 'prod');
  assert.equal(r.namespace, 'shop');
  assert.equal(r.server, 'https://prod-cluster.test:6443');
  const shared = await resolveConfig({ context: 'shared' }, { KUBECONFIG: `${first}:${second}` });
  assert.equal(shared.server, 'https://first-cluster.test:6443');
  assert.deepEqual(r.files, [first, second]);
});

test('--context switches cluster, -n overrides the context namespace, default is "default"', async () => {
  const r = await resolveConfig({ context: 'dev' }, { KUBECONFIG: `${first}:${second}` });
  assert.equal(r.server, 'https://dev-cluster.test:6443');
  assert.equal(r.namespace, 'default');
  assert.equal((await resolveConfig({ namespace: 'ops' }, { KUBECONFIG: first })).namespace, 'ops');
});

test('an unknown context is an immediate config error naming the known ones', async () => {
  await assert.rejects(
    () => resolveConfig({ context: 'nope' }, { KUBECONFIG: first }),
    (e: unknown) =>
      e instanceof UserError &&
      e.exitCode === ExitCode.config &&
      /context "nope" does not exist/.test(e.message) &&
      /prod, shared/.test(e.hint ?? ''),
  );
});

test('--kubeconfig pointing nowhere, or no kubeconfig at all, are config errors', async () => {
  await assert.rejects(
    () => resolveConfig({ kubeconfig: join(dir, 'nope') }, {}),
    (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.config,
  );
  await assert.rejects(
    () => resolveConfig({}, { HOME: dir }),
    (e: unknown) => e instanceof UserError && /no kubeconfig found/.test(e.message),
  );
});

test('a file without current-context asks for --context', async () => {
  const none = kubeconfig('none.yaml', { contexts: [['x', 'x-cluster']] });
  await assert.rejects(
    () => resolveConfig({}, { KUBECONFIG: none }),
    (e: unknown) => e instanceof UserError && /no current context/.test(e.message),
  );
  assert.equal((await resolveConfig({ context: 'x' }, { KUBECONFIG: none })).contextName, 'x');
});

test("kubectl's override flags: --cluster, --user, --server, --token, --certificate-authority, --insecure-skip-tls-verify, --as", async () => {
  const r = await resolveConfig(
    {
      context: 'prod',
      server: 'https://other.test:6443',
      token: 'flag-token',
      as: 'jane',
      insecureSkipTlsVerify: true,
    },
    { KUBECONFIG: first },
  );
  const cluster = r.kc.getCurrentCluster()!;
  const user = r.kc.getCurrentUser()!;
  assert.equal(r.server, 'https://other.test:6443');
  assert.equal(cluster.skipTLSVerify, true);
  assert.equal(user.token, 'flag-token');
  assert.equal(user.impersonateUser, 'jane');
  assert.equal(r.namespace, 'shop', "the context's namespace still applies");
  const other = await resolveConfig({ context: 'prod', cluster: 'dev-cluster' }, { KUBECONFIG: `${first}:${second}` });
  assert.equal(other.server, 'https://dev-cluster.test:6443');
  await assert.rejects(
    () => resolveConfig({ cluster: 'nope' }, { KUBECONFIG: first }),
    (e: unknown) =>
      e instanceof UserError && e.exitCode === ExitCode.config && /cluster "nope" does not exist/.test(e.message),
  );
  await assert.rejects(
    () => resolveConfig({ user: 'nope' }, { KUBECONFIG: first }),
    (e: unknown) => e instanceof UserError && /user "nope" does not exist/.test(e.message),
  );
});

test('--server with --token works with no kubeconfig at all, as in kubectl', async () => {
  const r = await resolveConfig({ server: 'https://api.test:6443', token: 't' }, { HOME: dir });
  assert.equal(r.server, 'https://api.test:6443');
  assert.equal(r.kc.getCurrentUser()?.token, 't');
  assert.equal(r.namespace, 'default');
});
