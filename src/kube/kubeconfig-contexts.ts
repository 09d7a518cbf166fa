// The contexts a kubeconfig defines, read without the Kubernetes client library: listing them must
// cost no more than reading a YAML file (Wireshark asks for them every time it starts), and
// importing @kubernetes/client-node alone takes most of a second. Files are merged the way kubectl
// merges them (see config.ts): the first file that names a context, or sets current-context, wins.
import { existsSync, readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { kubeconfigFiles } from './config.ts';

export interface KubeContext {
  name: string;
  /** The context's namespace, else undefined (kubectl then uses "default"). */
  namespace: string | undefined;
  cluster: string | undefined;
}

export interface KubeContexts {
  /** The files that exist, in precedence order. */
  files: string[];
  contexts: KubeContext[];
  current: string | undefined;
  /** Why nothing could be read (no file, invalid YAML), in a user's words; undefined when all went well. */
  problem: string | undefined;
}

/** A string field of an untyped YAML object, or undefined. */
function str(o: unknown, key: string): string | undefined {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The contexts of parsed kubeconfig documents, merged first-wins. Pure. */
export function mergeContexts(docs: readonly unknown[]): { contexts: KubeContext[]; current: string | undefined } {
  const byName = new Map<string, KubeContext>();
  let current: string | undefined;
  for (const doc of docs) {
    current ??= str(doc, 'current-context');
    const list = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).contexts : undefined;
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const name = str(entry, 'name');
      if (!name || byName.has(name)) continue;
      const ctx = (entry as Record<string, unknown>).context;
      byName.set(name, { name, namespace: str(ctx, 'namespace'), cluster: str(ctx, 'cluster') });
    }
  }
  return { contexts: [...byName.values()], current };
}

/** Reads the contexts of the kubeconfig kubectl would use (KUBEFILE, else $KUBECONFIG, else ~/.kube/config). */
export function readKubeContexts(kubeconfig?: string, env: NodeJS.ProcessEnv = process.env): KubeContexts {
  const candidates = kubeconfigFiles(kubeconfig, env);
  const files = candidates.filter((f) => existsSync(f));
  if (files.length === 0) {
    return { files, contexts: [], current: undefined, problem: `no kubeconfig at ${candidates.join(', ')}` };
  }
  const docs: unknown[] = [];
  for (const file of files) {
    try {
      docs.push(load(readFileSync(file, 'utf8')));
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      return { files, contexts: [], current: undefined, problem: `cannot read ${file}: ${why}` };
    }
  }
  const merged = mergeContexts(docs);
  const problem = merged.contexts.length === 0 ? `no context in ${files.join(', ')}` : undefined;
  return { files, ...merged, problem };
}
