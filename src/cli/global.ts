// Flags every command shares (kubectl's own global flags are not forwarded to plugins, so we
// implement --kubeconfig, --context and -n ourselves) and the per-run context built from them.
import type { Argv } from 'yargs';
import { RightsCheck } from '../kube/access.ts';
import { createKubeClient, DEFAULT_TIMEOUTS } from '../kube/client.ts';
import { resolveConfig, type ResolvedConfig } from '../kube/config.ts';
import { DEFAULT_IMAGE } from '../kube/debug-pod.ts';
import { assertImage } from '../kube/image-ref.ts';
import { debug } from '../log.ts';
import { userDefaults } from './defaults.ts';
import type { DebugPodContext } from '../kube/with-debug-pod.ts';
import { parseDuration, parseTimeout } from './parse.ts';
import { shutdownSignal, trackLeftover } from '../signals.ts';

export interface GlobalArgs {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  cluster?: string | undefined;
  user?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
  'certificate-authority'?: string | undefined;
  'insecure-skip-tls-verify'?: boolean | undefined;
  as?: string | undefined;
  'as-group'?: string[] | undefined;
  image?: string | undefined;
  'debug-namespace'?: string | undefined;
  privileged: boolean;
  'pod-timeout': string;
  'request-timeout': string;
  verbose?: boolean | undefined;
  quiet?: boolean | undefined;
}

/** The defaults of the shared flags that every run needs: the parser's, and the extcap's. */
export const GLOBAL_DEFAULTS = { privileged: false, 'pod-timeout': '60s', 'request-timeout': '30s' } as const;

const GLOBAL_GROUP = 'Global options:';
const KUBECTL_GROUP = "kubectl options (as in kubectl; plugins do not receive kubectl's own):";

/** Registers the shared flags on the root parser. */
export function addGlobalOptions<T>(y: Argv<T>): Argv<T & GlobalArgs> {
  return y
    .option('namespace', {
      alias: 'n',
      type: 'string',
      describe: "Namespace of the target (default: the context's namespace)",
      group: GLOBAL_GROUP,
    })
    .option('debug-namespace', {
      type: 'string',
      describe:
        "Namespace for the debug pod, e.g. kubectl-netns-debug (default: $KUBECTL_NETNS_DEBUG_NAMESPACE, debugNamespace in the config file, else the target's namespace)",
      group: GLOBAL_GROUP,
    })
    .option('image', {
      type: 'string',
      describe: `Debug image with sh, tcpdump, nsenter (util-linux), ip and ss (default: $KUBECTL_NETNS_IMAGE, image in the config file, else ${DEFAULT_IMAGE.replace(/@sha256:.*/, '')} pinned by digest)`,
      group: GLOBAL_GROUP,
    })
    .option('privileged', {
      type: 'boolean',
      default: GLOBAL_DEFAULTS.privileged,
      describe:
        'Run the debug pod privileged instead of with only SYS_ADMIN, SYS_PTRACE, NET_ADMIN, NET_RAW and SETGID',
      group: GLOBAL_GROUP,
    })
    .option('pod-timeout', {
      type: 'string',
      default: GLOBAL_DEFAULTS['pod-timeout'],
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
    .option('kubeconfig', {
      type: 'string',
      describe: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)',
      group: KUBECTL_GROUP,
    })
    .option('context', { type: 'string', describe: 'The kubeconfig context to use', group: KUBECTL_GROUP })
    .option('cluster', { type: 'string', describe: 'The kubeconfig cluster to use', group: KUBECTL_GROUP })
    .option('user', { type: 'string', describe: 'The kubeconfig user to use', group: KUBECTL_GROUP })
    .option('server', { type: 'string', describe: 'The address of the API server', group: KUBECTL_GROUP })
    .option('token', { type: 'string', describe: 'Bearer token for the API server', group: KUBECTL_GROUP })
    .option('certificate-authority', {
      type: 'string',
      describe: "Path to a cert file for the API server's certificate authority",
      group: KUBECTL_GROUP,
    })
    .option('insecure-skip-tls-verify', {
      type: 'boolean',
      describe: "Do not check the API server's certificate (insecure)",
      group: KUBECTL_GROUP,
    })
    .option('as', { type: 'string', describe: 'User to impersonate', group: KUBECTL_GROUP })
    .option('as-group', { type: 'string', array: true, describe: 'Group to impersonate', group: KUBECTL_GROUP })
    .option('request-timeout', {
      type: 'string',
      default: GLOBAL_DEFAULTS['request-timeout'],
      describe: "How long to wait for one API request, e.g. 10s, 2m; 0 waits forever (kubectl's default)",
      group: KUBECTL_GROUP,
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
  const defaults = userDefaults();
  const image = args.image ?? defaults.image;
  // Before any API call: a bad reference would only fail later, as the pod's ErrImagePull.
  assertImage(image, args.image !== undefined ? '--image' : defaults.sources.image);
  const cfg = await resolveConfig({
    kubeconfig: args.kubeconfig,
    context: args.context,
    namespace: args.namespace,
    cluster: args.cluster,
    user: args.user,
    server: args.server,
    token: args.token,
    certificateAuthority: args['certificate-authority'],
    insecureSkipTlsVerify: args['insecure-skip-tls-verify'],
    as: args.as,
    asGroups: args['as-group'],
  });
  const debugNamespace = args['debug-namespace'] ?? defaults.debugNamespace;
  debug(
    `debug image ${image} (${args.image ? '--image' : defaults.sources.image}); debug pods in ${debugNamespace ?? "the target's namespace"}`,
  );
  const client = await createKubeClient(cfg, { requestMs, cleanupMs: Math.min(requestMs, DEFAULT_TIMEOUTS.cleanupMs) });
  return {
    cfg,
    client,
    rights: new RightsCheck(client),
    image,
    debugNamespace,
    privileged: args.privileged,
    podTimeoutMs,
    signal: shutdownSignal,
    track: trackLeftover,
  };
}
