// Our Wireshark interfaces: one per kubeconfig context, so Wireshark lists each cluster by name
// and remembers the options (namespace, pod, ...) per cluster. The interface name is what users
// type after `tshark -i` and in `-o extcap.<name>.<option>:VALUE`: it is made of [a-z0-9_] only,
// because Wireshark turns every other character into "_" (and lowercases) for the preference name,
// and a name that differs from its preference name would be a trap. Pure.
import { createHash } from 'node:crypto';
import type { KubeContexts } from '../kube/kubeconfig-contexts.ts';

export const IFACE_PREFIX = 'kubectl_netns_';
/** The one interface shown when the kubeconfig cannot be read: starting it says why. */
export const NO_CONTEXT_IFACE = 'kubectl_netns';

export interface WiresharkInterface {
  /** The name (Wireshark's "value"). */
  name: string;
  /** What Wireshark shows in its interface list. */
  display: string;
  /** The kubeconfig context; undefined for NO_CONTEXT_IFACE. */
  context: string | undefined;
  /** The context's namespace (or "default"), the dialog's first choice. */
  namespace: string;
}

/** NAME as [a-z0-9_]. */
function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'context'
  );
}

/**
 * One interface per context, in kubeconfig order. Two contexts whose names differ only in
 * punctuation or case would get the same name: those get a short hash of their real name.
 */
export function contextInterfaces(kube: KubeContexts): WiresharkInterface[] {
  if (kube.contexts.length === 0) {
    return [
      {
        name: NO_CONTEXT_IFACE,
        display: `Kubernetes pods (kubectl-netns): ${kube.problem ?? 'no kubeconfig context'}`,
        context: undefined,
        namespace: 'default',
      },
    ];
  }
  const counts = new Map<string, number>();
  for (const c of kube.contexts) counts.set(slug(c.name), (counts.get(slug(c.name)) ?? 0) + 1);
  return kube.contexts.map((c) => {
    const base = slug(c.name);
    const unique =
      counts.get(base) === 1 ? base : `${base}_${createHash('sha256').update(c.name).digest('hex').slice(0, 6)}`;
    const current = c.name === kube.current ? ', current context' : '';
    return {
      name: `${IFACE_PREFIX}${unique}`,
      display: `Kubernetes pods: ${c.name} (kubectl-netns${current})`,
      context: c.name,
      namespace: c.namespace ?? 'default',
    };
  });
}

/** The interface named NAME, if the kubeconfig still has its context. */
export function findInterface(kube: KubeContexts, name: string): WiresharkInterface | undefined {
  return contextInterfaces(kube).find((i) => i.name === name);
}
