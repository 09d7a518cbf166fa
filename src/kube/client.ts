// The one place that talks to the API server through @kubernetes/client-node. Everything else in
// the product sees this small interface, so the rest of the code does not depend on the library's
// calling conventions (which changed between its major versions).
import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
import {
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  VersionApi,
  Watch,
} from '@kubernetes/client-node';
// Not re-exported from the package index, but it is the documented building block of Exec/Attach.
// We need it directly: Exec writes to the sink without backpressure and cannot be told which
// streams a v5 close frame should end. The package has no "exports" map, so this path is stable
// within the pinned major version.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import type { CoreV1Event, KubeConfig, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';

export type { CoreV1Event, V1Container, V1Namespace, V1Node, V1Pod, V1PodSpec, V1Status } from '@kubernetes/client-node';

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
  readonly kc: KubeConfig;
  readPod(namespace: string, name: string): Promise<V1Pod>;
  listPods(namespace: string | undefined, opts?: { labelSelector?: string; fieldSelector?: string }): Promise<V1Pod[]>;
  /** The label selector of a workload, as `k=v,k2=v2`. */
  workloadSelector(kind: WorkloadKind, namespace: string, name: string): Promise<string>;
  createPod(namespace: string, pod: V1Pod): Promise<V1Pod>;
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void>;
  readNamespace(name: string): Promise<V1Namespace>;
  readNode(name: string): Promise<V1Node>;
  listNamespaces(): Promise<V1Namespace[]>;
  listNodes(): Promise<V1Node[]>;
  listEvents(namespace: string, fieldSelector: string): Promise<CoreV1Event[]>;
  /** Watches one pod; `onEvent` gets every ADDED/MODIFIED/DELETED object. */
  watchPod(namespace: string, name: string, onEvent: (type: string, pod: V1Pod) => void, onDone: (err?: unknown) => void): Promise<WatchHandle>;
  /** Can the current user do `verb` on `resource` (with optional subresource) in `namespace`? */
  canI(verb: string, resource: string, namespace: string, subresource?: string): Promise<boolean>;
  serverVersion(): Promise<string>;
  /**
   * Opens an exec websocket. `onFrame` receives every frame (channel byte + payload); client-node's
   * own stream handling is bypassed because it applies no backpressure and ends process.stdout.
   */
  openExec(path: string, onFrame: (channel: number, payload: Buffer) => void): Promise<ExecSocket>;
}

/** Builds the real client for a resolved kubeconfig. */
export function createKubeClient(kc: KubeConfig): KubeClient {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const version = kc.makeApiClient(VersionApi);
  // Inert streams: client-node's handler ends these on v5 close frames, and by default they are
  // process.stdout/stderr, which it would otherwise close underneath us.
  const inert = { stdin: new PassThrough(), stdout: new PassThrough() as Writable, stderr: new PassThrough() as Writable };
  const ws = new WebSocketHandler(kc, undefined, inert);

  return {
    kc,
    readPod: (namespace, name) => core.readNamespacedPod({ namespace, name }),
    async listPods(namespace, opts = {}) {
      const list = namespace
        ? await core.listNamespacedPod({ namespace, ...opts })
        : await core.listPodForAllNamespaces({ ...opts });
      return list.items;
    },
    async workloadSelector(kind, namespace, name) {
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
    },
    createPod: (namespace, pod) => core.createNamespacedPod({ namespace, body: pod }),
    async deletePod(namespace, name, gracePeriodSeconds) {
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds });
    },
    readNamespace: (name) => core.readNamespace({ name }),
    readNode: (name) => core.readNode({ name }),
    async listNamespaces() {
      return (await core.listNamespace({})).items;
    },
    async listNodes() {
      return (await core.listNode({})).items;
    },
    async listEvents(namespace, fieldSelector) {
      return (await core.listNamespacedEvent({ namespace, fieldSelector })).items;
    },
    async watchPod(namespace, name, onEvent, onDone) {
      const watch = new Watch(kc);
      let stopped = false;
      const controller = await watch.watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        { fieldSelector: `metadata.name=${name}` },
        (type, obj) => onEvent(type, obj as V1Pod),
        (err) => {
          if (!stopped) onDone(err ?? undefined);
        },
      );
      return {
        stop() {
          stopped = true;
          controller.abort();
        },
      };
    },
    async canI(verb, resource, namespace, subresource) {
      const review = await authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb, resource, namespace, subresource } } },
      });
      return review.status?.allowed === true;
    },
    async serverVersion() {
      return (await version.getCode()).gitVersion;
    },
    async openExec(path, onFrame) {
      const socket = await ws.connect(path, null, (channel: number, payload: Buffer) => {
        onFrame(channel, payload);
        return true;
      });
      return socket as unknown as ExecSocket;
    },
  };
}
