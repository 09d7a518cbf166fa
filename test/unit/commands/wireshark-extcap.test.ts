// `kubectl netns wireshark-extcap install|uninstall` for real: into a folder given with --dir, and
// into the personal extcap folder of a new HOME, where the installed tshark then lists (and,
// after uninstall, no longer lists) one interface per kubeconfig context and parses our options.
// No cluster: these calls read only the kubeconfig file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../../src/errors.ts';
import { tempDir } from '../../helpers/temp.ts';

const MAIN = new URL('../../../src/main.ts', import.meta.url).pathname;

function installed(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}
const noTshark = installed('tshark') ? false : 'tshark is not installed (scripts/install-deps.sh installs it)';
if (noTshark && process.env.CI === 'true') throw new Error(noTshark);

/** A new HOME with a kubeconfig of two contexts, and the environment to use it. */
function newUser() {
  const home = tempDir('knetns-ws-home-');
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: lab',
      'contexts:',
      '- name: lab',
      '  context: {cluster: c, user: u, namespace: shop}',
      '- name: kind-dev',
      '  context: {cluster: c, user: u}',
    ].join('\n'),
  );
  const env = { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig };
  return { home, kubeconfig, env };
}

function plugin(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

function tsharkInterfaces(env: NodeJS.ProcessEnv): string {
  return execFileSync('tshark', ['-D'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
}

test('install --dir writes the launcher there, says so on stderr, and it lists every context', () => {
  const { home, env } = newUser();
  const dir = join(home, 'my extcap');
  const r = plugin(['wireshark-extcap', 'install', '--dir', dir], env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`installed ${dir}/kubectl-netns\\n {2}folder: given with --dir`));
  assert.match(r.stderr, /Kubernetes pods: lab \(kubectl-netns, current context\) \[kubectl_netns_lab\]/);
  assert.match(r.stderr, /Kubernetes pods: kind-dev \(kubectl-netns\) \[kubectl_netns_kind_dev\]/);
  const again = plugin(['wireshark-extcap', 'install', '--dir', dir], env);
  assert.match(again.stderr, /^replaced /);
  const gone = plugin(['wireshark-extcap', 'uninstall', '--dir', dir], env);
  assert.equal(gone.status, 0, gone.stderr);
  assert.match(gone.stderr, new RegExp(`removed ${dir}/kubectl-netns`));
  assert.ok(!existsSync(join(dir, 'kubectl-netns')));
});

test(
  'install into the personal folder of the installed Wireshark: tshark lists the contexts; uninstall: it does not',
  { skip: noTshark },
  () => {
    const { env } = newUser();
    assert.doesNotMatch(tsharkInterfaces(env), /kubectl_netns/);
    const r = plugin(['wireshark-extcap', 'install'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /folder: Wireshark \d+\.\d+ .*(personal extcap folder|personal configuration folder)/);
    const listed = tsharkInterfaces(env);
    assert.match(listed, /kubectl_netns_lab \(Kubernetes pods: lab \(kubectl-netns, current context\)\)/);
    assert.match(listed, /kubectl_netns_kind_dev \(Kubernetes pods: kind-dev \(kubectl-netns\)\)/);
    // Wireshark's own parser: the link type, and every option registered as a preference.
    const dlts = execFileSync('tshark', ['-i', 'kubectl_netns_lab', '-L'], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.match(dlts, /EN10MB \(Ethernet\)/);
    const prefs = execFileSync('tshark', ['-G', 'currentprefs'], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    for (const p of [
      'namespace',
      'pod',
      'selector',
      'container',
      'interface: auto',
      'snaplen: 262144',
      'hostside',
      'debugnamespace',
      'image',
      'privileged',
    ]) {
      assert.match(prefs, new RegExp(`^#extcap\\.kubectl_netns_lab\\.${p}`, 'm'), p);
    }
    const gone = plugin(['wireshark-extcap', 'uninstall'], env);
    assert.equal(gone.status, 0, gone.stderr);
    assert.match(gone.stderr, /^removed /);
    assert.doesNotMatch(tsharkInterfaces(env), /kubectl_netns/);
  },
);

test("the launcher's entry answers the same through the command table as through the quick path", () => {
  const { env } = newUser();
  const quick = plugin(['wireshark-extcap', 'run', '--', '--extcap-interfaces', '--extcap-version=4.0'], env);
  const table = plugin(['-v', 'wireshark-extcap', 'run', '--', '--extcap-interfaces', '--extcap-version=4.0'], env);
  assert.equal(quick.status, 0, quick.stderr);
  assert.equal(table.status, 0, table.stderr);
  assert.equal(table.stdout, quick.stdout);
  assert.match(quick.stdout, /^interface \{value=kubectl_netns_lab\}/m);
});

test('an unknown action, or an extcap call for an interface that is gone, is an error that says what to do', () => {
  const { env } = newUser();
  const bad = plugin(['wireshark-extcap', 'instal'], env);
  assert.equal(bad.status, ExitCode.usage);
  assert.match(bad.stderr, /unknown action "instal"/);
  const gone = plugin(
    ['wireshark-extcap', 'run', '--', '--extcap-interface', 'kubectl_netns_old', '--extcap-config'],
    env,
  );
  assert.equal(gone.status, ExitCode.config);
  assert.match(gone.stderr, /interface kubectl_netns_old is not one of this kubeconfig's contexts\nhint: refresh/);
  assert.equal(gone.stdout, '');
});
