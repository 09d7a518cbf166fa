// The debug image and namespace set once: flag > environment > config file > built-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configPath, userDefaults } from '../../../src/cli/defaults.ts';
import { DEFAULT_IMAGE } from '../../../src/kube/debug-pod.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { tempDir } from '../../helpers/temp.ts';

const home = tempDir('knetns-home-');
const cfg = join(home, '.config', 'kubectl-netns', 'config.yaml');

test('nothing set: the built-in image, debug pods in the target namespace', () => {
  const d = userDefaults({ HOME: home });
  assert.equal(d.image, DEFAULT_IMAGE);
  assert.equal(d.debugNamespace, undefined);
  assert.equal(configPath({ HOME: home }), cfg);
  assert.equal(configPath({ HOME: home, XDG_CONFIG_HOME: '/x' }), '/x/kubectl-netns/config.yaml');
});

test('the config file sets both; the environment wins over it', () => {
  const file = join(home, 'netns.yaml');
  writeFileSync(file, 'image: mirror.example/netshoot:v0.13\ndebugNamespace: kubectl-netns-debug\n');
  const fromFile = userDefaults({ HOME: home, KUBECTL_NETNS_CONFIG: file });
  assert.equal(fromFile.image, 'mirror.example/netshoot:v0.13');
  assert.equal(fromFile.debugNamespace, 'kubectl-netns-debug');
  assert.equal(fromFile.sources.image, file);
  const fromEnv = userDefaults({ HOME: home, KUBECTL_NETNS_CONFIG: file, KUBECTL_NETNS_IMAGE: 'env.example/debug:1' });
  assert.equal(fromEnv.image, 'env.example/debug:1');
  assert.equal(fromEnv.sources.image, '$KUBECTL_NETNS_IMAGE');
  assert.equal(fromEnv.debugNamespace, 'kubectl-netns-debug');
});

test('a broken or misspelled config file is an error that names the file', () => {
  const file = join(home, 'bad.yaml');
  for (const [body, re] of [
    ['image: [unclosed', /cannot read/],
    ['imgae: x', /unknown key "imgae"/],
    ['image: 3', /image must be a non-empty string/],
  ] as const) {
    writeFileSync(file, body);
    assert.throws(
      () => userDefaults({ HOME: home, KUBECTL_NETNS_CONFIG: file }),
      (e: unknown) =>
        e instanceof UserError && e.exitCode === ExitCode.config && re.test(e.message) && e.message.includes(file),
    );
  }
});
