// Where the local cluster lives, for the TypeScript that uses it (the demo, benchmarks, e2e tests).
// The Kubernetes version is the running cluster's (up.sh records it), else KNETNS_K8S_VERSION, else
// the newest one pinned in versions.sh: the kubectl that talks to it is always its own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export const STATE_DIR = '/var/lib/kubectl-netns-cluster';

/** The versions pinned in versions.sh: the default (newest) and the oldest supported. */
export function pinnedVersions(): { newest: string; oldest: string } {
  const text = readFileSync(join(here, 'versions.sh'), 'utf8');
  const newest = /^K8S_NEWEST=(v\d+\.\d+\.\d+)$/m.exec(text)?.[1];
  const oldest = /^K8S_OLDEST=(v\d+\.\d+\.\d+)$/m.exec(text)?.[1];
  if (!newest || !oldest) throw new Error('cannot find K8S_NEWEST and K8S_OLDEST in scripts/cluster/versions.sh');
  return { newest, oldest };
}

function runningVersion(): string | undefined {
  try {
    return /^v\d+\.\d+\.\d+$/.exec(readFileSync(join(STATE_DIR, 'k8s-version'), 'utf8').trim())?.[0];
  } catch {
    return undefined;
  }
}

export const K8S_VERSION = runningVersion() ?? process.env.KNETNS_K8S_VERSION ?? pinnedVersions().newest;
export const KUBECONFIG = join(STATE_DIR, 'kubeconfig');
/** The API server's audit log: one JSON event per exec, attach and port-forward request (see up.sh). */
export const AUDIT_LOG = join(STATE_DIR, 'logs', 'kube-apiserver-audit.log');
export const CACHE_DIR = process.env.KNETNS_CACHE_DIR ?? '/var/cache/kubectl-netns';
/** The kubectl built for the cluster (same version as the API server). */
export const KUBECTL = join(CACHE_DIR, `k8s-${K8S_VERSION}`, 'kubectl');
