import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  buildDebugPod,
  kubernetesLiteral,
  debugPodName,
  deadlineSeconds,
  labelValue,
  DEFAULT_DEADLINE_SECONDS,
  GRACE_SECONDS,
  DETACHED_FILE,
  HELD_PREFIX,
  RELEASED_FILE,
  HOLD_ATTACH_SECONDS,
  MAIN_SCRIPT,
  MAX_MEMORY_MIB,
} from '../../../src/kube/debug-pod.ts';

const base = {
  namespace: 'shop',
  nodeName: 'node-a',
  image: 'example.test/debug:1',
  privileged: false,
  target: { namespace: 'shop', pod: 'web-7d9' },
  sessionId: 'ab12cd34',
  suffix: 'f00',
  version: '0.1.0',
  podTimeoutSeconds: 60,
};

test('the debug pod is pinned, host-PID, minimal-capability, self-expiring and labelled', () => {
  assert.deepStrictEqual(buildDebugPod(base), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'netns-web-7d9-f00',
      namespace: 'shop',
      labels: {
        'app.kubernetes.io/managed-by': 'kubectl-netns',
        'kubectl-netns.io/session': 'ab12cd34',
        'kubectl-netns.io/target-pod': 'web-7d9',
        'kubectl-netns.io/target-namespace': 'shop',
      },
      annotations: { 'kubectl-netns.io/version': '0.1.0', 'kubectl-netns.io/target': 'shop/web-7d9' },
    },
    spec: {
      nodeName: 'node-a',
      hostPID: true,
      restartPolicy: 'Never',
      activeDeadlineSeconds: DEFAULT_DEADLINE_SECONDS,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: GRACE_SECONDS,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'netns',
          image: 'example.test/debug:1',
          imagePullPolicy: 'IfNotPresent',
          command: [
            'sh',
            '-c',
            kubernetesLiteral(MAIN_SCRIPT),
            'kubectl-netns-debug',
            String(HOLD_ATTACH_SECONDS),
            '5', // the reconnect window: short unless a spooled capture asks for more
            String(DEFAULT_DEADLINE_SECONDS + 60),
          ],
          securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: true,
            capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'SYS_PTRACE', 'NET_ADMIN', 'NET_RAW', 'SETGID'] },
            seccompProfile: { type: 'RuntimeDefault' },
            appArmorProfile: { type: 'Unconfined' },
          },
          resources: {
            requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': '1Mi' },
            limits: { memory: '128Mi', 'ephemeral-storage': '64Mi' },
          },
        },
      ],
    },
  });
});

test('with spools: an emptyDir of their size at /spool, and the storage limit grows by it; the reconnect window', () => {
  const pod = buildDebugPod({ ...base, spoolBytes: 600 * 2 ** 20, reconnectSeconds: 300 });
  const c = pod.spec!.containers[0]!;
  assert.deepStrictEqual(pod.spec?.volumes, [{ name: 'spool', emptyDir: { sizeLimit: '600Mi' } }]);
  assert.deepStrictEqual(c.volumeMounts, [{ name: 'spool', mountPath: '/spool' }]);
  assert.equal(c.resources?.limits?.['ephemeral-storage'], '664Mi');
  assert.equal(c.command?.at(-2), '300');
  // Without spools, none of that.
  const plain = buildDebugPod(base);
  assert.equal(plain.spec?.volumes, undefined);
  assert.equal(plain.spec?.containers[0]?.volumeMounts, undefined);
});

test("a detached capture's pod: its ID as a label and who started it", () => {
  const pod = buildDebugPod({
    ...base,
    spoolBytes: 10e6,
    detached: { id: 'k7f3a9c2', startedBy: 'alice@example.com' },
  });
  assert.equal(pod.metadata?.labels?.['kubectl-netns.io/detached'], 'k7f3a9c2');
  assert.equal(pod.metadata?.annotations?.['kubectl-netns.io/started-by'], 'alice@example.com');
});

test('--privileged replaces the capability set with a privileged container', () => {
  const pod = buildDebugPod({ ...base, privileged: true });
  assert.deepStrictEqual(pod.spec?.containers[0]?.securityContext, {
    privileged: true,
    runAsUser: 0,
    runAsNonRoot: false,
  });
});

