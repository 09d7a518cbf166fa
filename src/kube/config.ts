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
  /** kubectl's overrides: another cluster or user entry of the kubeconfig, or values of their own. */
  cluster?: string | undefined;
  user?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
  certificateAuthority?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
  /** Impersonation (--as, --as-group). */
  as?: string | undefined;
  asGroups?: readonly string[] | undefined;
}

export interface ResolvedConfig {
  kc: KubeConfig;
  contextName: string;
  /** Every context the kubeconfig files define (for completion of --context). */
  contexts: string[];
  /** -n, else the context's namespace, else "default" (kubectl's order). */
  namespace: string;
  server: string;
  files: string[];
}

/** The cluster, user and namespace one run talks to, after kubectl's override flags. */
export interface Selection {
  contextName: string;
  cluster: Cluster;
  user: User;
  namespace: string;
}

const FLAG_ENTRY = 'kubectl-netns-flags';

/** Which kubeconfig files kubectl would read, in precedence order. */
export function kubeconfigFiles(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
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
export async function resolveConfig(
  flags: ConfigFlags,
  env: NodeJS.ProcessEnv = process.env,
  KubeConfigClass?: typeof KubeConfig,
): Promise<ResolvedConfig> {
  // Completion passes the class from a lighter module (kubeconfig-lite.ts); commands load the client.
  const KubeConfig = KubeConfigClass ?? (await loadClientNode()).KubeConfig;
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
  if (loaded.length === 0 && !flags.server) {
    throw new UserError(`no kubeconfig found (looked at ${candidates.join(', ')})`, {
      exitCode: ExitCode.config,
      hint: 'set KUBECONFIG or pass --kubeconfig (or --server and --token); `kubectl config view` shows what kubectl uses',
    });
  }
  if ((flags.asGroups?.length ?? 0) > 1) {
    throw new UserError('only one --as-group is supported', {
      exitCode: ExitCode.usage,
      hint: 'the Kubernetes client library sends one Impersonate-Group header per request',
    });
  }
  const merged = mergeFirstWins(loaded);
  const sel = selectEntries(merged, flags);
  const kc = newKubeConfig(KubeConfig, flags.asGroups?.[0]);
  kc.loadFromOptions({
    clusters: [sel.cluster],
    users: [sel.user],
    contexts: [{ name: sel.contextName, cluster: sel.cluster.name, user: sel.user.name, namespace: sel.namespace }],
    currentContext: sel.contextName,
  });
  return {
    kc,
    contextName: sel.contextName,
    contexts: merged.contexts.map((c) => c.name),
    namespace: sel.namespace,
    server: sel.cluster.server,
    files,
  };
}

/**
 * Picks the context, cluster and user the way kubectl does with its override flags: --context
 * picks the context; --cluster and --user pick other entries; --server, --token,
 * --certificate-authority, --insecure-skip-tls-verify and --as change the chosen ones (and
 * --server with --token works with no kubeconfig at all). Pure.
 */
export function selectEntries(merged: ReturnType<typeof mergeFirstWins>, flags: ConfigFlags): Selection {
  const contextName = flags.context ?? merged.currentContext;
  const context = contextName ? merged.contexts.find((c) => c.name === contextName) : undefined;
  if (flags.context && !context) {
    const known = merged.contexts.map((c) => c.name).join(', ') || 'none';
    throw new UserError(`context "${flags.context}" does not exist in the kubeconfig`, {
      exitCode: ExitCode.config,
      hint: `known contexts: ${known}`,
    });
  }
  if (!context && !flags.server) {
    if (!contextName) {
      throw new UserError('no current context is set in the kubeconfig', {
        exitCode: ExitCode.config,
        hint: 'pass --context NAME or run `kubectl config use-context NAME`',
      });
    }
    const known = merged.contexts.map((c) => c.name).join(', ') || 'none';
    throw new UserError(`context "${contextName}" does not exist in the kubeconfig`, {
      exitCode: ExitCode.config,
      hint: `known contexts: ${known}`,
    });
  }
  const clusterName = flags.cluster ?? context?.cluster;
  const found = clusterName ? merged.clusters.find((c) => c.name === clusterName) : undefined;
  if (clusterName && !found && !flags.server) {
    throw new UserError(
      flags.cluster
        ? `cluster "${flags.cluster}" does not exist in the kubeconfig`
        : `context "${contextName}" refers to cluster "${clusterName}", which is not in the kubeconfig`,
      { exitCode: ExitCode.config, hint: 'fix the kubeconfig (kubectl config get-clusters lists the clusters)' },
    );
  }
  const userName = flags.user ?? context?.user;
  const foundUser = userName ? merged.users.find((u) => u.name === userName) : undefined;
  if (flags.user && !foundUser) {
    throw new UserError(`user "${flags.user}" does not exist in the kubeconfig`, {
      exitCode: ExitCode.config,
      hint: 'kubectl config view lists the users',
    });
  }
  if (flags.insecureSkipTlsVerify && flags.certificateAuthority) {
    throw new UserError('--certificate-authority and --insecure-skip-tls-verify contradict each other', {
      exitCode: ExitCode.usage,
      hint: 'keep --certificate-authority: it is what makes TLS worth having',
    });
  }
  if (flags.certificateAuthority && !existsSync(flags.certificateAuthority)) {
    throw new UserError(`certificate authority file ${flags.certificateAuthority} does not exist`, {
      exitCode: ExitCode.config,
    });
  }
  let cluster: Cluster = found ? { ...found } : { name: FLAG_ENTRY, server: flags.server ?? '', skipTLSVerify: false };
  if (flags.server) cluster = { ...cluster, server: flags.server };
  if (flags.certificateAuthority) cluster = { ...cluster, caFile: flags.certificateAuthority, caData: undefined };
  if (flags.insecureSkipTlsVerify) cluster = { ...cluster, skipTLSVerify: true, caFile: undefined, caData: undefined };
  let user: User = foundUser ? { ...foundUser } : { name: FLAG_ENTRY };
  // A token given on the command line is the credential: no exec plugin or auth provider overrides it.
  if (flags.token)
    user = {
      name: user.name,
      certData: user.certData,
      certFile: user.certFile,
      keyData: user.keyData,
      keyFile: user.keyFile,
      token: flags.token,
    };
  if (flags.as) user = { ...user, impersonateUser: flags.as };
  return {
    contextName: context?.name ?? FLAG_ENTRY,
    cluster,
    user,
    namespace: flags.namespace ?? context?.namespace ?? 'default',
  };
}

/**
 * A KubeConfig that also sends Impersonate-Group (client-node sends Impersonate-User only), on
 * API requests and on the exec websocket alike.
 */
function newKubeConfig(Base: typeof KubeConfig, group: string | undefined): KubeConfig {
  if (!group) return new Base();
  class Impersonating extends Base {
    override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
      await super.applyToHTTPSOptions(opts);
      opts.headers = { ...opts.headers, 'Impersonate-Group': group };
    }
    override async applySecurityAuthentication(
      context: Parameters<KubeConfig['applySecurityAuthentication']>[0],
    ): Promise<void> {
      await super.applySecurityAuthentication(context);
      context.setHeaderParam('Impersonate-Group', group!);
    }
  }
  return new Impersonating();
}
