// The permissions story an operator adopts as shipped (deploy/): the debug namespace, the RBAC
// roles and the admission policy, applied to the local cluster exactly as the files are, and
// kubectl-netns run as a ServiceAccount with a token kubeconfig (not the admin):
// - with exactly the shipped roles every command works, against a target namespace that
//   enforces PodSecurity "restricted", through the debug namespace;
// - with one verb removed, the error names it before anything is created;
// - the admission policy admits kubectl-netns's own debug pod, created as the operator, and rejects
//   it with anything changed that would change what runs (another command, args, env, hooks,
//   probes, volumes, seccomp, stdin, an ephemeral container) and hand-made root pods;
// - from Kubernetes 1.35 the API server itself refuses websocket exec without `create` on
//   pods/exec (the shipped Role has it);
// - without the debug namespace the "restricted" target gives the documented remedy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNamespace,
  debugPods,
  deleteNamespace,
  ensureCluster,
  httpGet,
  KUBECONFIG,
  kubectl,
  kubectlRun,
  NODE_NAME,
  runPod,
  serviceAccountKubeconfig,
  waitFor,
  watchDebugPodsCreated,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, ROOT, runPlugin, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { readPcap } from '../helpers/pcap/reader.ts';
import { ExitCode } from '../../src/errors.ts';
import { buildDebugPod, debugContainerCommand } from '../../src/kube/debug-pod.ts';

