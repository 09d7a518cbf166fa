// Flags every command shares (kubectl's own global flags are not forwarded to plugins, so we
// implement --kubeconfig, --context and -n ourselves) and the per-run context built from them.
import type { Argv } from 'yargs';
import { RightsCheck } from '../kube/access.ts';
import { createKubeClient, DEFAULT_TIMEOUTS } from '../kube/client.ts';
import { resolveConfig, type ResolvedConfig } from '../kube/config.ts';
import { DEFAULT_IMAGE } from '../kube/debug-pod.ts';
import type { DebugPodContext } from '../kube/with-debug-pod.ts';
import { parseDuration, parseTimeout } from './parse.ts';
import { shutdownSignal, trackLeftover } from './signals.ts';

export interface GlobalArgs {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  image: string;
  'debug-namespace'?: string | undefined;
  privileged: boolean;
  'pod-timeout': string;
  'request-timeout': string;
  verbose?: boolean | undefined;
  quiet?: boolean | undefined;
}

const GLOBAL_GROUP = 'Global options:';

/** Registers the shared flags on the root parser. */
export function addGlobalOptions<T>(y: Argv<T>): Argv<T & GlobalArgs> {
  return y
    .option('kubeconfig', {
      type: 'string',
      describe: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)',
      group: GLOBAL_GROUP,
    })
    .option('context', { type: 'string', describe: 'The kubeconfig context to use', group: GLOBAL_GROUP })
    .option('namespace', {
      alias: 'n',
      type: 'string',
      describe: "Namespace of the target (default: the context's namespace)",
      group: GLOBAL_GROUP,
    })
    .option('image', {
      type: 'string',
      default: DEFAULT_IMAGE,
      describe: 'Debug image; needs sh, tcpdump, nsenter (util-linux), ip and ss',
      group: GLOBAL_GROUP,
    })
    .option('request-timeout', {
      type: 'string',
      default: '30s',
      describe:
        'How long to wait for one API request before giving up, e.g. 10s, 2m; 0 waits forever (as kubectl does by default)',
      group: GLOBAL_GROUP,
    })
    .option('debug-namespace', {
      type: 'string',
      describe: "Namespace for the debug pod (default: the target's namespace)",
      group: GLOBAL_GROUP,
    })
    .option('privileged', {
      type: 'boolean',
      default: false,
      describe:
        'Run the debug pod privileged instead of with SYS_ADMIN, SYS_PTRACE, NET_ADMIN, NET_RAW and unconfined seccomp/AppArmor',
      group: GLOBAL_GROUP,
    })
    .option('pod-timeout', {
      type: 'string',
      default: '60s',
      describe: 'How long to wait for the debug pod to start',
      group: GLOBAL_GROUP,
    })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'Explain each step on stderr', group: GLOBAL_GROUP })
    .option('quiet', {
      alias: 'q',
      type: 'boolean',
      describe: 'Only errors and warnings on stderr',
      group: GLOBAL_GROUP,
    })
    .conflicts('verbose', 'quiet');
}

/** What a command needs to talk to the cluster, resolved once per run. */
export interface RunContext extends DebugPodContext {
  readonly cfg: ResolvedConfig;
  /** Where debug pods go; undefined means "the target's namespace". */
  readonly debugNamespace: string | undefined;
}

/** Resolves kubeconfig/context/namespace and builds the client. */
export async function runContext(args: GlobalArgs): Promise<RunContext> {
  const podTimeoutMs = parseDuration(args['pod-timeout'], '--pod-timeout') * 1000;
  const requestMs = parseTimeout(args['request-timeout'], '--request-timeout');
  const cfg = await resolveConfig({ kubeconfig: args.kubeconfig, context: args.context, namespace: args.namespace });
  const client = await createKubeClient(cfg, { requestMs, cleanupMs: Math.min(requestMs, DEFAULT_TIMEOUTS.cleanupMs) });
  return {
    cfg,
    client,
    rights: new RightsCheck(client),
    image: args.image,
    debugNamespace: args['debug-namespace'],
    privileged: args.privileged,
    podTimeoutMs,
    signal: shutdownSignal,
    track: trackLeftover,
  };
}
