// Kubeconfig, context and namespace resolution that behaves like kubectl's, which client-node
// does not do on its own: with several files in KUBECONFIG kubectl lets the FIRST file that sets a
// value win (client-node takes current-context from the last and throws on duplicate names),
// missing files in the list are skipped, and an unknown --context is an immediate error rather
// than a confusing "No cluster is defined" later.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { loadClientNode } from './client-node.ts';
import { ExitCode, UserError } from '../errors.ts';

export interface ConfigFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

export interface ResolvedConfig {
  kc: KubeConfig;
  contextName: string;
  /** -n, else the context's namespace, else "default" (kubectl's order). */
  namespace: string;
  server: string;
  files: string[];
}

/** Which kubeconfig files kubectl would read, in precedence order. */
function kubeconfigFiles(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (flag) return [flag];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter((f) => f.length > 0);
  return [join(env.HOME ?? homedir(), '.kube', 'config')];
}

/** Merges kubeconfig files with kubectl's first-wins rule. Pure given the loaded configs. */
function mergeFirstWins(configs: KubeConfig[]): {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
} {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const kc of configs) {
    for (const c of kc.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!currentContext && kc.currentContext) currentContext = kc.currentContext;
  }
  return {
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  };
}

/** Loads the kubeconfig the way kubectl does and validates the chosen context up front. */
export async function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  const { KubeConfig } = await loadClientNode();
  const candidates = kubeconfigFiles(flags.kubeconfig, env);
  if (flags.kubeconfig && !existsSync(flags.kubeconfig)) {
    throw new UserError(`kubeconfig file ${flags.kubeconfig} does not exist`, {
      exitCode: ExitCode.config,
      hint: 'pass an existing file with --kubeconfig, or drop the flag to use $KUBECONFIG or ~/.kube/config',
    });
  }
  const files = candidates.filter((f) => existsSync(f));
  const loaded: KubeConfig[] = [];
  for (const file of files) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new UserError(`cannot read kubeconfig ${file}: ${(err as Error).message.split('\n')[0]}`, {
        exitCode: ExitCode.config,
        hint: 'check the file is valid YAML (kubectl config view --kubeconfig FILE)',
        cause: err,
      });
    }
    loaded.push(kc);
  }
  // In-cluster use (the plugin run from inside a pod) has no file but a service account.
  if (loaded.length === 0 && env.KUBERNETES_SERVICE_HOST) {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    loaded.push(kc);
  }
  if (loaded.length === 0) {
    throw new UserError(`no kubeconfig found (looked at ${candidates.join(', ')})`, {
      exitCode: ExitCode.config,
      hint: 'set KUBECONFIG or pass --kubeconfig; `kubectl config view` shows what kubectl uses',
    });
  }
  const merged = mergeFirstWins(loaded);
  const contextName = flags.context ?? merged.currentContext;
  if (!contextName) {
    throw new UserError('no current context is set in the kubeconfig', {
      exitCode: ExitCode.config,
      hint: 'pass --context NAME or run `kubectl config use-context NAME`',
    });
  }
  const context = merged.contexts.find((c) => c.name === contextName);
  if (!context) {
    const known = merged.contexts.map((c) => c.name).join(', ') || 'none';
    throw new UserError(`context "${contextName}" does not exist in the kubeconfig`, {
      exitCode: ExitCode.config,
      hint: `known contexts: ${known}`,
    });
  }
  const cluster = merged.clusters.find((c) => c.name === context.cluster);
  if (!cluster) {
    throw new UserError(
      `context "${contextName}" refers to cluster "${context.cluster}", which is not in the kubeconfig`,
      {
        exitCode: ExitCode.config,
        hint: 'fix the kubeconfig (kubectl config get-clusters lists the clusters)',
      },
    );
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({ ...merged, currentContext: contextName });
  return {
    kc,
    contextName,
    namespace: flags.namespace ?? context.namespace ?? 'default',
    server: cluster.server,
    files,
  };
}
