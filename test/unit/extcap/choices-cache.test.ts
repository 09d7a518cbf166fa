// The lists the last reload loaded, kept per interface so the next dialog (built without any API
// call) still offers the pod chosen last time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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

test('a relative $XDG_CACHE_HOME is ignored, as the XDG spec says', () => {
  assert.equal(cacheDir('linux', { HOME: '/home/u', XDG_CACHE_HOME: 'rel/cache' }), '/home/u/.cache/kubectl-netns');
});

const planted = JSON.stringify({ pods: { namespace: 'shop', choices: [{ value: 'evil', display: 'planted' }] } });

test('lists in a directory others can write, or that another user owns, are neither read nor written', () => {
  const open = tempDir('knetns-choices-open-');
  mkdirSync(join(open, 'wireshark'));
  chmodSync(join(open, 'wireshark'), 0o777);
  writeFileSync(join(open, 'wireshark', 'x.json'), planted);
  assert.deepEqual(readChoices('x', open), {});
  writeChoices('y', { namespaces: ['a'] }, open);
  assert.equal(existsSync(join(open, 'wireshark', 'y.json')), false);

  const theirs = tempDir('knetns-choices-theirs-');
  mkdirSync(join(theirs, 'wireshark'));
  writeFileSync(join(theirs, 'wireshark', 'x.json'), planted);
  chownSync(join(theirs, 'wireshark', 'x.json'), 65534, 65534);
  chownSync(join(theirs, 'wireshark'), 65534, 65534);
  assert.deepEqual(readChoices('x', theirs), {});
});

test('the cache file and its temporary are never followed as symbolic links', () => {
  const dir = tempDir('knetns-choices-link-');
  mkdirSync(join(dir, 'wireshark'), { mode: 0o700 });
  const victim = join(dir, 'victim');
  writeFileSync(victim, planted);
  symlinkSync(victim, join(dir, 'wireshark', 'x.json'));
  assert.deepEqual(readChoices('x', dir), {});
  // The temporary name used to be predictable (file.PID.tmp): a link there was written through.
  symlinkSync(victim, join(dir, 'wireshark', `y.json.${process.pid}.tmp`));
  writeChoices('y', { namespaces: ['a'] }, dir);
  assert.equal(readFileSync(victim, 'utf8'), planted);
  assert.deepEqual(readChoices('y', dir), { namespaces: ['a'] });
  assert.equal(lstatSync(join(dir, 'wireshark', 'y.json')).mode & 0o777, 0o600);
});
