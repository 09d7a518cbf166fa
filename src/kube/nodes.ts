// Node queries the node-wide commands (ls, whohas, inspect) make: which nodes are worth a debug
// pod, whether one exists, and which pods the API places on it.
import { ExitCode, UserError } from '../errors.ts';
import { isNotFound } from './api-errors.ts';
import type { KubeClient, V1Node, V1Pod } from './client.ts';

/** Is this a Linux node whose kubelet is Ready? Pure. */
export function searchable(n: V1Node): { ok: true } | { ok: false; why: string } {
  const os = n.metadata?.labels?.['kubernetes.io/os'] ?? n.status?.nodeInfo?.operatingSystem;
  if (os !== undefined && os !== 'linux') return { ok: false, why: `it runs ${os}` };
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return { ok: false, why: 'it is not Ready' };
  return { ok: true };
}

/** Every node worth searching (names sorted, and the objects), and the others with the reason they are skipped. */
export async function searchableNodes(
  client: KubeClient,
): Promise<{ names: string[]; nodes: V1Node[]; skipped: Array<{ name: string; why: string }> }> {
  const names: string[] = [];
  const nodes: V1Node[] = [];
  const skipped: Array<{ name: string; why: string }> = [];
  for (const n of await client.listNodes()) {
    const name = n.metadata?.name ?? '';
    const s = searchable(n);
    if (s.ok) {
      names.push(name);
      nodes.push(n);
    } else skipped.push({ name, why: s.why });
  }
  if (names.length === 0)
    throw new UserError('no Linux node is Ready to search', { exitCode: ExitCode.notFound, hint: 'kubectl get nodes' });
  return { names: names.sort(), nodes, skipped };
}

/** Does NODE exist? (A debug pod pinned to a missing node would wait out --pod-timeout.) */
export async function nodeExists(client: KubeClient, node: string): Promise<boolean> {
  try {
    await client.readNode(node);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The pods the API places on NODE, in every namespace. */
export function podsOnNode(client: KubeClient, node: string): Promise<V1Pod[]> {
  return client.listPods(undefined, { fieldSelector: `spec.nodeName=${node}` });
}
