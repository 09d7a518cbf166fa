// The local cluster really works: a Ready node of the pinned version, pods on our bridge that answer
// HTTP from the root namespace, exec streaming through the API server to kubelet, kube-proxy
// translating a Service IP (and keeping its rules to the test subnets), PodSecurity enforcement, and
// a missing image failing fast. Everything else in test/e2e leans on these.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  clusterNodes,
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
// The test subnets (scripts/cluster/lib.sh): nodes, pods, Services.
const NODE_SUBNET = '10.213.0.0/24';
const CLUSTER_CIDR = '10.214.0.0/16';
const SERVICE_CIDR = '10.215.0.0/24';

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

  test('every node runs its flavour: the runtime up.sh started (kubectl get nodes -o wide), the Kubernetes asked for, IPv6 pod CIDRs on dual-stack nodes', () => {
    const versions = readFileSync(new URL('../../scripts/cluster/versions.sh', import.meta.url), 'utf8');
    const pinned = (name: string) => new RegExp(`^${name}=\\$\\{[A-Z_]+:-v([\\d.]+)\\}$`, 'm').exec(versions)?.[1];
    const want = {
      containerd: `containerd://${pinned('CONTAINERD_VERSION')}`,
      crio: `cri-o://${pinned('CRIO_VERSION')}`,
    };
    const nodes = new Map(kubectlJson<{ items: any[] }>(['get', 'nodes']).items.map((n) => [n.metadata.name, n]));
    assert.ok(clusterNodes().length >= 1);
    for (const n of clusterNodes()) {
      const node = nodes.get(n.name);
      assert.ok(node, `node ${n.name} is not registered`);
      assert.equal(node.status.nodeInfo.kubeletVersion, K8S_VERSION, n.name);
      const runtime = node.status.nodeInfo.containerRuntimeVersion as string;
      if (n.runtime === 'containerd1') assert.match(runtime, /^containerd:\/\/1\./, n.name);
      else assert.equal(runtime, want[n.runtime], n.name);
      assert.deepEqual(node.spec.podCIDRs, n.dualStack ? [n.podCIDR, n.podCIDR6] : [n.podCIDR], n.name);
    }
  });

  test('a web pod runs, gets a pod-CIDR address and answers HTTP from the root namespace', async () => {
    const pod = await runPod(ns, 'web', IMAGES.web, { labels: { app: 'web' } });
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

  test('kube-proxy translates a Service IP to its pod; its rules on node 1 stay within the test subnets', async () => {
    assert.ok(webIP, 'the web pod test runs first');
    kubectl(['create', 'service', 'clusterip', 'web', '-n', ns, '--tcp=80:8080']);
    const svcIP = kubectlJson(['get', 'service', 'web', '-n', ns]).spec.clusterIP as string;
    assert.ok(ipInCidr(svcIP, SERVICE_CIDR), `${svcIP} not in ${SERVICE_CIDR}`);
    await runPod(ns, 'client', IMAGES.debug, { command: ['sleep', '300'] });
    const body = await waitFor(
      'an answer through the Service IP',
      async () => {
        // busybox nc (Debian's busybox wget crashes): one HTTP/1.0 request through the Service IP.
        const r = kubectlRun([
          'exec',
          '-n',
          ns,
          'client',
          '--',
          'sh',
          '-c',
          `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${svcIP} 80`,
        ]);
        return r.code === 0 ? r.stdout : undefined;
      },
      30_000,
    );
    assert.match(body, /hello from kubectl-netns\.local\/web/);

    // What kube-proxy installed in this machine's namespace (node 1), table by table.
    const rules = ['nat', 'filter', 'mangle'].flatMap((table) =>
      execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.startsWith('-A '))
        .map((l) => ({ table, chain: l.split(' ')[1]!, rule: l })),
    );
    const kube = rules.filter((r) => r.chain.startsWith('KUBE-') || / -j KUBE-/.test(r.rule));
    assert.ok(
      kube.some((r) => r.rule.includes(`-j DNAT --to-destination ${webIP}:8080`)),
      'no DNAT rule to the web pod',
    );
    const testNets = [NODE_SUBNET, CLUSTER_CIDR, SERVICE_CIDR];
    for (const r of kube) {
      for (const m of r.rule.matchAll(/ -[sd] (\S+)/g)) {
        const addr = m[1]!.replace(/\/\d+$/, '');
        assert.ok(
          testNets.some((c) => ipInCidr(addr, c)),
          `${r.table}: a kube-proxy rule names ${m[1]}, outside the test subnets: ${r.rule}`,
        );
      }
      if (/ -j (MASQUERADE|SNAT)\b/.test(r.rule))
        assert.equal(r.chain, 'KUBE-POSTROUTING', `masquerade outside KUBE-POSTROUTING: ${r.rule}`);
    }
    // Its masquerade applies only to packets it marked itself (Service traffic from outside the
    // cluster CIDR, hairpin): the chain returns first for everything else.
    const post = kube.filter((r) => r.chain === 'KUBE-POSTROUTING');
    assert.match(post[0]?.rule ?? '', /-m mark ! --mark (0x[0-9a-f]+)\/\1 -j RETURN/);
    // No sysctl of this machine changed: localhost NodePorts stay off.
    assert.equal(readFileSync('/proc/sys/net/ipv4/conf/all/route_localnet', 'utf8').trim(), '0');
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
