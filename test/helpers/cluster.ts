// What e2e tests need to use the local cluster that scripts/cluster/up.sh runs: where it is, a health
// check that skips locally and fails in CI, and small kubectl-based helpers.
//
// The tests drive the cluster with the kubectl built for it (same version as the API server), not
// with the code under test, so a failure here points at the cluster, not at the plugin.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CACHE_DIR, K8S_VERSION, KUBECONFIG, KUBECTL, STATE_DIR } from '../../scripts/cluster/paths.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../src/kube/debug-pod.ts';

export { CACHE_DIR, K8S_VERSION, KUBECONFIG, KUBECTL, STATE_DIR };
export const CONTAINERD_SOCK = '/run/kubectl-netns/containerd/containerd.sock';
/**
 * Node 1: this machine's root namespaces. Tests that look at a pod from here (its /proc entries,
 * its veth on knetns0) need it there, so runPod puts pods on node 1 unless told otherwise.
 */
export const NODE_NAME = 'knetns-node';
export const NODE_IP = '10.213.0.1';
export const POD_CIDR = '10.214.0.0/24';
export const BRIDGE = 'knetns0';
/** Node 2 (cluster:up -- --nodes 2): its own network, mount and PID namespaces. */
export const NODE2 = { name: 'knetns-node2', ip: '10.213.0.2', podCIDR: '10.214.1.0/24' } as const;

/** One node of the local cluster as up.sh describes it in nodes.json (scripts/cluster/up.sh). */
export interface ClusterNode {
  name: string;
  number: number;
  /** runtime-cni[-dual], e.g. crio-bridge-dual. */
  flavour: string;
  runtime: 'containerd' | 'containerd1' | 'crio';
  cni: 'bridge' | 'ptp';
  dualStack: boolean;
  ip: string;
  ip6: string | null;
  podCIDR: string;
  podCIDR6: string | null;
  /** The pod bridge, null on a routed (ptp) node. */
  bridge: string | null;
  /** The pods' IPv4 gateway: the bridge's address, or the link-local one on every host veth. */
  gateway: string;
  runtimeSocket: string;
  /** PID 1 of an extra node's PID namespace (null for node 1, the machine's own namespaces). */
  initPid: number | null;
}

/**
 * The nodes up.sh made, node 1 first (empty when the cluster never ran). KNETNS_E2E_NODES=a,b keeps
 * only those (to rerun one flavour's tests; CI never sets it).
 */
export function clusterNodes(): ClusterNode[] {
  let nodes: ClusterNode[];
  try {
    nodes = (JSON.parse(readFileSync(join(STATE_DIR, 'nodes.json'), 'utf8')) as { nodes: ClusterNode[] }).nodes;
  } catch {
    return [];
  }
  const only = process.env.KNETNS_E2E_NODES?.split(',').filter(Boolean);
  return only?.length ? nodes.filter((n) => only.includes(n.name)) : nodes;
}

/** The scheme kubelet puts in front of a container id on NODE (containerd://, cri-o://). */
export function runtimeScheme(node: ClusterNode): string {
  return node.runtime === 'crio' ? 'cri-o' : 'containerd';
}

/** argv running ARGV on NODE, in its network and mount namespaces (node 1: here, unchanged). */
export function onNode(node: ClusterNode, argv: string[]): string[] {
  return node.initPid ? ['nsenter', '-t', String(node.initPid), '-n', '-m', '--', ...argv] : argv;
}

/** A path as NODE sees it, reachable from here (an extra node's mounts live in its mount namespace). */
export function nodePath(node: ClusterNode, path: string): string {
  return node.initPid ? `/proc/${node.initPid}/root${path}` : path;
}
export const IMAGES = {
  debug: 'kubectl-netns.local/debug:dev',
  web: 'kubectl-netns.local/web:dev',
  pause: 'kubectl-netns.local/pause:dev',
} as const;

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlOptions {
  input?: string;
  timeoutMs?: number;
  kubeconfig?: string;
}

/**
 * Run the cluster's kubectl (admin kubeconfig unless opts.kubeconfig) and return its exit code and
 * output; never throws for a non-zero exit. Synchronous: tests call it between awaits.
 */
