// The launcher install writes, run for real with sh: Wireshark's arguments reach kubectl-netns
// unchanged (spaces, quotes, globs), after `wireshark-extcap run --`; KUBECONFIG and PATH from
// install time apply only where Wireshark's environment lacks them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCHER_MARK, launcherName, posixLauncher, windowsLauncher } from '../../../src/extcap/launcher.ts';
import { tempDir } from '../../helpers/temp.ts';

const dir = tempDir("knetns launcher's dir-");
// Stands in for kubectl-netns: prints what it was given.
const echoScript = join(dir, 'echo args.mjs');
writeFileSync(
  echoScript,
  'process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), kubeconfig: process.env.KUBECONFIG ?? null, path: process.env.PATH }))',
);

function run(text: string, args: string[], env: NodeJS.ProcessEnv) {
  const launcher = join(dir, launcherName('linux'));
  writeFileSync(launcher, text);
  chmodSync(launcher, 0o755);
  return JSON.parse(execFileSync(launcher, args, { encoding: 'utf8', env })) as {
    argv: string[];
    kubeconfig: string | null;
    path: string;
  };
}

test('node and the script by absolute path, Wireshark arguments passed through untouched', () => {
  const text = posixLauncher({ program: process.execPath, script: echoScript }, {});
  assert.ok(text.startsWith('#!/bin/sh\n'));
  assert.ok(text.includes(LAUNCHER_MARK));
  const args = [
    '--capture',
    '--extcap-capture-filter',
    "tcp port 80 and host '10.0.0.1'",
    '--fifo',
    '/tmp/a b*',
    '$HOME',
  ];
  const r = run(text, args, { PATH: '/usr/bin:/bin' });
  assert.deepEqual(r.argv, ['wireshark-extcap', 'run', '--', ...args]);
  assert.equal(r.kubeconfig, null);
});

test('KUBECONFIG from install time only when Wireshark has none; PATH from install time appended', () => {
  const text = posixLauncher(
    { program: process.execPath, script: echoScript },
    { kubeconfig: "/home/u/it's/config", path: '/opt/cloud sdk/bin' },
  );
  assert.equal(run(text, [], { PATH: '/usr/bin:/bin' }).kubeconfig, "/home/u/it's/config");
  assert.equal(run(text, [], { PATH: '/usr/bin:/bin', KUBECONFIG: '/mine' }).kubeconfig, '/mine');
  assert.equal(run(text, [], { PATH: '/usr/bin:/bin' }).path, '/usr/bin:/bin:/opt/cloud sdk/bin');
});

test('a single executable runs itself; exec, so that Wireshark signals kubectl-netns, not sh', () => {
  const text = posixLauncher({ program: '/usr/local/bin/kubectl-netns', script: undefined }, {});
  assert.match(text, /^exec '\/usr\/local\/bin\/kubectl-netns' wireshark-extcap run -- "\$@"$/m);
});

test('Windows: a .bat with CRLF line ends, quoted paths, % doubled, Wireshark arguments as %*', () => {
  assert.equal(launcherName('win32'), 'kubectl-netns.bat');
  const text = windowsLauncher(
    {
      program: 'C:\\Program Files\\nodejs\\node.exe',
      script: 'C:\\Users\\u\\AppData\\Roaming\\npm\\node_modules\\kubectl-netns\\dist\\main.js',
    },
    { kubeconfig: 'C:\\Users\\100%\\config' },
  );
  const lines = text.split('\r\n');
  assert.equal(lines[0], '@echo off');
  assert.ok(!text.replace(/\r\n/g, '').includes('\n'), 'no bare LF');
  assert.ok(lines.includes('if not defined KUBECONFIG set "KUBECONFIG=C:\\Users\\100%%\\config"'));
  assert.ok(
    lines.includes(
      '"C:\\Program Files\\nodejs\\node.exe" "C:\\Users\\u\\AppData\\Roaming\\npm\\node_modules\\kubectl-netns\\dist\\main.js" wireshark-extcap run -- %*',
    ),
  );
});