const skip = ensureCluster();
const DEBUG_NS = 'kubectl-netns-debug';
const target = `e2e-perm-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'knetns-perm-'));
const deploy = (f: string) => join(ROOT, 'deploy', f);
const POLICY = 'policy/debug-pod-policy.yaml';
const SHIPPED = [
  'debug-namespace.yaml',
  'rbac/debug-pods.yaml',
  'rbac/targets.yaml',
  'rbac/node-forensics.yaml',
  POLICY,
];
let operator = '';
let podIP = '';

/** Binds the shipped roles to service account TARGET/NAME, the way bindings-example.yaml binds a group. */
function bindShipped(name: string, debugRole = 'kubectl-netns-debug-pods'): void {
  const sa = `--serviceaccount=${target}:${name}`;
  kubectl(['create', 'rolebinding', `${name}-debug-pods`, '-n', DEBUG_NS, `--role=${debugRole}`, sa]);
  kubectl(['create', 'rolebinding', `${name}-targets`, '-n', target, '--clusterrole=kubectl-netns-targets', sa]);
  kubectl([
    'create',
    'rolebinding',
    `${target}-${name}-leases`,
    '-n',
    'kube-node-lease',
    '--role=kubectl-netns-node-leases',
    sa,
  ]);
  kubectl([
    'create',
    'clusterrolebinding',
    `${target}-${name}-forensics`,
    '--clusterrole=kubectl-netns-node-forensics',
    sa,
  ]);
}

/** Runs the plugin as the operator (a ServiceAccount token, the shipped roles, nothing else). */
const asOperator = (args: string[], input?: string) => {
  // Flags go before `--`: after it every word belongs to the remote command.
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  const flags = ['--kubeconfig', operator, '--image', DEBUG_IMAGE];
  return runPlugin([...args.slice(0, end), ...flags, ...args.slice(end)], { input, timeoutMs: 180_000 });
};

describe('permissions as shipped', { skip, timeout: 900_000 }, () => {
  before(async () => {
    // An earlier run's debug namespace may still be terminating: applying into it would fail.
    await waitFor(
      'the previous debug namespace to be gone',
      async () => {
        const r = kubectlRun(['get', 'namespace', DEBUG_NS, '-o', 'jsonpath={.status.phase}']);
        return r.code !== 0 || r.stdout === 'Active' ? true : undefined;
      },
      180_000,
    );
    for (const f of SHIPPED.filter((x) => x !== POLICY)) kubectl(['apply', '-f', deploy(f)]);
    // What an operator edits: the images users may run as debug pods here (the line marked EDIT).
    const policy = readFileSync(deploy(POLICY), 'utf8');
    const edited = policy.replace(/(- name: images\n\s+expression: )".*"/, `$1"['${DEBUG_IMAGE}']"`);
    assert.notEqual(edited, policy, 'the images variable is where the file says');
    kubectl(['apply', '-f', '-'], edited);
    await createNamespace(target, { 'pod-security.kubernetes.io/enforce': 'restricted' });
    podIP = (await runPod(target, 'web', WEB_IMAGE, { restricted: true })).status.podIP;
    kubectl(['create', 'serviceaccount', 'operator', '-n', target]);
    bindShipped('operator');
    operator = serviceAccountKubeconfig(target, 'operator', dir);
    // The policy takes a moment to be enforced after it is created: wait for its verdict.
    await waitFor('the admission policy to be in force', async () => {
      const r = kubectlRun(['run', 'probe', '-n', DEBUG_NS, '--image', 'x', '--restart=Never', '--dry-run=server']);
      return /only kubectl-netns debug pods may run in this namespace/.test(r.stderr) ? true : undefined;
    });
  });
  after(async () => {
    await deleteNamespace(target);
    for (const name of ['operator', 'noexecget', 'nocreate']) {
      kubectlRun(['delete', 'clusterrolebinding', `${target}-${name}-forensics`, '--ignore-not-found']);
      kubectlRun(['delete', 'rolebinding', `${target}-${name}-leases`, '-n', 'kube-node-lease', '--ignore-not-found']);
    }
    for (const role of ['kubectl-netns-debug-pods-noexecget', 'kubectl-netns-debug-pods-nocreate'])
      kubectlRun(['delete', 'role', role, '-n', DEBUG_NS, '--ignore-not-found']);
    for (const name of ['operator', 'noexecget', 'nocreate'])
      kubectlRun(['delete', 'rolebinding', `${name}-debug-pods`, '-n', DEBUG_NS, '--ignore-not-found']);
    for (const f of [...SHIPPED].reverse())
      kubectlRun(['delete', '-f', deploy(f), '--ignore-not-found', '--wait=false']);
    rmSync(dir, { recursive: true, force: true });
  });

  test('capture works as the operator, from a "restricted" namespace through the debug namespace', async () => {
    const file = join(dir, 'op.pcap');
    const child = startPlugin([
      'capture',
      'web',
      '-n',
      target,
      '--debug-namespace',
      DEBUG_NS,
      '--image',
      DEBUG_IMAGE,
      '--kubeconfig',
      operator,
      '-o',
      file,
      '--duration',
      '4s',
    ]);
    const done = collect(child);
    await waitForStderr(child, /capturing on/);
    for (let i = 0; i < 3; i++) await httpGet(`http://${podIP}:8080/index.html?op=${i}`);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readPcap(readFileSync(file)).records.length >= 6);
    assert.deepEqual(debugPods(DEBUG_NS), []);
  });

  test('exec, shell, inspect, ls, whohas and cleanup work as the operator with exactly the shipped roles', async () => {
    const common = ['-n', target, '--debug-namespace', DEBUG_NS];
    const exec = await asOperator(['exec', 'web', ...common, '--', 'ip', '-br', 'addr']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout.toString(), new RegExp(podIP));
    const shell = await asOperator(['shell', 'web', ...common], 'ss -tln\n');
    assert.equal(shell.code, 0, shell.stderr);
    assert.match(shell.stdout.toString(), /:8080/);
    const inspect = await asOperator(['inspect', 'web', ...common, '-o', 'json']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout.toString()).pod.name, 'web');
    const ls = await asOperator(['ls', NODE_NAME, ...common, '-o', 'json']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(JSON.parse(ls.stdout.toString()).items.some((i: any) => i.pod?.name === 'web'));
    const whohas = await asOperator(['whohas', podIP, ...common, '-o', 'json']);
    assert.equal(whohas.code, 0, whohas.stderr);
    assert.equal(JSON.parse(whohas.stdout.toString()).items[0].pod.name, 'web');
    const cleanup = await asOperator(['cleanup', '-n', DEBUG_NS]);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.deepEqual(debugPods(DEBUG_NS), []);
  });

  test('capture --detach, captures, fetch and stop work as the operator; the policy admits the detached pod', async () => {
    const common = ['-n', target, '--debug-namespace', DEBUG_NS];
    const started = await asOperator([
      'capture',
      'web',
      ...common,
      '--detach',
      '--duration',
      '2m',
      '--spool-size',
      '2MB',
    ]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.toString().trim();
    assert.match(id, /^[0-9a-f]{8}$/);
    for (let i = 0; i < 3; i++) await httpGet(`http://${podIP}:8080/index.html?detached=${i}`);
    const listed = await asOperator(['captures', '-n', DEBUG_NS, '-o', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    const item = JSON.parse(listed.stdout.toString()).items[0];
    assert.ok(item, `captures listed nothing; its stderr: ${listed.stderr}`);
    assert.equal(item.id, id);
    assert.match(item.startedBy, /system:serviceaccount:.*:operator/, 'who started it, as the API server names them');
    const stopped = await asOperator(['stop', id, '-n', DEBUG_NS]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const file = join(dir, 'detached.pcap');
    const fetched = await asOperator(['fetch', id, '-n', DEBUG_NS, '-w', file]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.ok(readPcap(readFileSync(file)).records.length >= 6);
    await waitFor('the detached pod gone', async () => (debugPods(DEBUG_NS).length === 0 ? true : undefined), 60_000);
  });

  test('with one verb removed (get on pods/exec), the error names it and nothing is created', async () => {
    const role = JSON.parse(kubectl(['get', 'role', 'kubectl-netns-debug-pods', '-n', DEBUG_NS, '-o', 'json']));
    role.metadata = { name: 'kubectl-netns-debug-pods-noexecget', namespace: DEBUG_NS };
    role.rules = role.rules.map((r: { resources: string[]; verbs: string[] }) =>
      r.resources.includes('pods/exec') ? { ...r, verbs: r.verbs.filter((v) => v !== 'get') } : r,
    );
    kubectl(['apply', '-f', '-'], JSON.stringify(role));
    kubectl(['create', 'serviceaccount', 'noexecget', '-n', target]);
    bindShipped('noexecget', 'kubectl-netns-debug-pods-noexecget');
    const kc = serviceAccountKubeconfig(target, 'noexecget', dir);
    const created = watchDebugPodsCreated(DEBUG_NS);
    const r = await runPlugin([
      'exec',
      'web',
      '-n',
      target,
      '--debug-namespace',
      DEBUG_NS,
      '--image',
      DEBUG_IMAGE,
      '--kubeconfig',
      kc,
      '--',
      'true',
    ]);
    assert.equal(r.code, ExitCode.forbidden, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `error: forbidden: you are missing a right kubectl-netns needs: get pods/exec in namespace "${DEBUG_NS}"`,
      ),
    );
    assert.deepEqual(await created.stop(), [], 'no debug pod was created');
  });

  test('the admission policy rejects hand-made root pods in the debug namespace', async () => {
    const pod = (name: string, extra: Record<string, unknown>, container: Record<string, unknown> = {}) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: DEBUG_NS, labels: { 'app.kubernetes.io/managed-by': 'kubectl-netns' } },
        spec: {
          nodeName: NODE_NAME,
          automountServiceAccountToken: false,
          activeDeadlineSeconds: 600,
          hostPID: true,
          // kubectl-netns's own command: each case then meets the rule it is about.
          containers: [
            {
              name: 'netns',
              image: DEBUG_IMAGE,
              command: debugContainerCommand(600),
              resources: { limits: { 'ephemeral-storage': '64Mi' } },
              ...container,
            },
          ],
          ...extra,
        },
      });
    const cases: Array<[string, string, RegExp]> = [
      [
        'privileged',
        pod('evil-priv', {}, { securityContext: { privileged: true } }),
        /privileged debug pods .* are not allowed here/,
      ],
      [
        'host path',
        pod(
          'evil-mount',
          { volumes: [{ name: 'root', hostPath: { path: '/' } }] },
          { volumeMounts: [{ name: 'root', mountPath: '/host' }] },
        ),
        /mounts no volumes/,
      ],
      ['other image', pod('evil-image', {}, { image: WEB_IMAGE }), /is not one of the debug images allowed/],
      ['a token', pod('evil-token', { automountServiceAccountToken: true }), /no service account token/],
      ['no storage limit', pod('evil-disk', {}, { resources: {} }), /has an ephemeral-storage limit/],
      [
        'a spool past the bound',
        pod(
          'evil-spool',
          { volumes: [{ name: 'spool', emptyDir: { sizeLimit: '100Ti' } }] },
          { volumeMounts: [{ name: 'spool', mountPath: '/spool' }] },
        ),
        /emptyDir of at most/,
      ],
      [
        'no label',
        JSON.stringify({ ...JSON.parse(pod('evil-label', {})), metadata: { name: 'evil-label', namespace: DEBUG_NS } }),
        /only kubectl-netns debug pods/,
      ],
    ];
    for (const [what, manifest, re] of cases) {
      const r = kubectlRun(['create', '-f', '-'], { input: manifest });
      assert.notEqual(r.code, 0, `${what}: admitted`);
      assert.match(r.stderr, /ValidatingAdmissionPolicy 'kubectl-netns-debug-pods'/, what);
      assert.match(r.stderr, re, what);
    }
  });

  test("kubectl-netns's own debug pod is admitted as the operator creates it; with what it runs changed, rejected", async () => {
    const built = buildDebugPod({
      namespace: DEBUG_NS,
      nodeName: NODE_NAME,
      image: DEBUG_IMAGE,
      privileged: false,
      target: { namespace: target, pod: 'web' },
      sessionId: 'e2e',
      suffix: 'abc123',
      podTimeoutSeconds: 60,
      version: 'e2e',
    });
    /** Creates (server-side dry run: admission runs, nothing starts) the debug pod with CHANGE applied, as the operator. */
    const create = (change: (p: any) => void) => {
      const p = structuredClone(built) as any;
      change(p);
      return kubectlRun(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(p), kubeconfig: operator });
    };
    const ok = create(() => {});
    assert.equal(ok.code, 0, ok.stderr);
    const c = (p: any) => p.spec.containers[0];
    const cases: Array<[string, (p: any) => void, RegExp]> = [
      // What the reviewer ran: our own spec, another command. Root on the node, had it been admitted.
      [
        'another command',
        (p) => (c(p).command = ['sh', '-c', 'cat /proc/1/root/etc/shadow; sleep 600']),
        /command is pinned/,
      ],
      ['the main script edited', (p) => (c(p).command[2] += '\nchroot /proc/1/root sh -c id'), /command is pinned/],
      ['a deadline that is not a number', (p) => (c(p).command[5] = '$(id)'), /command is pinned/],
      ['args', (p) => (c(p).args = ['x']), /no args, env or envFrom/],
      ['env', (p) => (c(p).env = [{ name: 'ENV', value: '/proc/1/root/tmp/x' }]), /no args, env or envFrom/],
      [
        'a postStart hook',
        (p) => (c(p).lifecycle = { postStart: { exec: { command: ['sh', '-c', 'id'] } } }),
        /no lifecycle hooks and no probes/,
      ],
      [
        'a probe',
        (p) => (c(p).livenessProbe = { exec: { command: ['sh', '-c', 'id'] } }),
        /no lifecycle hooks and no probes/,
      ],
      ['a working directory', (p) => (c(p).workingDir = '/proc/1/root'), /no working directory, stdin or TTY/],
      ['stdin and a TTY', (p) => Object.assign(c(p), { stdin: true, tty: true }), /no working directory, stdin or TTY/],
      [
        'an emptyDir volume',
        (p) => {
          p.spec.volumes = [{ name: 'x', emptyDir: {} }];
          c(p).volumeMounts = [{ name: 'x', mountPath: '/x' }];
        },
        /mounts no volumes but its own emptyDir ones/,
      ],
      [
        'seccomp Unconfined',
        (p) => (c(p).securityContext.seccompProfile = { type: 'Unconfined' }),
        /default seccomp profile/,
      ],
      ['no seccomp profile', (p) => delete c(p).securityContext.seccompProfile, /default seccomp profile/],
      [
        'SELinux options',
        (p) => (c(p).securityContext.seLinuxOptions = { type: 'spc_t' }),
        /no SELinux or Windows options/,
      ],
      [
        'an init container',
        (p) => (p.spec.initContainers = [{ ...c(p), name: 'init' }]),
        /no init or ephemeral containers/,
      ],
    ];
    for (const [what, change, re] of cases) {
      const r = create(change);
      assert.notEqual(r.code, 0, `${what}: admitted`);
      assert.match(r.stderr, /ValidatingAdmissionPolicy 'kubectl-netns-debug-pods'/, `${what}: ${r.stderr}`);
      assert.match(r.stderr, re, `${what}: ${r.stderr}`);
    }
    // An ephemeral container added to a running debug pod, through its own subresource (as the
    // admin: the operator may not even try).
    kubectl(['create', '-f', '-'], { input: JSON.stringify(built), kubeconfig: operator });
    try {
      const r = kubectlRun([
        'debug',
        '-n',
        DEBUG_NS,
        built.metadata!.name!,
        '--image',
        DEBUG_IMAGE,
        '--profile',
        'sysadmin',
        '--',
        'sh',
        '-c',
        'id',
      ]);
      assert.notEqual(r.code, 0, 'ephemeral container admitted');
      assert.match(r.stderr, /no ephemeral containers in kubectl-netns debug pods/, r.stderr);
    } finally {
      // Gone before the next test starts: its end of life (seen on 1.35) would show in the next
      // test's watch of debug pods as if that test had created one.
      kubectlRun([
        'delete',
        'pod',
        '-n',
        DEBUG_NS,
        built.metadata!.name!,
        '--grace-period=0',
        '--wait=true',
        '--timeout=90s',
      ]);
    }
  });

  test('websocket exec without create on pods/exec: refused by the API server from 1.35 on, and named by us before anything', async () => {
    // The shipped roles with only `create` on pods/exec taken out (and get on pods/exec in the
    // target namespace, for kubectl's own exec there).
    const shipped = JSON.parse(kubectl(['get', 'role', 'kubectl-netns-debug-pods', '-n', DEBUG_NS, '-o', 'json']));
    const exec = shipped.rules.find((r: { resources: string[] }) => r.resources.includes('pods/exec'));
    assert.deepEqual([...exec.verbs].sort(), ['create', 'get'], 'the shipped Role grants create and get on pods/exec');
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'kubectl-netns-debug-pods-nocreate', namespace: DEBUG_NS },
      rules: shipped.rules.map((r: { resources: string[]; verbs: string[] }) =>
        r.resources.includes('pods/exec') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r,
      ),
    };
    kubectl(['apply', '-f', '-'], JSON.stringify(role));
    kubectl(['create', 'serviceaccount', 'nocreate', '-n', target]);
    bindShipped('nocreate', 'kubectl-netns-debug-pods-nocreate');
    kubectl(['create', 'role', 'exec-get-only', '-n', target, '--verb=get', '--resource=pods,pods/exec']);
    kubectl([
      'create',
      'rolebinding',
      'nocreate-exec',
      '-n',
      target,
      '--role=exec-get-only',
      `--serviceaccount=${target}:nocreate`,
    ]);
    const kc = serviceAccountKubeconfig(target, 'nocreate', dir);
    const server = JSON.parse(kubectl(['version', '-o', 'json'])).serverVersion;
    const minor = Number.parseInt(String(server.minor), 10);
    // kubectl's exec speaks websockets (the default since 1.30), as kubectl-netns does.
    const raw = kubectlRun(['exec', '-n', target, 'web', '--', 'true'], { kubeconfig: kc });
    if (minor >= 35) {
      assert.notEqual(raw.code, 0, `Kubernetes 1.${minor} let websocket exec through without create on pods/exec`);
      assert.match(raw.stderr, /forbidden/i);
      assert.match(raw.stderr, /create/);
    } else {
      // Before 1.35 get is enough: the shipped Role grants both, for every version.
      assert.equal(raw.code, 0, raw.stderr);
    }
    // kubectl-netns asks before it creates anything, whatever the version.
    const created = watchDebugPodsCreated(DEBUG_NS);
    const ours = await runPlugin(
      [
        'exec',
        'web',
        '-n',
        target,
        '--debug-namespace',
        DEBUG_NS,
        '--image',
        DEBUG_IMAGE,
        '--kubeconfig',
        kc,
        '--',
        'true',
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(ours.code, ExitCode.forbidden, ours.stderr);
    assert.match(
      ours.stderr,
      new RegExp(`missing a right kubectl-netns needs: create pods/exec in namespace "${DEBUG_NS}"`),
    );
    assert.deepEqual(await created.stop(), []);
  });

  test('a "restricted" target without the debug namespace: the documented remedy, and no pod', async () => {
    const r = await asOperator(['exec', 'web', '-n', target, '--', 'true']);
    assert.equal(r.code, ExitCode.forbidden, r.stderr);
    // The operator may not create pods in the target namespace at all: the up-front check says so.
    assert.match(r.stderr, new RegExp(`create pods in namespace "${target}"`));
    // The admin may, and then PodSecurity refuses: the hint names the debug namespace, never a system one.
    const admin = await runPlugin(['exec', 'web', '-n', target, '--image', DEBUG_IMAGE, '--', 'true'], {
      env: { KUBECONFIG },
    });
    assert.equal(admin.code, ExitCode.forbidden, admin.stderr);
    assert.match(admin.stderr, /its PodSecurity level is "restricted"/);
    assert.match(admin.stderr, /hint: .*--debug-namespace kubectl-netns-debug/);
    assert.doesNotMatch(admin.stderr, /kube-system/);
    assert.deepEqual(debugPods(target), []);
  });
});
