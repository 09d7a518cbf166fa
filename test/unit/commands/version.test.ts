// `kubectl netns version` and `--version` print the version and the commit, as a user runs them.
// From src/ no commit is recorded (the npm build and the release record it: see test/release/).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const run = (...args: string[]) => execFileSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('`version` and `--version` print one line: the v-version and the commit', () => {
  const line = `kubectl-netns v${version} (commit unknown)\n`;
  assert.equal(run('version'), line);
  assert.equal(run('--version'), line);
});

test('`version -o json` uses kubectl-style names and tells the runtime', () => {
  const info = JSON.parse(run('version', '-o', 'json'));
  assert.deepEqual(info, {
    gitVersion: `v${version}`,
    gitCommit: 'unknown',
    nodeVersion: process.version,
    platform: `${process.platform}/${process.arch}`,
  });
});
