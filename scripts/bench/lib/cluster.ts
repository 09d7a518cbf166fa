// The benchmark's own objects on the local cluster (scripts/cluster/up.sh): one namespace, the web
// pod(s) that serve the traffic, and the privileged hostPID pod the manual recipe execs into. All
// pinned to the first node, whose pods sit on the host's own bridge, so the host reaches them
// directly. Everything is deleted at the end (the namespace goes, and with it every pod).
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { KUBECONFIG, KUBECTL, STATE_DIR } from '../../cluster/paths.ts';

const run = promisify(execFile);

export const NODE_NAME = 'knetns-node';
export const DEBUG_IMAGE = 'kubectl-netns.local/debug:dev';
export const WEB_IMAGE = 'kubectl-netns.local/web:dev';
/** The file traffic runs download: random bytes, like TLS traffic (compression gains nothing from it). */
export const PAYLOAD_PATH = '/www/payload.bin';
/** Text that compresses like plain HTTP/JSON APIs do, for the compression runs. */
export const TEXT_PAYLOAD_PATH = '/www/payload.json';
export const PAYLOAD_MIB = 64;

export { KUBECONFIG, KUBECTL };

/** Runs the cluster's kubectl; resolves with stdout, rejects with its stderr. */
export async function kubectl(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<string> {
  if (opts.input !== undefined) {
    const r = spawnSync(KUBECTL, ['--kubeconfig', opts.kubeconfig ?? KUBECONFIG, ...args], {
      input: opts.input,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  try {
    const { stdout } = await run(KUBECTL, ['--kubeconfig', opts.kubeconfig ?? KUBECONFIG, ...args], {
      maxBuffer: 64 << 20,
      timeout: 180_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Why the cluster cannot be used, or undefined when it can. */
export async function clusterProblem(): Promise<string | undefined> {
  if (!existsSync(KUBECTL)) return `no kubectl at ${KUBECTL} (npm run cluster:up builds it)`;
  if (!existsSync(KUBECONFIG)) return `no kubeconfig at ${KUBECONFIG} (npm run cluster:up)`;
  try {
    const ready = await kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    if (ready.trim() !== 'True') return `node ${NODE_NAME} is not Ready`;
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

export interface BenchPod {
  name: string;
  ip: string;
  uid: string;
  containerId: string;
  /** Its container's PID on the node (the first node's PID namespace is the host's). */
  pid: number;
}

function podManifest(
  ns: string,
  name: string,
  image: string,
  spec: Record<string, unknown> = {},
  container: Record<string, unknown> = {},
  labels: Record<string, string> = {},
): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/part-of': 'kubectl-netns-bench', ...labels } },
    spec: {
      nodeName: NODE_NAME,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...spec,
      containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', ...container }],
    },
  });
}

/** The bench namespace and what lives in it. */
export class BenchCluster {
  readonly ns = `knetns-bench-${randomBytes(3).toString('hex')}`;
  readonly kubeconfig = KUBECONFIG;

  async create(): Promise<void> {
    await kubectl(['create', 'namespace', this.ns]);
    await kubectl(['label', 'namespace', this.ns, 'app.kubernetes.io/part-of=kubectl-netns-bench']);
    for (let i = 0; i < 120; i++) {
      if (await kubectl(['get', 'serviceaccount', 'default', '-n', this.ns]).then(() => true, () => false)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`no default service account in ${this.ns}`);
  }

  /** Creates web pods NAMES (busybox httpd on :8080) and waits until they all run. */
  async webPods(names: string[], labels: Record<string, string> = { app: 'bench-web' }): Promise<BenchPod[]> {
    const docs = names.map((n) => podManifest(this.ns, n, WEB_IMAGE, {}, {}, labels)).join('\n');
    await kubectl(['create', '-f', '-'], { input: docs });
    await kubectl(['wait', '-n', this.ns, '--for=condition=Ready', '--timeout=180s', ...names.map((n) => `pod/${n}`)]);
    return Promise.all(names.map((n) => this.describe(n)));
  }

  /** Writes the payloads into a web pod (its writable layer): MIB of random bytes, and as much JSON text. */
  async payload(pod: string, mib = PAYLOAD_MIB, text = false): Promise<void> {
    const lines = Math.round((mib * 1048576) / 70);
    const json = `awk 'BEGIN { for (i = 0; i < ${lines}; i++) printf "{\\"id\\":%d,\\"user\\":\\"user%d\\",\\"ts\\":%d,\\"status\\":\\"ok\\",\\"items\\":[%d,%d]}\\n", i, i * 7, 1700000000 + i, i % 97, i % 13 }' > ${TEXT_PAYLOAD_PATH}`;
    const script = `head -c ${mib * 1048576} /dev/urandom > ${PAYLOAD_PATH}${text ? ` && ${json}` : ''}`;
    await kubectl(['exec', '-n', this.ns, pod, '--', 'sh', '-c', script]);
  }

  /** The privileged hostPID pod the manual recipe and the ceilings exec into. */
  async manualPod(name: string): Promise<void> {
    const container = { command: ['sleep', '7200'], securityContext: { privileged: true } };
    await kubectl(['create', '-f', '-'], { input: podManifest(this.ns, name, DEBUG_IMAGE, { hostPID: true }, container) });
    await kubectl(['wait', '-n', this.ns, '--for=condition=Ready', '--timeout=120s', `pod/${name}`]);
  }

  /** The node PID of POD's container, found from MANUAL the way a user's script does (its cgroup). */
  async pidOf(manual: string, pod: BenchPod): Promise<number> {
    const out = await kubectl([
      'exec', '-n', this.ns, manual, '--', 'sh', '-c',
      `grep -l ${pod.containerId} /proc/[0-9]*/cgroup 2>/dev/null | head -1 | cut -d/ -f3`,
    ]);
    const pid = Number(out.trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no process of ${pod.name} found (${out.trim()})`);
    return pid;
  }

  async describe(name: string): Promise<BenchPod> {
    const pod = JSON.parse(await kubectl(['get', 'pod', '-n', this.ns, name, '-o', 'json'])) as {
      metadata: { uid: string };
      status: { podIP: string; containerStatuses: Array<{ containerID: string }> };
    };
    const containerId = pod.status.containerStatuses[0]!.containerID.replace(/^.*:\/\//, '');
    return { name, ip: pod.status.podIP, uid: pod.metadata.uid, containerId, pid: hostPidOf(containerId) };
  }

  async destroy(): Promise<void> {
    await kubectl(['delete', 'namespace', this.ns, '--wait=false', '--ignore-not-found']).catch(() => {});
  }
}

/** The lowest host PID whose cgroup names CONTAINER_ID (pods of the first node run in the host's PID namespace). */
function hostPidOf(containerId: string): number {
  let best: number | undefined;
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || (best !== undefined && pid >= best)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(containerId)) best = pid;
    } catch {
      // exited meanwhile
    }
  }
  if (best === undefined) throw new Error(`no process of container ${containerId.slice(0, 12)} on this host`);
  return best;
}

/**
 * Packets and bytes through the pod's eth0, both directions, as its own namespace counts them
 * (/proc/PID/net/dev): the same packets tcpdump sees there. The host end of the veth would count
 * GRO aggregates instead.
 */
export function podCounters(pid: number): { packets: number; bytes: number } {
  const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith('eth0:'));
  if (!line) throw new Error(`no eth0 in the network namespace of ${pid}`);
  const f = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number);
  // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets ...
  return { packets: f[1]! + f[9]!, bytes: f[0]! + f[8]! };
}

/**
 * Limits what the pod sends to MBIT (tbf on its eth0, set from the host), or lifts the limit. The
 * limit is the offered rate: curl's own --limit-rate overshoots by 1.6-1.8x on this machine.
 */
export function setRate(pid: number, mbit: number | undefined): void {
  const tc = (args: string[]) => spawnSync('nsenter', ['-t', String(pid), '-n', '--', 'tc', ...args], { encoding: 'utf8' });
  if (mbit === undefined) {
    tc(['qdisc', 'del', 'dev', 'eth0', 'root']);
    return;
  }
  const r = tc(['qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '256kb', 'latency', '20ms']);
  if (r.status !== 0) throw new Error(`tc in pod ${pid}: ${r.stderr}`);
}

/** PIDs of the control-plane components up.sh started, from its pid files. */
export function componentPids(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of ['kube-apiserver', 'kubelet', 'containerd']) {
    try {
      out[c] = Number(readFileSync(`${STATE_DIR}/pids/${c}.pid`, 'utf8').trim());
    } catch {
      // not running
    }
  }
  return out;
}
