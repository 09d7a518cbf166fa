// Bad input against the real API server: each gets a one-line error with a hint, a distinct exit
// code, no hang, and no debug pod left behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ensureCluster,
  kubectl,
  createNamespace,
  runPod,
  deleteNamespace,
  debugPods,
  KUBECONFIG,
  serviceAccountKubeconfig,
  watchDebugPodsCreated,
} from '../helpers/cluster.ts';
import { DEBUG_IMAGE, PLUGIN, runPlugin, WEB_IMAGE } from '../helpers/plugin.ts';
import { ExitCode, UserError } from '../../src/errors.ts';
import { createKubeClient } from '../../src/kube/client.ts';
import { resolveConfig } from '../../src/kube/config.ts';
import { DebugSession } from '../../src/kube/session.ts';
import { tempDir } from '../helpers/temp.ts';

const skip = ensureCluster();
const ns = `e2e-errors-${process.pid}`;
const baselineNs = `e2e-baseline-${process.pid}`;
const env = { KUBECONFIG };
const base = ['-n', ns, '--image', DEBUG_IMAGE];
const dir = tempDir('knetns-e2e-');

function noDebugPods(namespace = ns): void {
  assert.deepEqual(debugPods(namespace), []);
}

function oneLineError(stderr: string, re: RegExp): void {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('error: '));
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

/** A kubeconfig for a service account that may only do what `rules` allow in `ns`. */
function narrowKubeconfig(name: string, rules: Array<{ resources: string[]; verbs: string[] }>): string {
  kubectl(['create', 'serviceaccount', name, '-n', ns]);
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: ns },
      rules: rules.map((r) => ({ apiGroups: [''], ...r })),
    }),
  );
  kubectl(['create', 'rolebinding', name, '-n', ns, `--role=${name}`, `--serviceaccount=${ns}:${name}`]);
  return serviceAccountKubeconfig(ns, name, dir);
}

