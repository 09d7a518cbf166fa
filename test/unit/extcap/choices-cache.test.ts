// The lists the last reload loaded, kept per interface so the next dialog (built without any API
// call) still offers the pod chosen last time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, readChoices, writeChoices } from '../../../src/extcap/choices-cache.ts';
import { tempDir } from '../../helpers/temp.ts';

test('namespaces and pods are remembered separately, per interface', () => {
  const dir = tempDir('knetns-choices-');
  assert.deepEqual(readChoices('kubectl_netns_a', dir), {});
  writeChoices('kubectl_netns_a', { namespaces: ['default', 'shop'] }, dir);
  writeChoices(
    'kubectl_netns_a',
    { pods: { namespace: 'shop', choices: [{ value: 'web', display: 'web (node n)' }] } },
    dir,
  );
  assert.deepEqual(readChoices('kubectl_netns_a', dir), {
    namespaces: ['default', 'shop'],
    pods: { namespace: 'shop', choices: [{ value: 'web', display: 'web (node n)' }] },
  });
  assert.deepEqual(readChoices('kubectl_netns_b', dir), {});
  assert.equal(statSync(join(dir, 'wireshark', 'kubectl_netns_a.json')).mode & 0o777, 0o600);
});

test('a file that is not ours to understand is no list at all; an unwritable cache is no failure', () => {
  const dir = tempDir('knetns-choices-');
  mkdirSync(join(dir, 'wireshark'));
  writeFileSync(
    join(dir, 'wireshark', 'x.json'),
    '{"namespaces": [1, 2], "pods": {"namespace": "a", "choices": "no"}}',
  );
  assert.deepEqual(readChoices('x', dir), {});
  writeFileSync(join(dir, 'file'), '');
  assert.doesNotThrow(() => writeChoices('x', { namespaces: ['a'] }, join(dir, 'file')));
});

test('the per-user cache folder of each platform', () => {
  assert.equal(cacheDir('linux', { HOME: '/home/u' }), '/home/u/.cache/kubectl-netns');
  assert.equal(cacheDir('linux', { HOME: '/home/u', XDG_CACHE_HOME: '/c' }), '/c/kubectl-netns');
  assert.equal(cacheDir('darwin', { HOME: '/Users/u' }), '/Users/u/Library/Caches/kubectl-netns');
  assert.equal(
    cacheDir('win32', { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }),
    'C:\\Users\\u\\AppData\\Local\\kubectl-netns\\cache',
  );
});
