// Writing the launcher into a folder and taking it out: only ever our own file, checked by
// running it the way Wireshark runs it at start-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { checkLauncher, isOurLauncher, removeLaunchers, writeLauncher } from '../../../src/extcap/install.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { tempDir } from '../../helpers/temp.ts';

const MAIN = new URL('../../../src/main.ts', import.meta.url).pathname;
const self = { program: process.execPath, script: MAIN };

function kubeconfig(dir: string): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    'apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts:\n- name: lab\n  context: {cluster: c, user: u}\n',
  );
  return path;
}

test('the launcher is written executable, replaces only our own, and runs this kubectl-netns', () => {
  const dir = join(tempDir('knetns-install-'), 'not', 'there', 'yet');
  const kc = kubeconfig(tempDir('knetns-kc-'));
  const first = writeLauncher(dir, 'linux', self, { kubeconfig: kc });
  assert.deepEqual(first, { path: join(dir, 'kubectl-netns'), replaced: false });
  assert.equal(statSync(first.path).mode & 0o777, 0o755);
  assert.ok(isOurLauncher(first.path));
  assert.deepEqual(writeLauncher(dir, 'linux', self, { kubeconfig: kc }), { path: first.path, replaced: true });
  assert.deepEqual(checkLauncher(first.path, 'linux', { PATH: process.env.PATH }), [
    'Kubernetes pods: lab (kubectl-netns, current context) [kubectl_netns_lab]',
  ]);
});

test("someone else's file of that name is never overwritten nor removed", () => {
  const dir = tempDir('knetns-install-');
  writeFileSync(join(dir, 'kubectl-netns'), '#!/bin/sh\necho mine\n');
  assert.throws(
    () => writeLauncher(dir, 'linux', self, {}),
    (e: unknown) =>
      e instanceof UserError && e.exitCode === ExitCode.output && /not a kubectl-netns launcher/.test(e.message),
  );
  assert.deepEqual(removeLaunchers([dir], 'linux'), { removed: [], foreign: [join(dir, 'kubectl-netns')] });
  assert.equal(readFileSync(join(dir, 'kubectl-netns'), 'utf8'), '#!/bin/sh\necho mine\n');
});

test('uninstall removes our launcher wherever it is among the folders, and is fine with none', () => {
  const a = tempDir('knetns-install-');
  const b = tempDir('knetns-install-');
  const { path } = writeLauncher(b, 'linux', self, {});
  assert.deepEqual(removeLaunchers([a, b, b], 'linux'), { removed: [path], foreign: [] });
  assert.ok(!existsSync(path));
  assert.deepEqual(removeLaunchers([a, b], 'linux'), { removed: [], foreign: [] });
});

test('a launcher that cannot run says so, with what to do', () => {
  const dir = tempDir('knetns-install-');
  const { path } = writeLauncher(dir, 'linux', { program: join(dir, 'moved-away'), script: undefined }, {});
  assert.throws(
    () => checkLauncher(path, 'linux'),
    (e: unknown) => e instanceof UserError && /does not run/.test(e.message) && /install again/.test(e.hint ?? ''),
  );
});

test('a folder that cannot be made is an output error naming the folder', () => {
  // Below a file, where not even root can make a folder.
  const file = join(tempDir('knetns-install-'), 'file');
  writeFileSync(file, '');
  assert.throws(
    () => writeLauncher(join(file, 'extcap'), 'linux', self, {}),
    (e: unknown) =>
      e instanceof UserError &&
      e.exitCode === ExitCode.output &&
      /cannot write the launcher into .*file\/extcap: ENOTDIR/.test(e.message),
  );
});

test('a folder others can write is refused: they could replace the launcher Wireshark runs', () => {
  for (const mode of [0o777, 0o775, 0o1777]) {
    const dir = tempDir('knetns-install-open-');
    chmodSync(dir, mode);
    assert.throws(
      () => writeLauncher(dir, 'linux', self, {}),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === ExitCode.output &&
        e.message === `refusing to put the launcher into ${dir}: ${dir} is writable by others` &&
        /--dir/.test(e.hint ?? ''),
      mode.toString(8),
    );
    assert.deepEqual(readdirSync(dir), [], mode.toString(8));
  }
  // Its path counts too: a folder of ours below one that others can write could be swapped.
  const open = tempDir('knetns-install-open-');
  chmodSync(open, 0o777);
  assert.throws(() => writeLauncher(join(open, 'extcap'), 'linux', self, {}), /is writable by others/);
});

test('the temporary launcher is a fresh file: a link left at a predictable name is not written through', () => {
  const dir = tempDir('knetns-install-');
  const victim = join(tempDir('knetns-victim-'), 'victim');
  writeFileSync(victim, 'keep me\n');
  symlinkSync(victim, join(dir, `.kubectl-netns.${process.pid}.tmp`));
  const { path } = writeLauncher(dir, 'linux', self, {});
  assert.equal(readFileSync(victim, 'utf8'), 'keep me\n');
  assert.ok(lstatSync(path).isFile());
  assert.equal(statSync(path).mode & 0o777, 0o755);
});
