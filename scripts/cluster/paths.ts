// Where the local cluster lives, for the TypeScript that uses it (the demo, benchmarks, e2e tests).
// The version is read from versions.sh, the one place it is pinned.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

function pinnedVersion(): string {
  const text = readFileSync(join(here, 'versions.sh'), 'utf8');
  const m = /KNETNS_K8S_VERSION:-(v\d+\.\d+\.\d+)/.exec(text);
  if (!m?.[1]) throw new Error('cannot find the Kubernetes version in scripts/cluster/versions.sh');
  return process.env.KNETNS_K8S_VERSION ?? m[1];
}

export const K8S_VERSION = pinnedVersion();
export const STATE_DIR = '/var/lib/kubectl-netns-cluster';
export const KUBECONFIG = join(STATE_DIR, 'kubeconfig');
/** The API server's audit log: one JSON event per exec, attach and port-forward request (see up.sh). */
export const AUDIT_LOG = join(STATE_DIR, 'logs', 'kube-apiserver-audit.log');
export const CACHE_DIR = process.env.KNETNS_CACHE_DIR ?? '/var/cache/kubectl-netns';
/** The kubectl built for the cluster (same version as the API server). */
export const KUBECTL = join(CACHE_DIR, `k8s-${K8S_VERSION}`, 'kubectl');
