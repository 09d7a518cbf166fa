// The release bundle is the whole CLI in one CommonJS file that reads nothing beside itself: run
// alone from an empty directory it knows its version and commit, completes, and carries agent.sh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { bundle } from '../../../scripts/release/bundle.ts';

const dir = mkdtempSync(join(tmpdir(), 'knetns-bundle-'));
const script = join(dir, 'kubectl-netns.cjs');
let code = '';
const run = (args: string[], argv0 = script) =>
  execFileSync(process.execPath, [argv0, ...args], { cwd: tmpdir(), encoding: 'utf8' });

before(async () => {
  code = (await bundle({ version: '9.8.7', commit: 'feedc0ffee00' })).code;
  writeFileSync(script, code);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('alone in a directory, the bundle prints the embedded version and commit', () => {
  assert.equal(run(['--version']), 'kubectl-netns v9.8.7 (commit feedc0ffee00)\n');
  assert.equal(JSON.parse(run(['version', '-o', 'json'])).gitCommit, 'feedc0ffee00');
});

test('run as .cjs (CommonJS, as a single executable runs it), it prints its help', () => {
  assert.match(run(['--help']), /Commands:\n\s+capture\s+Capture packets/);
});

test('it completes, by the hidden argument and under the helper name', () => {
  assert.equal(run(['__complete', 'ex']), 'exec\n:4\n');
  const link = join(dir, 'kubectl_complete-netns');
  symlinkSync(script, link);
  assert.equal(run(['ex'], link), 'exec\n:4\n');
});

test('agent.sh travels inside it, byte for byte', () => {
  const agent = readFileSync(new URL('../../../src/node/agent.sh', import.meta.url), 'utf8');
  // esbuild prints the string as a template literal (or a quoted string): evaluate what it printed.
  const m = /function readAgentSource\(\)\s*\{\s*return\s*(`(?:\\[\s\S]|[^`\\])*`|"(?:\\[\s\S]|[^"\\])*")\s*[;}]/.exec(code);
  assert.ok(m, 'readAgentSource() returns a literal');
  assert.equal(runInNewContext(m[1]!), agent);
});
