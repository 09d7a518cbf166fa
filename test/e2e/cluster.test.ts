// The local cluster really works: a Ready node of the pinned version, pods on our bridge that answer
// HTTP from the root namespace, exec streaming through the API server to kubelet, PodSecurity
// enforcement, and a missing image failing fast. Everything else in test/e2e leans on these.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  IMAGES,
  K8S_VERSION,
  NODE_NAME,
  POD_CIDR,
  createNamespace,
  deleteNamespace,
  ensureCluster,
  kubectl,
  kubectlJson,
  kubectlRun,
  runPod,
  uniqueName,
  waitFor,
} from '../helpers/cluster.ts';

const skip = ensureCluster();

function ipInCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  return (toInt(ip) & mask) >>> 0 === (toInt(base!) & mask) >>> 0;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

describe('local cluster', { skip, timeout: 300_000 }, () => {
  const ns = uniqueName('e2e-cluster');
  const restricted = uniqueName('e2e-baseline');
  let webIP = '';

  before(async () => {
    await createNamespace(ns);
    await createNamespace(restricted, { 'pod-security.kubernetes.io/enforce': 'baseline' });
  });

  after(async () => {
    await deleteNamespace(ns);
    await deleteNamespace(restricted);
  });

  test('the node is Ready and runs the pinned kubelet on containerd', async () => {
    const node = kubectlJson(['get', 'node', NODE_NAME]);
    const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(node.status.nodeInfo.kubeletVersion, K8S_VERSION);
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    const version = JSON.parse(kubectl(['version', '-o', 'json']));
    assert.equal(version.serverVersion.gitVersion, K8S_VERSION);
    assert.equal(version.clientVersion.gitVersion, K8S_VERSION);
  });

  test('a web pod runs, gets a pod-CIDR address and answers HTTP from the root namespace', async () => {
    const pod = await runPod(ns, 'web', IMAGES.web);
    webIP = pod.status.podIP;
    assert.ok(webIP && ipInCidr(webIP, POD_CIDR), `pod IP ${webIP} not in ${POD_CIDR}`);
    // httpd may need a moment after the container starts.
    const res = await waitFor(
      'HTTP answer from the web pod',
      async () => {
        try {
          return await httpGet(`http://${webIP}:8080/`);
        } catch {
          return undefined;
        }
      },
      20_000,
    );
    assert.equal(res.status, 200);
    assert.match(res.body, /hello from kubectl-netns\.local\/web/);
  });

  test('kubectl exec streams through the API server to kubelet, with the exit code', async () => {
    assert.match(kubectl(['exec', '-n', ns, 'web', '--', 'cat', '/www/index.html']), /hello from kubectl-netns/);
    const failed = kubectlRun(['exec', '-n', ns, 'web', '--', 'sh', '-c', 'echo oops >&2; exit 3']);
    assert.equal(failed.code, 3);
    assert.match(failed.stderr, /oops/);
    const addr = kubectl(['exec', '-n', ns, 'web', '--', 'ip', 'addr', 'show', 'eth0']);
    assert.ok(addr.includes(webIP), addr);
  });

  test('PodSecurity baseline rejects a hostPID pod', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostpid', namespace: restricted },
      spec: { hostPID: true, containers: [{ name: 'main', image: IMAGES.debug, command: ['sleep', '60'] }] },
    };
    const r = kubectlRun(['create', '-f', '-'], { input: JSON.stringify(pod) });
    assert.notEqual(r.code, 0, 'the hostPID pod was admitted');
    assert.match(r.stderr, /violates PodSecurity "baseline:latest"/);
    assert.match(r.stderr, /hostPID=true/);
  });

  test('a missing image fails fast with ErrImagePull/ImagePullBackOff', async (t) => {
    const started = Date.now();
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'missing-image', namespace: ns },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        containers: [
          { name: 'main', image: 'kubectl-netns.local/does-not-exist:dev', imagePullPolicy: 'IfNotPresent' },
        ],
      },
    };
    kubectl(['create', '-f', '-'], JSON.stringify(pod));
    const reason = await waitFor(
      'an image pull error',
      async () => {
        const p = kubectlJson(['get', 'pod', 'missing-image', '-n', ns]);
        const r: string | undefined = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        return r === 'ErrImagePull' || r === 'ImagePullBackOff' ? r : undefined;
      },
      30_000,
    );
    const elapsed = Date.now() - started;
    t.diagnostic(`${reason} after ${elapsed} ms`);
    assert.ok(elapsed < 30_000);
  });
});
