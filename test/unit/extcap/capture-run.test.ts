// Wireshark's dialog values are data, never our flags: Debian's real tshark drives the installed
// extcap with hostile preference values (as a shared Wireshark profile or a typed value would
// carry them). No cluster is needed: the kubeconfig's API servers are closed loopback ports, and
// each capture ends with an error that says which server it tried. A value that would have been a
// flag (`--kubeconfig=EVIL`, whose exec credential plugin writes a marker file) must be refused
// and the marker must never appear; a context named `-v` must be used as that context.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collect, runPlugin } from '../../helpers/plugin.ts';
import { tempDir } from '../../helpers/temp.ts';

/** tshark must be here; in CI its absence is a failure. */
function tsharkSkip(): string | false {
  if (spawnSync('sh', ['-c', 'command -v tshark']).status === 0) return false;
  const reason = 'tshark not installed (bash scripts/install-deps.sh installs it)';
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

const dir = tempDir('knetns-extcap-values-');
const marker = join(dir, 'MARKER');
const evil = join(dir, 'evil.yaml');
const kubeconfig = join(dir, 'config.yaml');
const env = { PATH: process.env.PATH, HOME: join(dir, 'home'), KUBECONFIG: kubeconfig };

// Contexts "dev" (current) and "-v" on two different closed ports: the error names the one tried.
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters:
- {name: dev, cluster: {server: "https://127.0.0.1:65001"}}
- {name: other, cluster: {server: "https://127.0.0.1:65002"}}
users: [{name: u, user: {token: t}}]
contexts:
- {name: dev, context: {cluster: dev, user: u, namespace: default}}
- {name: "-v", context: {cluster: other, user: u}}
current-context: dev
`,
);
// What an attacker would point --kubeconfig at: the same context name, and a credential plugin.
writeFileSync(
  evil,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:65003"}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
      command: sh
      args: ["-c", "touch '${marker}'; echo '{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"x\\"}}'"]
contexts: [{name: dev, context: {cluster: c, user: u}}, {name: "-v", context: {cluster: c, user: u}}]
current-context: dev
`,
);

/** Runs tshark on IFACE with OPTIONS as extcap preferences for 3 s; resolves with its stderr. */
async function tshark(iface: string, options: Record<string, string>): Promise<string> {
  const prefs = Object.entries(options).flatMap(([k, v]) => ['-o', `extcap.${iface}.${k}:${v}`]);
  const child = spawn('tshark', ['-i', iface, ...prefs, '-a', 'duration:3', '-w', join(dir, 'out.pcapng')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (await collect(child, 60_000)).stderr;
}

describe('tshark drives the extcap with hostile preference values', { skip: tsharkSkip(), timeout: 300_000 }, () => {
  before(async () => {
    const r = await runPlugin(['wireshark-extcap', 'install'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[kubectl_netns_dev\]/);
    assert.match(r.stderr, /Kubernetes pods: -v \(kubectl-netns\) \[kubectl_netns_v\]/);
  });
  after(() => runPlugin(['wireshark-extcap', 'uninstall'], { env }));

  for (const option of ['selector', 'pod', 'namespace', 'container', 'debug-namespace', 'image']) {
    test(`${option} "--kubeconfig=EVIL" is refused as a value; its credential plugin never runs`, async () => {
      rmSync(marker, { force: true });
      const options: Record<string, string> = { pod: 'web', [option.replace(/-/g, '')]: `--kubeconfig=${evil}` };
      const stderr = await tshark('kubectl_netns_dev', options);
      assert.equal(existsSync(marker), false, `the evil kubeconfig's credential plugin ran; tshark said: ${stderr}`);
      assert.match(stderr, new RegExp(`error: the ${option} "--kubeconfig=.*" is not `));
      assert.match(stderr, /hint: change it in the interface's options/);
    });
  }

  test('a value "--fifo=THEIRS" stays a value: the extcap never opens their pipe instead of Wireshark\'s', async () => {
    const theirs = join(dir, 'theirs.fifo');
    execFileSync('mkfifo', [theirs]);
    // A reader blocks until a writer opens the pipe; it ends once one has come and gone.
    const reader = spawn('cat', [theirs], { stdio: 'ignore' });
    let readerEnded = false;
    reader.on('close', () => (readerEnded = true));
    const stderr = await tshark('kubectl_netns_dev', { pod: 'web', selector: `--fifo=${theirs}` });
    assert.match(stderr, /error: the selector "--fifo=.*" is not a label selector/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(readerEnded, false, 'their pipe was opened');
    reader.kill();
  });

  test('a context named "-v" is that context, not a flag and not the current context', async () => {
    const stderr = await tshark('kubectl_netns_v', { pod: 'web', namespace: 'shop' });
    assert.match(stderr, /cannot reach the API server at https:\/\/127\.0\.0\.1:65002 .*"web" in namespace "shop"/);
  });

  test('an interface whose context left the kubeconfig is an error, not the current context', async () => {
    const r = await runPlugin(
      [
        'wireshark-extcap',
        'run',
        '--',
        '--capture',
        '--extcap-interface',
        'kubectl_netns_gone',
        '--fifo',
        marker,
        '--pod',
        'web',
      ],
      { env },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /interface kubectl_netns_gone is not one of this kubeconfig's contexts/);
  });
});

test('--fifo that is a regular file, or not there, is a usage error that says so, not "a bug"', async () => {
  const regular = join(dir, 'regular');
  writeFileSync(regular, 'not a pipe');
  for (const [fifo, what] of [
    [regular, 'a regular file'],
    [join(dir, 'absent'), 'not there'],
  ] as const) {
    const r = await runPlugin(
      [
        'wireshark-extcap',
        'run',
        '--',
        '--capture',
        '--extcap-interface',
        'kubectl_netns_dev',
        '--fifo',
        fifo,
        '--pod',
        'web',
      ],
      { env },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: --fifo ${fifo} is ${what}: the extcap writes only into the named pipe Wireshark makes\nhint: start the capture from Wireshark or tshark`,
      ),
    );
  }
  assert.equal(readFileSync(regular, 'utf8'), 'not a pipe');
});
