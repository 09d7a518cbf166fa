import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  buildDebugPod,
  debugPodName,
  deadlineSeconds,
  labelValue,
  DEFAULT_DEADLINE_SECONDS,
  GRACE_SECONDS,
  HELD_FILE,
  HOLD_ATTACH_SECONDS,
  MAIN_PID_FILE,
  MAIN_SCRIPT,
  escapeExpansion,
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
            escapeExpansion(MAIN_SCRIPT),
            'kubectl-netns-debug',
            String(HOLD_ATTACH_SECONDS),
            String(DEFAULT_DEADLINE_SECONDS + 60),
          ],
          securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: true,
            capabilities: {
              drop: ['ALL'],
              add: ['SYS_ADMIN', 'SYS_PTRACE', 'NET_ADMIN', 'NET_RAW', 'SETUID', 'SETGID'],
            },
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
});

test("the pod's main process and the agent's hold op agree on their files", () => {
  const agent = readFileSync(new URL('../../../src/node/agent.sh', import.meta.url), 'utf8');
  const hold = agent.slice(agent.indexOf('op_hold() {'), agent.indexOf('# ---- dispatch'));
  assert.ok(hold.includes(MAIN_PID_FILE) && MAIN_SCRIPT.includes(MAIN_PID_FILE));
  assert.ok(hold.includes(HELD_FILE) && MAIN_SCRIPT.includes(HELD_FILE));
});

/**
 * Kubernetes' expansion of $(VAR) in a container's command (third_party/forked/golang/expansion),
 * with no variables defined: $$ becomes $, an unknown $(NAME) stays as written.
 */
function kubernetesExpand(input: string): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) {
      out += input[i];
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 1;
      } else {
        out += input.slice(i, close + 1);
        i = close;
      }
    } else {
      out += `$${next}`;
      i += 1;
    }
  }
  return out;
}

test('the main script reaches the shell as written, after Kubernetes expands the command', () => {
  const pod = buildDebugPod({
    namespace: 'ns',
    nodeName: 'n',
    image: 'i',
    privileged: false,
    target: undefined,
    sessionId: 's',
    suffix: 'x',
    podTimeoutSeconds: 60,
    version: 't',
  });
  const script = pod.spec!.containers[0]!.command![2]!;
  assert.equal(kubernetesExpand(script), MAIN_SCRIPT);
  // Unescaped, `echo $$` (the main PID, which the hold needs to end the pod) arrived as `echo $`.
  assert.notEqual(kubernetesExpand(MAIN_SCRIPT), MAIN_SCRIPT);
  assert.match(kubernetesExpand(MAIN_SCRIPT), /^echo \$ >/);
});