describe('errors against the real API', { skip, timeout: 600_000 }, () => {
  before(async () => {
    await createNamespace(ns);
    await createNamespace(baselineNs, { 'pod-security.kubernetes.io/enforce': 'baseline' });
    await runPod(ns, 'web', WEB_IMAGE);
    await runPod(baselineNs, 'web', WEB_IMAGE);
  });
  after(async () => {
    await deleteNamespace(ns);
    await deleteNamespace(baselineNs);
  });

  test('unknown pod', async () => {
    const r = await runPlugin(['capture', 'nope', ...base, '-o', join(dir, 'x.pcap')], { env });
    assert.equal(r.code, ExitCode.notFound);
    oneLineError(r.stderr, new RegExp(`pods "nope" in namespace "${ns}" not found`));
  });

  test('pod not running', async () => {
    kubectl(
      ['apply', '-n', ns, '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'stuck' },
        spec: {
          automountServiceAccountToken: false,
          nodeSelector: { 'no-such-label': 'x' },
          containers: [{ name: 'c', image: WEB_IMAGE }],
        },
      }),
    );
    const r = await runPlugin(['exec', 'stuck', ...base, '--', 'true'], { env });
    assert.equal(r.code, ExitCode.targetState);
    oneLineError(r.stderr, /pod "stuck" is Pending, not Running/);
  });

  test('pcap to a terminal is refused before any debug pod exists', async () => {
    const cmd = [process.execPath, PLUGIN, 'capture', 'web', ...base, '-o', '-'].map((w) => `'${w}'`).join(' ');
    // script(1) makes the plugin's stdout a terminal, as when someone forgets the redirect.
    const out = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(out.status, ExitCode.output, out.stdout);
    assert.match(out.stdout, /error: refusing to write pcap data to a terminal/);
    assert.doesNotMatch(out.stdout, /starting debug pod/);
    noDebugPods();
  });

  test('unknown container names the ones that exist', async () => {
    const r = await runPlugin(['exec', 'web', ...base, '-c', 'nope', '--', 'true'], { env });
    assert.equal(r.code, ExitCode.notFound);
    oneLineError(r.stderr, /container "nope" not found in pod "web"/);
    assert.match(r.stderr, /hint: containers in this pod: main/);
  });

  test('unknown context', async () => {
    const r = await runPlugin(['exec', 'web', ...base, '--context', 'nope', '--', 'true'], { env });
    assert.equal(r.code, ExitCode.config);
    oneLineError(r.stderr, /context "nope" does not exist/);
  });

  test('a debug image that cannot be pulled fails fast with the reason, and the pod is removed', async () => {
    const r = await runPlugin(
      ['exec', 'web', '-n', ns, '--image', 'kubectl-netns.local/does-not-exist:dev', '--', 'true'],
      { env, timeoutMs: 60_000 },
    );
    assert.equal(r.code, ExitCode.debugPod, r.stderr);
    oneLineError(r.stderr, /cannot start: (ErrImagePull|ImagePullBackOff)/);
    assert.match(r.stderr, /hint: the node cannot pull kubectl-netns\.local\/does-not-exist:dev/);
    assert.ok(r.ms < 45_000, `took ${r.ms}ms`);
    noDebugPods();
  });

  test('a namespace whose PodSecurity level rejects the debug pod: clear message, and --debug-namespace works', async () => {
    const r = await runPlugin(['exec', 'web', '-n', baselineNs, '--image', DEBUG_IMAGE, '--', 'true'], { env });
    assert.equal(r.code, ExitCode.forbidden);
    oneLineError(r.stderr, new RegExp(`rejected in namespace "${baselineNs}": its PodSecurity level is "baseline"`));
    assert.match(r.stderr, /hint: .*--debug-namespace/);
    const ok = await runPlugin(
      ['exec', 'web', '-n', baselineNs, '--image', DEBUG_IMAGE, '--debug-namespace', ns, '--', 'cat', '/proc/net/dev'],
      { env },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout.toString(), /eth0:/);
    noDebugPods();
    noDebugPods(baselineNs);
  });

  test('a debug namespace being deleted is said to be Terminating, not missing RBAC', async () => {
    const gone = `e2e-terminating-${process.pid}`;
    await createNamespace(gone);
    // A finalizer nobody removes keeps the namespace Terminating for as long as the test needs.
    kubectl(['create', 'configmap', 'hold', '-n', gone]);
    const hold = (finalizers: string) =>
      kubectl([
        'patch',
        'configmap',
        'hold',
        '-n',
        gone,
        '--type=merge',
        '-p',
        `{"metadata":{"finalizers":${finalizers}}}`,
      ]);
    hold('["kubectl-netns.test/hold"]');
    kubectl(['delete', 'namespace', gone, '--wait=false']);
    try {
      const r = await runPlugin(['exec', 'web', ...base, '--debug-namespace', gone, '--', 'true'], { env });
      assert.equal(r.code, ExitCode.forbidden, r.stderr);
      oneLineError(
        r.stderr,
        new RegExp(
          `^error: cannot create pods in namespace "${gone}": the namespace is being deleted \\(Terminating\\)$`,
        ),
      );
      assert.match(r.stderr, /hint: .*--debug-namespace/);
      assert.doesNotMatch(r.stderr, /RBAC|can-i/);
      noDebugPods();
    } finally {
      hold('null');
    }
  });

  test('a user without pods/create is told every missing right at once, before anything is created', async () => {
    const kc = narrowKubeconfig('viewer', [{ resources: ['pods'], verbs: ['get', 'list'] }]);
    const r = await runPlugin(['exec', 'web', '--kubeconfig', kc, '--image', DEBUG_IMAGE, '--', 'true'], { env });
    assert.equal(r.code, ExitCode.forbidden);
    oneLineError(
      r.stderr,
      new RegExp(
        `missing 5 rights kubectl-netns needs: create pods in namespace "${ns}", watch pods in namespace "${ns}", delete pods in namespace "${ns}", create pods/exec in namespace "${ns}", get pods/exec in namespace "${ns}"`,
      ),
    );
  });

  test('a user without pods/exec is told so before a node-root debug pod is ever created', async () => {
    const kc = narrowKubeconfig('creator', [
      { resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      { resources: ['events'], verbs: ['list'] },
    ]);
    const created = watchDebugPodsCreated(ns);
    const r = await runPlugin(['exec', 'web', '--kubeconfig', kc, '--image', DEBUG_IMAGE, '--', 'true'], { env });
    assert.equal(r.code, ExitCode.forbidden, r.stderr);
    oneLineError(
      r.stderr,
      new RegExp(`missing 2 rights .*: create pods/exec in namespace "${ns}", get pods/exec in namespace "${ns}"`),
    );
    assert.deepEqual(await created.stop(), [], 'no debug pod was created, not even briefly');
    noDebugPods();
  });

  test('a kubeconfig whose user authenticates through an exec credential plugin works', async () => {
    // A real exec plugin (client.authentication.k8s.io/v1): a script that prints an ExecCredential
    // with a service-account token allowed to do exactly what the plugin needs.
    const plain = narrowKubeconfig('execauth', [
      { resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      { resources: ['pods/exec'], verbs: ['create', 'get'] },
      { resources: ['events'], verbs: ['list'] },
    ]);
    const cfg = JSON.parse(readFileSync(plain, 'utf8')) as {
      users: Array<{ name: string; user: Record<string, unknown> }>;
    };
    const token = cfg.users[0]!.user.token as string;
    const script = join(dir, 'exec-credential.sh');
    writeFileSync(
      script,
      `#!/bin/sh\nprintf '%s' '${JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } })}'\n`,
      { mode: 0o755 },
    );
    cfg.users[0]!.user = {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: script, interactiveMode: 'Never' },
    };
    const kc = join(dir, 'exec-auth.kubeconfig');
    writeFileSync(kc, JSON.stringify(cfg));
    const r = await runPlugin(
      ['exec', 'web', '--kubeconfig', kc, '--image', DEBUG_IMAGE, '--', 'cat', '/proc/net/dev'],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /eth0:/);
    noDebugPods();
  });

  test('a debug pod that nothing picks up waits out --pod-timeout, also once the watch has been quiet for 30 s', async () => {
    // Bound to a node that does not exist: no kubelet ever writes its status, so the pod watch sees
    // nothing after the first event. client-node ends such a watch after 30 s; that must not end the wait.
    const client = await createKubeClient(await resolveConfig({ kubeconfig: KUBECONFIG, namespace: ns }));
    await assert.rejects(
      DebugSession.open(client, {
        namespace: ns,
        nodeName: 'knetns-nowhere',
        image: DEBUG_IMAGE,
        privileged: false,
        target: undefined,
        version: 'test',
        podTimeoutMs: 35_000,
      }),
      (err: unknown) => {
        assert.ok(err instanceof UserError, String(err));
        assert.equal(err.exitCode, ExitCode.timeout, err.message);
        assert.match(err.message, /did not start within 35s/);
        return true;
      },
    );
    noDebugPods();
  });

  test("an invalid BPF filter surfaces tcpdump's own message", async () => {
    const r = await runPlugin(
      ['capture', 'web', ...base, '-o', join(dir, 'bad.pcap'), '--', 'tcp', 'port', 'nonsense!'],
      { env },
    );
    assert.equal(r.code, ExitCode.agent, r.stderr);
    oneLineError(r.stderr, /syntax error|illegal|unknown port/);
    assert.match(r.stderr, /hint: tcpdump rejected the filter/);
    noDebugPods();
  });
});
