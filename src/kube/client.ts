// The one place that talks to the API server through @kubernetes/client-node. Everything else in
// the product sees this small interface, so the rest of the code does not depend on the library's
// calling conventions (which changed between its major versions). Every call translates its own
// failure into a UserError that names the action and, for network failures, the server.
import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
import type { CoreV1Event, V1Lease, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import { isWatchIdleTimeout, translateApiError, type ApiAction } from './api-errors.ts';
import { loadClientNode } from './client-node.ts';
import type { ResolvedConfig } from './config.ts';

export type {
  CoreV1Event,
  V1Container,
  V1Lease,
  V1Namespace,
  V1Node,
  V1Pod,
  V1PodSpec,
  V1Status,
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
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export interface WatchHandle {
  stop(): void;
}

export interface KubeClient {
  /** The API server's URL, for messages. */
  readonly server: string;
  readPod(namespace: string, name: string): Promise<V1Pod>;
  listPods(namespace: string | undefined, opts?: { labelSelector?: string; fieldSelector?: string }): Promise<V1Pod[]>;
  /** The label selector of a workload, as `k=v,k2=v2`. */
  workloadSelector(kind: WorkloadKind, namespace: string, name: string): Promise<string>;
  createPod(namespace: string, pod: V1Pod): Promise<V1Pod>;
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
  /**
   * Opens an exec websocket. `onFrame` receives every frame (channel byte + payload); client-node's
   * own stream handling is bypassed because it applies no backpressure and ends process.stdout.
   * Failures are left untranslated: the exec stream knows what a refused upgrade means.
   */
  openExec(path: string, onFrame: (channel: number, payload: Buffer) => void): Promise<ExecSocket>;
}

/** Builds the real client for a resolved kubeconfig. */
export async function createKubeClient(cfg: ResolvedConfig): Promise<KubeClient> {
  const { AppsV1Api, BatchV1Api, CoordinationV1Api, CoreV1Api, Watch } = await loadClientNode();
  // Not re-exported from the package index, but it is the documented building block of Exec/Attach.
  // We need it directly: Exec writes to the sink without backpressure and cannot be told which
  // streams a v5 close frame should end. The package has no "exports" map, so this path is stable
  // within the pinned major version.
  const { WebSocketHandler } = await import('@kubernetes/client-node/dist/web-socket-handler.js');
  const kc = cfg.kc;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  // Inert streams: client-node's handler ends these on v5 close frames, and by default they are
  // process.stdout/stderr, which it would otherwise close underneath us.
  const inert = {
    stdin: new PassThrough(),
    stdout: new PassThrough() as Writable,
    stderr: new PassThrough() as Writable,
  };
  const ws = new WebSocketHandler(kc, undefined, inert);
  const call = async <T>(action: ApiAction, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw translateApiError(err, action, cfg.server);
    }
  };

  return {
    server: cfg.server,
    readPod: (namespace, name) =>
      call({ verb: 'get', resource: 'pods', namespace, name }, () => core.readNamespacedPod({ namespace, name })),
    listPods: (namespace, opts = {}) =>
      call({ verb: 'list', resource: 'pods', namespace }, async () => {
        const list = namespace
          ? await core.listNamespacedPod({ namespace, ...opts })
          : await core.listPodForAllNamespaces({ ...opts });
        return list.items;
      }),
    workloadSelector: (kind, namespace, name) =>
      call({ verb: 'get', resource: `${kind}s`, namespace, name }, async () => {
        const obj =
          kind === 'deployment'
            ? await apps.readNamespacedDeployment({ namespace, name })
            : kind === 'statefulset'
              ? await apps.readNamespacedStatefulSet({ namespace, name })
              : kind === 'daemonset'
                ? await apps.readNamespacedDaemonSet({ namespace, name })
                : kind === 'replicaset'
                  ? await apps.readNamespacedReplicaSet({ namespace, name })
                  : await batch.readNamespacedJob({ namespace, name });
        const labels = obj.spec?.selector?.matchLabels ?? {};
        return Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
      }),
    createPod: (namespace, pod) =>
      call({ verb: 'create', resource: 'pods', namespace }, () => core.createNamespacedPod({ namespace, body: pod })),
    deletePod: (namespace, name, gracePeriodSeconds) =>
      call({ verb: 'delete', resource: 'pods', namespace, name }, async () => {
        await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds });
      }),
    readNode: (name) => call({ verb: 'get', resource: 'nodes', name }, () => core.readNode({ name })),
    readNodeLease: (node) =>
      call({ verb: 'get', resource: 'leases', namespace: 'kube-node-lease', name: node }, () =>
        coordination.readNamespacedLease({ namespace: 'kube-node-lease', name: node }),
      ),
    listNamespaces: () =>
      call({ verb: 'list', resource: 'namespaces' }, async () => (await core.listNamespace({})).items),
    listNodes: () => call({ verb: 'list', resource: 'nodes' }, async () => (await core.listNode({})).items),
    listEvents: (namespace, fieldSelector) =>
      call(
        { verb: 'list', resource: 'events', namespace },
        async () => (await core.listNamespacedEvent({ namespace, fieldSelector })).items,
      ),
    async watchPod(namespace, name, onEvent, onDone) {
      const watch = new Watch(kc);
      let stopped = false;
      const controller = await call({ verb: 'watch', resource: 'pods', namespace, name }, () =>
        watch.watch(
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
          { fieldSelector: `metadata.name=${name}` },
          (type, obj) => onEvent(type, obj as V1Pod),
          (err) => {
            if (stopped) return;
            // A watch that went quiet ends like one the server closed: the caller watches again.
            if (!err || isWatchIdleTimeout(err)) onDone(undefined);
            else onDone(translateApiError(err, { verb: 'watch', resource: 'pods', namespace, name }, cfg.server));
          },
        ),
      );
      return {
        stop() {
          stopped = true;
          controller.abort();
        },
      };
    },
    async openExec(path, onFrame) {
      const socket = await ws.connect(path, null, (channel: number, payload: Buffer) => {
        onFrame(channel, payload);
        return true;
      });
      return socket;
    },
  };
}
