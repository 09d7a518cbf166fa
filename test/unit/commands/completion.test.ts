// The completion script, run by the real bash: it asks `kubectl-netns __complete` (the real
// program, on PATH as krew and npm install it) and offers what it answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completionScript } from '../../../src/commands/completion.ts';
import { tempDir } from '../../helpers/temp.ts';

const MAIN = new URL('../../../src/main.ts', import.meta.url).pathname;
const bin = tempDir('knetns-complete-');
writeFileSync(join(bin, 'kubectl-netns'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
chmodSync(join(bin, 'kubectl-netns'), 0o755);

/** What bash offers for WORDS (the last one being completed), through the script. */
function bashOffers(words: string[]): string[] {
  const script = `${completionScript('bash')}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_kubectl_netns; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: '/nonexistent' },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('bash: commands, then flag names (with -<TAB>), then fixed values', () => {
  assert.deepEqual(bashOffers(['kubectl-netns', 'c']), ['capture', 'captures', 'cleanup', 'completion']);
  const flags = bashOffers(['kubectl-netns', 'capture', '--d']);
  assert.ok(flags.includes('--duration') && flags.includes('--debug-namespace'), flags.join(' '));
  assert.deepEqual(bashOffers(['kubectl-netns', 'ls', '-o', '']), ['json', 'name', 'table', 'wide', 'yaml']);
});

test('without a reachable cluster the helper stays silent: no error in the middle of a command line', () => {
  assert.deepEqual(bashOffers(['kubectl-netns', 'exec', '']), []);
});

test('zsh and fish scripts parse in their shells (where installed)', (t) => {
  for (const [shell, flag] of [
    ['zsh', '-n'],
    ['fish', '--no-execute'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${shell}`]).status !== 0) {
      t.diagnostic(`${shell} not installed`);
      continue;
    }
    const r = spawnSync(shell, [flag], { input: completionScript(shell), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});
