// The agent's install into a debug pod, with the real installer under busybox ash (with the debug
// image's applets) and dash (with Debian's tools): the script arrives once on stdin, is checked
// against its SHA-256 and lands, whole or not at all, in a private directory; anything else at that
// path is refused, never followed.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENT_EXIT, parseAgentError } from '../../src/node/agent.ts';
import { AGENT_DIR, agentPath, agentScript, installArgv } from '../../src/node/agent-install.ts';
import { cleanupAll, imageLikeBin, prerequisiteSkip, shells, tempFile, type Shell } from '../helpers/netns.ts';

const skip = prerequisiteSkip(['busybox', 'dash']);
const script = Buffer.from(agentScript(), 'utf8');
const name = agentPath().slice(AGENT_DIR.length + 1);

/** Runs the installer with SHELL into DIR, STDIN on its stdin (the script, unless a test damages it). */
function install(shell: Shell, dir: string, stdin: Buffer = script, env: NodeJS.ProcessEnv = shell.env) {
  const argv = installArgv();
  assert.equal(argv[4], AGENT_DIR);
  const [cmd, ...pre] = shell.argv as [string, ...string[]];
  const r = spawnSync(cmd, [...pre, ...argv.slice(1, 4), dir, ...argv.slice(5)], {
    input: stdin,
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stderr: r.stderr };
}

/** A directory that does not exist yet, under a fresh temp directory. */
function freshDir(): string {
  return join(dirname(tempFile('x')), 'kubectl-netns');
}

describe('agent install', { skip }, () => {
  after(cleanupAll);
  for (const shell of shells()) {
    describe(shell.name, () => {
      test('writes agent.sh whole into a new private directory, and a second install leaves it as it is', () => {
        const dir = freshDir();
        const r = install(shell, dir);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(statSync(dir).mode & 0o777, 0o700);
        const file = join(dir, name);
        assert.deepEqual(readFileSync(file), script);
        assert.equal(statSync(file).mode & 0o077, 0, 'nobody but its owner reads it');
        assert.deepEqual(readdirSync(dir), [name], 'no temporary file left');
        const before = statSync(file).mtimeMs;
        // The second install finds the same digest there and reads nothing.
        const again = install(shell, dir, Buffer.alloc(0));
        assert.equal(again.code, 0, again.stderr);
        assert.equal(statSync(file).mtimeMs, before);
      });

      test('a damaged or short transfer is refused: INSTALL_FAILED, and no agent at its name', () => {
        for (const bad of [
          Buffer.concat([script.subarray(0, 100), Buffer.from('X'), script.subarray(101)]),
          script.subarray(0, script.length - 10),
        ]) {
          const dir = freshDir();
          const r = install(shell, dir, bad);
          assert.equal(r.code, AGENT_EXIT.INSTALL_FAILED.code, r.stderr);
          assert.equal(parseAgentError(r.stderr)?.code, 'INSTALL_FAILED');
          assert.match(r.stderr, /arrived damaged/);
          assert.deepEqual(readdirSync(dir), [], 'neither the agent nor its temporary file');
        }
      });

      test('a symlink, or a directory others may read, at its path is refused, never written through', () => {
        const target = dirname(tempFile('x'));
        const link = join(dirname(tempFile('x')), 'kubectl-netns');
        symlinkSync(target, link);
        const r = install(shell, link);
        assert.equal(r.code, AGENT_EXIT.INSTALL_FAILED.code, r.stderr);
        assert.match(r.stderr, /INSTALL_FAILED: .* is not a directory/);
        assert.ok(lstatSync(link).isSymbolicLink());
        assert.deepEqual(readdirSync(target), []);
        const open = freshDir();
        mkdirSync(open, { mode: 0o755 });
        const o = install(shell, open);
        assert.equal(o.code, AGENT_EXIT.INSTALL_FAILED.code, o.stderr);
        assert.match(o.stderr, /is not private \(owner and mode 0 755, want 0 700\)/);
        assert.deepEqual(readdirSync(open), []);
      });

      test('the installed agent runs its ops by path, user words only as argv', () => {
        const dir = freshDir();
        assert.equal(install(shell, dir).code, 0);
        const [cmd, ...pre] = shell.argv as [string, ...string[]];
        const r = spawnSync(cmd, [...pre, join(dir, name), '$(id)'], { env: shell.env, encoding: 'utf8' });
        assert.equal(r.status, 64, r.stderr);
        assert.match(r.stderr, /unknown operation '\$\(id\)'/);
      });
    });
  }

  test('an image without sha256sum gets a clear error, not an unchecked agent', () => {
    // dash: busybox ash runs its own applets whatever PATH says.
    const shell = shells().find((s) => s.name === 'dash')!;
    const dir = freshDir();
    const r = install(shell, dir, script, { ...shell.env, PATH: imageLikeBin(['sha256sum']) });
    assert.equal(r.code, AGENT_EXIT.INSTALL_FAILED.code, r.stderr);
    assert.match(r.stderr, /INSTALL_FAILED: the debug image has no sha256sum/);
    assert.ok(!existsSync(join(dir, name)));
  });
});