test('--duration bounds the pod deadline (pod timeout + duration + slack), never above the default ceiling', () => {
  assert.equal(buildDebugPod({ ...base, durationSeconds: 30 }).spec?.activeDeadlineSeconds, 60 + 30 + 30);
  assert.equal(deadlineSeconds(29.2, 10), 70);
  assert.equal(deadlineSeconds(10 * 24 * 3600, 60), DEFAULT_DEADLINE_SECONDS);
  assert.equal(deadlineSeconds(undefined, 60), DEFAULT_DEADLINE_SECONDS);
});

test('host-network debug pods (host-side capture) keep cluster DNS', () => {
  const spec = buildDebugPod({ ...base, hostNetwork: true }).spec;
  assert.equal(spec?.hostNetwork, true);
  assert.equal(spec?.dnsPolicy, 'ClusterFirstWithHostNet');
});

test('names stay valid pod names and hostnames for long targets', () => {
  const long = 'a'.repeat(80) + '-x';
  const name = debugPodName(long, 'f00');
  assert.ok(name.length <= 63, name);
  assert.match(name, /^netns-a+-f00$/);
  assert.equal(debugPodName(undefined, 'f00'), 'netns-node-f00');
});

test('label values are cut to 63 valid characters', () => {
  assert.equal(labelValue('x'.repeat(70)).length, 63);
  assert.equal(labelValue('-web_7/d9.'), 'web_7-d9');
});

test('the memory limit covers every capture buffer the pod will hold', () => {
  const limit = (buffers: number[]) =>
    buildDebugPod({ ...base, captureBuffersMiB: buffers }).spec?.containers[0]?.resources?.limits?.memory;
  assert.equal(limit([]), '128Mi');
  assert.equal(limit([32]), '192Mi');
  assert.equal(limit([1024]), '1184Mi');
  assert.equal(limit([32, 32, 32]), '320Mi');
  // Capped: kernel capture buffers are pinned memory (the commands refuse before building; see limits.ts).
  assert.equal(limit([1888]), `${MAX_MEMORY_MIB}Mi`);
  assert.throws(() => limit([1889]), RangeError);
  assert.throws(() => limit(Array.from({ length: 20 }, () => 4096)), RangeError);
});

/**
 * The kubelet's expansion of a container's command (k8s.io/kubernetes third_party/forked/golang/
 * expansion, re-stated here because the real one is Go): `$$` → `$`, `$(NAME)` → NAME's value
 * or left as written when NAME is not defined; every other `$` stays. No env vars are defined here.
 */
function kubeletExpand(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '$' || i + 1 >= s.length) {
      out += s[i];
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = s.indexOf(')', i + 2);
      if (close < 0) out += s.slice(i);
      else out += s.slice(i, close + 1); // undefined NAME: kept as written
      i = close < 0 ? s.length : close;
    } else out += '$';
  }
  return out;
}

test('the main script reaches sh as written: the kubelet’s $$ and $(…) expansion gives it back', () => {
  const command = buildDebugPod(base).spec?.containers[0]?.command ?? [];
  assert.equal(kubeletExpand(command[2]!), MAIN_SCRIPT);
  // Its $((…)) and $(date …) look like the kubelet's $(NAME) references; escaped, they pass as they are.
  assert.ok(MAIN_SCRIPT.includes('$(('));
  assert.equal(kubeletExpand('$$$$ $$(date)'), '$$ $(date)');
  assert.equal(kubernetesLiteral('a $(x) $$ $1'), 'a $$(x) $$$$ $$1');
});

test("the pod's main process and the agent's hold op agree on their files", () => {
  const agent = readFileSync(new URL('../../../src/node/agent.sh', import.meta.url), 'utf8');
  const hold = agent.slice(agent.indexOf('op_hold() {'), agent.indexOf('# ---- dispatch'));
  assert.ok(hold.includes(HELD_PREFIX) && MAIN_SCRIPT.includes(HELD_PREFIX));
  assert.ok(agent.includes(DETACHED_FILE) && MAIN_SCRIPT.includes(DETACHED_FILE));
  assert.ok(hold.includes(RELEASED_FILE) && MAIN_SCRIPT.includes(RELEASED_FILE));
});