export function kubectlRun(args: string[], opts: KubectlOptions = {}): KubectlResult {
  const r = spawnSync(KUBECTL, ['--kubeconfig', opts.kubeconfig ?? KUBECONFIG, ...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, KUBECONFIG: undefined },
  });
  if (r.error) {
    const why = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? 'timed out' : r.error.message;
    return { stdout: r.stdout ?? '', stderr: `kubectl ${args.join(' ')}: ${why}\n${r.stderr ?? ''}`, code: 124 };
  }
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 128 };
}

/** Run kubectl and return its stdout; throws with kubectl's stderr when it fails. */
export function kubectl(args: string[], inputOrOpts?: string | KubectlOptions): string {
  const opts = typeof inputOrOpts === 'string' ? { input: inputOrOpts } : (inputOrOpts ?? {});
  const r = kubectlRun(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** kubectl ... -o json, parsed. */
export function kubectlJson<T = any>(args: string[], opts: KubectlOptions = {}): T {
  return JSON.parse(kubectl([...args, '-o', 'json'], opts)) as T;
}

/** A DNS-1123 name unique enough for parallel test runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

function clusterProblem(): string | undefined {
  if (!existsSync(KUBECTL)) return `kubectl ${K8S_VERSION} not built at ${KUBECTL}`;
  if (!existsSync(KUBECONFIG)) return `no kubeconfig at ${KUBECONFIG}`;
  if (clusterNodes().length === 0) return `no ${join(STATE_DIR, 'nodes.json')} (made by older scripts)`;
  const ready = kubectlRun(['get', '--raw', '/readyz', '--request-timeout=5s'], { timeoutMs: 10_000 });
  if (ready.code !== 0 || ready.stdout.trim() !== 'ok')
    return `API server not ready: ${ready.stderr.trim() || ready.stdout.trim()}`;
  const node = kubectlRun(
    ['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'],
    { timeoutMs: 10_000 },
  );
  if (node.stdout.trim() !== 'True') return `node ${NODE_NAME} is not Ready`;
  return undefined;
}

/**
 * Check the local cluster is up and healthy. Returns undefined when it is, else a skip reason to
 * pass as node:test's `skip` option. In CI (CI=true) an unhealthy cluster throws instead: CI must
 * never pass by skipping the e2e tests.
 */
export function ensureCluster(): string | undefined {
  const problem = clusterProblem();
  if (!problem) return undefined;
  const reason = `local cluster not available (${problem}); start it with: sudo npm run cluster:up`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

/** The names of the cluster's Ready nodes, sorted as the plugin's searches list them. */
export function readyNodes(): string[] {
  const nodes = kubectlJson<{ items: any[] }>(['get', 'nodes']).items;
  return nodes
    .filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata.name as string)
    .sort();
}

/**
 * ensureCluster for tests that need at least COUNT Ready nodes (npm run cluster:up -- --nodes
 * COUNT). npm test brings up two nodes, so in CI fewer is a failure, not a skip.
 */
export function ensureNodes(count: number): string | undefined {
  const problem = clusterProblem();
  let reason: string | undefined;
  if (problem) reason = `local cluster not available (${problem})`;
  else {
    const ready = readyNodes();
    if (ready.length < count)
      reason = `needs ${count} Ready nodes, the local cluster has ${ready.length} (${ready.join(', ')})`;
  }
  if (!reason) return undefined;
  reason += `; start it with: sudo npm run cluster:up -- --nodes ${count}`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CLUSTER_SCRIPTS = fileURLToPath(new URL('../../scripts/cluster/', import.meta.url));

/**
 * Stops the kubelet of extra node NODE (knetns-nodeN) the way a crash would: SIGTERM from here,
 * its containerd and pods keep running, and nothing restarts it (restoreCluster does).
 */
export async function stopKubelet(node: string): Promise<void> {
  const pid = Number(readFileSync(join(STATE_DIR, 'pids', node, 'kubelet.pid'), 'utf8').trim());
  assertKubelet(pid);
  process.kill(pid, 'SIGTERM');
  await waitFor(
    `node ${node}'s kubelet (pid ${pid}) to exit`,
    async () => {
      try {
        // A zombie (PID 1 of this machine reaps late) has exited too.
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) ? true : undefined;
      } catch {
        return true;
      }
    },
    30_000,
  );
}

function assertKubelet(pid: number): void {
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!cmd.split('\0')[0]!.endsWith('/kubelet')) throw new Error(`pid ${pid} is not a kubelet: ${cmd}`);
}

/**
 * Kills the local cluster's kube-apiserver with SIGKILL, as a crash or a failover does (SIGTERM is a
 * graceful stop: open exec streams would keep flowing until they end). Nothing restarts it until
 * restartApiserver or restoreCluster runs up.sh. Returns its pid once it is gone.
 */
export async function killApiserver(): Promise<number> {
  const pid = Number(readFileSync(join(STATE_DIR, 'pids', 'kube-apiserver.pid'), 'utf8').trim());
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!cmd.split('\0')[0]!.endsWith('/kube-apiserver')) throw new Error(`pid ${pid} is not a kube-apiserver: ${cmd}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(`kube-apiserver (pid ${pid}) to die`, async () => (processGone(pid) ? true : undefined), 30_000, 100);
  return pid;
}

/** Whether PID has exited (a zombie that PID 1 of this machine reaps late has exited too). */
function processGone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Whether the API server answers /readyz (through the cluster's own kubectl). */
export function apiserverReady(): boolean {
  return kubectlRun(['get', '--raw', '/readyz', '--request-timeout=3s']).stdout.trim() === 'ok';
}

/**
 * Starts the API server again the way the cluster starts it (up.sh, which restarts whatever is
 * down with its own flags) without blocking the event loop; resolves when up.sh is done.
 */
export function restartApiserver(): Promise<void> {
  const count = readFileSync(join(STATE_DIR, 'node-count'), 'utf8').trim();
  const child = spawn('bash', [join(CLUSTER_SCRIPTS, 'up.sh'), '--nodes', count], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`up.sh --nodes ${count} failed (${code ?? signal}): ${err.slice(-2000)}`));
    });
  });
}

/** Brings the cluster back to what up.sh last made (a stopped kubelet restarts); waits until every node is Ready. */
export function restoreCluster(): void {
  clusterWithNodes(Number(readFileSync(join(STATE_DIR, 'node-count'), 'utf8').trim()));
}

/** up.sh --nodes COUNT: exactly COUNT nodes (extra ones removed, missing ones made), all Ready. */
export function clusterWithNodes(count: number): void {
  const r = spawnSync('bash', [join(CLUSTER_SCRIPTS, 'up.sh'), '--nodes', String(count)], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 240_000,
  });
  if (r.status !== 0) throw new Error(`up.sh --nodes ${count} failed (${r.status ?? r.signal}): ${r.stderr}`);
}

/** Poll fn until it returns a value other than undefined, or throw after timeoutMs. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Create a namespace (with labels) and wait until its default service account exists. */
export async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'kubectl-netns-e2e', ...labels } },
  };
  kubectl(['create', '-f', '-'], JSON.stringify(manifest));
  await waitFor(`the default service account in ${name}`, async () =>
    kubectlRun(['get', 'serviceaccount', 'default', '-n', name]).code === 0 ? true : undefined,
  );
}

/** Delete a namespace; by default do not wait for its pods to go. */
export async function deleteNamespace(name: string, opts: { wait?: boolean } = {}): Promise<void> {
  kubectl(['delete', 'namespace', name, '--ignore-not-found', `--wait=${opts.wait ?? false}`], { timeoutMs: 180_000 });
}

export interface RunPodOptions {
  /** The node it runs on (spec.nodeName; default node 1, NODE_NAME). */
  nodeName?: string;
  command?: string[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  privileged?: boolean;
  labels?: Record<string, string>;
  /** Meet PodSecurity "restricted": non-root, no capabilities, RuntimeDefault seccomp. */
  restricted?: boolean;
  /** Mount a service account token (default false: faster, and nothing needs it). */
  serviceAccountToken?: boolean;
  timeoutMs?: number;
}

// Waiting reasons that will not fix themselves: fail at once with the kubelet's message.
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerError',
  'CreateContainerConfigError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

/** Create a pod and wait until it is Running; returns the pod object. */
export async function runPod(namespace: string, name: string, image: string, opts: RunPodOptions = {}): Promise<any> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'kubectl-netns-e2e', ...opts.labels } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: opts.serviceAccountToken ?? false,
      nodeName: opts.nodeName ?? NODE_NAME,
      hostNetwork: opts.hostNetwork ?? false,
      hostPID: opts.hostPID ?? false,
      containers: [
        {
          name: 'main',
          image,
          imagePullPolicy: 'IfNotPresent',
          ...(opts.command ? { command: opts.command } : {}),
          ...(opts.privileged ? { securityContext: { privileged: true } } : {}),
          ...(opts.restricted
            ? {
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 65534,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
              }
            : {}),
        },
      ],
    },
  };
  kubectl(['create', '-f', '-'], JSON.stringify(pod));
  return waitFor(
    `pod ${namespace}/${name} Running`,
    async () => {
      const p = kubectlJson(['get', 'pod', name, '-n', namespace]);
      if (p.status?.phase === 'Running') return p;
      if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded')
        throw new Error(`pod ${namespace}/${name} ended: ${p.status.phase}`);
      for (const cs of p.status?.containerStatuses ?? []) {
        const w = cs.state?.waiting;
        if (w && FATAL_WAITING.has(w.reason))
          throw new Error(`pod ${namespace}/${name}: ${w.reason}: ${w.message ?? ''}`);
      }
      return undefined;
    },
    opts.timeoutMs ?? 90_000,
  );
}

/** The label selector of every debug pod kubectl-netns makes, as the plugin labels them. */
const DEBUG_POD_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

/** Every kubectl-netns debug pod in NAMESPACE, with the node it is bound to and its phase. */
export function debugPodStates(namespace: string): Array<{ name: string; node: string; phase: string }> {
  const pods = kubectlJson<{ items: any[] }>(['get', 'pods', '-n', namespace, '-l', DEBUG_POD_SELECTOR]);
  return pods.items.map((p) => ({
    name: p.metadata.name as string,
    node: (p.spec.nodeName ?? '') as string,
    phase: (p.status?.phase ?? '') as string,
  }));
}

/** kubectl-netns debug pods in `namespace` (every namespace when undefined), as "namespace/name". */
export function debugPods(namespace?: string): string[] {
  const where = namespace ? ['-n', namespace] : ['-A'];
  const out = kubectl([
    'get',
    'pods',
    ...where,
    '-l',
    DEBUG_POD_SELECTOR,
    '-o',
    'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}',
  ]);
  return out.split(' ').filter(Boolean);
}

/** One HTTP GET to a test pod (our own host on the cluster bridge), body discarded. */
export function httpGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** N UDP datagrams of SIZE bytes to a test pod (nothing listens; the packets are what we want to see). */
export async function sendUdp(ip: string, n: number, size = 16, port = 9999): Promise<void> {
  const sock = createSocket('udp4');
  for (let i = 0; i < n; i++) {
    const payload = Buffer.alloc(size, `datagram ${i} `);
    await new Promise<void>((resolve, reject) => sock.send(payload, port, ip, (e) => (e ? reject(e) : resolve())));
  }
  sock.close();
}

/** A kubeconfig (written into DIR) that authenticates as service account NS/NAME with a fresh token. */
export function serviceAccountKubeconfig(ns: string, name: string, dir: string): string {
  const token = kubectl(['create', 'token', name, '-n', ns, '--duration=1h']).trim();
  const server = kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']).trim();
  const ca = kubectl([
    'config',
    'view',
    '--minify',
    '--raw',
    '-o',
    'jsonpath={.clusters[0].cluster.certificate-authority-data}',
  ]).trim();
  const file = join(dir, `${ns}-${name}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': name,
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': ca } }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name, context: { cluster: 'c', user: 'u', namespace: ns } }],
    }),
    { mode: 0o600 },
  );
  return file;
}

/** Records every debug pod ADDED in NAMESPACE while it runs: proof that a command created none. */
export function watchDebugPodsCreated(namespace: string): { stop(): Promise<string[]> } {
  const child = spawn(
    KUBECTL,
    [
      '--kubeconfig',
      KUBECONFIG,
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      DEBUG_POD_SELECTOR,
      '--watch-only',
      '-o',
      'name',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return {
    async stop() {
      // Let the watch deliver anything still in flight before ending it.
      await new Promise((r) => setTimeout(r, 1000));
      child.kill();
      return out.split('\n').filter(Boolean);
    },
  };
}
