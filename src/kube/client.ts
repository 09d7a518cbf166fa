// The one place that talks to the API server through @kubernetes/client-node. Everything else in
// the product sees this small interface, so the rest of the code does not depend on the library's
// calling conventions (which changed between its major versions). Every call translates its own
// failure into a UserError that names the action and, for network failures, the server.
import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
import type {
  ConfigurationOptions,
  CoreV1Event,
  V1EndpointSlice,
  V1Lease,
  V1Namespace,
  V1Node,
  V1Pod,
  V1PodSpec,
  V1Service,
} from '@kubernetes/client-node';
import { isWatchIdleTimeout, translateApiError, type ApiAction } from './api-errors.ts';
import { loadClientNode } from './client-node.ts';
import type { ResolvedConfig } from './config.ts';

export type {
  CoreV1Event,
  V1Container,
  V1EndpointSlice,
  V1Lease,
  V1Namespace,
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1Pod,
  V1PodSpec,
  V1Service,
  V1Status,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node';

/** Workload kinds a target may name; each resolves to a label selector. */
export type WorkloadKind = 'deployment' | 'statefulset' | 'daemonset' | 'replicaset' | 'job';

/** The raw websocket client-node hands back: just what the exec stream uses. */
export interface ExecSocket {
  readonly protocol: string;
  readonly bufferedAmount: number;
  send(data: Buffer): void;
  pause(): void;
  resume(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'pong', listener: () => void): this;
}

/** One RBAC right: a verb on a resource (and subresource) in a namespace, or cluster-wide. */
export interface ResourceRight {
  verb: string;
  resource: string;
  subresource?: string | undefined;
  group?: string | undefined;
  /** Undefined: cluster-wide (every namespace, or a cluster-scoped resource). */
  namespace?: string | undefined;
}

export interface WatchHandle {
  stop(): void;
}

export interface KubeClient {
  /** The API server's URL, for messages. */
  readonly server: string;
  readPod(namespace: string, name: string): Promise<V1Pod>;
  listPods(namespace: string | undefined, opts?: { labelSelector?: string; fieldSelector?: string }): Promise<V1Pod[]>;
  /** A workload's label selector, as `k=v,k2=v2`, and its pods' template spec (where they may run). */
  readWorkload(
    kind: WorkloadKind,
    namespace: string,
    name: string,
  ): Promise<{ selector: string; podSpec: V1PodSpec | undefined }>;
  createPod(namespace: string, pod: V1Pod): Promise<V1Pod>;
  readService(namespace: string, name: string): Promise<V1Service>;
  /** The EndpointSlices of a Service (label kubernetes.io/service-name). */
  listEndpointSlices(namespace: string, service: string): Promise<V1EndpointSlice[]>;
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void>;
  readNode(name: string): Promise<V1Node>;
  /** The node's kubelet heartbeat, kube-node-lease/NODE (needs get on leases there). */
  readNodeLease(node: string): Promise<V1Lease>;
  listNamespaces(): Promise<V1Namespace[]>;
  listNodes(): Promise<V1Node[]>;
  listEvents(namespace: string, fieldSelector: string): Promise<CoreV1Event[]>;
  /** Watches one pod; `onEvent` gets every ADDED/MODIFIED/DELETED object. */
  watchPod(
    namespace: string,
    name: string,
    onEvent: (type: string, pod: V1Pod) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
  /** Watches the pods matching a selector in a namespace (every namespace when undefined). */
  watchPods(
    namespace: string | undefined,
    opts: { labelSelector?: string; fieldSelector?: string },
    onEvent: (type: string, pod: V1Pod) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
  /** Does the API let us do this? SelfSubjectAccessReview; rejects when the review itself fails. */
  canI(attrs: ResourceRight): Promise<boolean>;
  /** Who the API server says we are (SelfSubjectReview), for labelling what we start; undefined if it will not say. */
  whoAmI?(): Promise<string | undefined>;
  /**
   * Opens an exec websocket. `onFrame` receives every frame (channel byte + payload); client-node's
   * own stream handling is bypassed because it applies no backpressure and ends process.stdout.
   * Failures are left untranslated: the exec stream knows what a refused upgrade means.
   */
  openExec(path: string, onFrame: (channel: number, payload: Buffer) => void): Promise<ExecSocket>;
}

/** How long one request may take before it counts as lost; cleanup steps get the shorter CLEANUP one. */
export interface RequestTimeouts {
  requestMs: number;
  cleanupMs: number;
}

/** kubectl waits forever by default; a CLI that can hang forever on a half-open connection is worse. */
export const DEFAULT_TIMEOUTS: RequestTimeouts = { requestMs: 30_000, cleanupMs: 15_000 };

/** Builds the real client for a resolved kubeconfig. */
export async function createKubeClient(
  cfg: ResolvedConfig,
  timeouts: RequestTimeouts = DEFAULT_TIMEOUTS,
): Promise<KubeClient> {
  const {
    AppsV1Api,
    AuthenticationV1Api,
    AuthorizationV1Api,
    BatchV1Api,
    CoordinationV1Api,
    CoreV1Api,
    DiscoveryV1Api,
    Observable,
    Watch,
  } = await loadClientNode();
  // Not re-exported from the package index, but it is the documented building block of Exec/Attach.
  // We need it directly: Exec writes to the sink without backpressure and cannot be told which
  // streams a v5 close frame should end. The package has no "exports" map, so this path is stable
  // within the pinned major version.
  const { WebSocketHandler } = await import('@kubernetes/client-node/dist/web-socket-handler.js');
  const kc = cfg.kc;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  // Inert streams: client-node's handler ends these on v5 close frames, and by default they are
  // process.stdout/stderr, which it would otherwise close underneath us.
  const inert = {
    stdin: new PassThrough(),
    stdout: new PassThrough() as Writable,
    stderr: new PassThrough() as Writable,
  };
  const ws = new WebSocketHandler(kc, undefined, inert);
  // Per-call options that abort the request after MS (client-node passes the signal to fetch).
  const within = (ms: number): ConfigurationOptions | undefined =>
    Number.isFinite(ms)
      ? {
          middlewareMergeStrategy: 'append',
          middleware: [
            {
              pre: (ctx) => {
                ctx.setSignal(AbortSignal.timeout(ms));
                return new Observable(Promise.resolve(ctx));
              },
              post: (ctx) => new Observable(Promise.resolve(ctx)),
            },
          ],
        }
      : undefined;
  const call = async <T>(
    action: ApiAction,
    fn: (options: ConfigurationOptions | undefined) => Promise<T>,
    ms = timeouts.requestMs,
  ): Promise<T> => {
    try {
      return await fn(within(ms));
    } catch (err) {
      throw translateApiError(err, { ...action, timeoutMs: ms }, cfg.server);
    }
  };

  const watchPods: KubeClient['watchPods'] = async (namespace, opts, onEvent, onDone) => {
    const watch = new Watch(kc);
    let stopped = false;
    const action: ApiAction = { verb: 'watch', resource: 'pods', namespace };
    const path = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods` : '/api/v1/pods';
    const controller = await call(action, () =>
      watch.watch(
        path,
        { ...opts },
        (type, obj) => onEvent(type, obj as V1Pod),
        (err) => {
          if (stopped) return;
          // A watch that went quiet ends like one the server closed: the caller watches again.
          if (!err || isWatchIdleTimeout(err)) onDone(undefined);
          else onDone(translateApiError(err, action, cfg.server));
        },
      ),
    );
    return {
      stop() {
        stopped = true;
        controller.abort();
      },
    };
  };

  return {
    server: cfg.server,
    readPod: (namespace, name) =>
      call({ verb: 'get', resource: 'pods', namespace, name }, (o) => core.readNamespacedPod({ namespace, name }, o)),
    listPods: (namespace, opts = {}) =>
      call({ verb: 'list', resource: 'pods', namespace }, async (o) => {
        const list = namespace
          ? await core.listNamespacedPod({ namespace, ...opts }, o)
          : await core.listPodForAllNamespaces({ ...opts }, o);
        return list.items;
      }),
    readWorkload: (kind, namespace, name) =>
      call({ verb: 'get', resource: `${kind}s`, namespace, name }, async (o) => {
        const obj =
          kind === 'deployment'
            ? await apps.readNamespacedDeployment({ namespace, name }, o)
            : kind === 'statefulset'
              ? await apps.readNamespacedStatefulSet({ namespace, name }, o)
              : kind === 'daemonset'
                ? await apps.readNamespacedDaemonSet({ namespace, name }, o)
                : kind === 'replicaset'
                  ? await apps.readNamespacedReplicaSet({ namespace, name }, o)
                  : await batch.readNamespacedJob({ namespace, name }, o);
        const labels = obj.spec?.selector?.matchLabels ?? {};
        const selector = Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        return { selector, podSpec: obj.spec?.template?.spec };
      }),
    createPod: (namespace, pod) =>
      call({ verb: 'create', resource: 'pods', namespace }, (o) =>
        core.createNamespacedPod({ namespace, body: pod }, o),
      ),
    deletePod: (namespace, name, gracePeriodSeconds) =>
      call(
        { verb: 'delete', resource: 'pods', namespace, name },
        async (o) => {
          await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds }, o);
        },
        timeouts.cleanupMs,
      ),
    readService: (namespace, name) =>
      call({ verb: 'get', resource: 'services', namespace, name }, (o) =>
        core.readNamespacedService({ namespace, name }, o),
      ),
    listEndpointSlices: (namespace, service) =>
      call(
        { verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace },
        async (o) =>
          (
            await discovery.listNamespacedEndpointSlice(
              { namespace, labelSelector: `kubernetes.io/service-name=${service}` },
              o,
            )
          ).items,
      ),
    readNode: (name) => call({ verb: 'get', resource: 'nodes', name }, (o) => core.readNode({ name }, o)),
    readNodeLease: (node) =>
      call({ verb: 'get', resource: 'leases', namespace: 'kube-node-lease', name: node }, (o) =>
        coordination.readNamespacedLease({ namespace: 'kube-node-lease', name: node }, o),
      ),
    listNamespaces: () =>
      call({ verb: 'list', resource: 'namespaces' }, async (o) => (await core.listNamespace({}, o)).items),
    listNodes: () => call({ verb: 'list', resource: 'nodes' }, async (o) => (await core.listNode({}, o)).items),
    listEvents: (namespace, fieldSelector) =>
      call(
        { verb: 'list', resource: 'events', namespace },
        async (o) => (await core.listNamespacedEvent({ namespace, fieldSelector }, o)).items,
      ),
    canI: (r) =>
      call({ verb: 'create', resource: 'selfsubjectaccessreviews' }, async (o) => {
        const review = await authz.createSelfSubjectAccessReview(
          {
            body: {
              spec: {
                resourceAttributes: {
                  verb: r.verb,
                  resource: r.resource,
                  subresource: r.subresource,
                  group: r.group,
                  namespace: r.namespace,
                },
              },
            },
          },
          o,
        );
        return review.status?.allowed === true;
      }),
    whoAmI: () =>
      call({ verb: 'create', resource: 'selfsubjectreviews' }, async (o) => {
        const review = await authn.createSelfSubjectReview(
          { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
          o,
        );
        return review.status?.userInfo?.username;
      }),
    watchPod: (namespace, name, onEvent, onDone) =>
      watchPods(namespace, { fieldSelector: `metadata.name=${name}` }, onEvent, onDone),
    watchPods,
    async openExec(path, onFrame) {
      const socket = await ws.connect(path, null, (channel: number, payload: Buffer) => {
        onFrame(channel, payload);
        return true;
      });
      return socket;
    },
  };
}
