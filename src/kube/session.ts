// One debug pod's life: set up (create + wait), run (execs), clean up (delete + wait briefly).
// close() is idempotent and is called from `finally` on every exit path; the signal wiring calls
// it too, and the pod's activeDeadlineSeconds plus its label cover a client that was SIGKILLed.
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { holdArgv } from '../node/agent.ts';
import { debug, warn } from '../log.ts';
import { isNotFound } from './api-errors.ts';
import type { KubeClient, V1Pod } from './client.ts';
import { buildDebugPod, CONTAINER_NAME, type DebugPodOptions } from './debug-pod.ts';
import { execInPod, type ExecRequest, type ExecResult } from './exec-stream.ts';
import { waitForRunning } from './wait.ts';

export interface SessionOptions extends Omit<DebugPodOptions, 'sessionId' | 'suffix' | 'podTimeoutSeconds'> {
  podTimeoutMs: number;
  signal?: AbortSignal | undefined;
  onProgress?: (detail: string) => void;
  /** Told about the pod as soon as it exists, so an interrupted start still cleans it up. */
  onCreated?: (session: DebugSession) => void;
}

/** A random id for labels and pod names; lowercase so it fits a pod name. */
function randomId(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** How often the hold is tried while the container is starting, for the first 3 s; then every second. */
const HOLD_RETRY_MS = 100;
const HOLD_RETRY_SLOW_MS = 1000;

export class DebugSession {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly podName: string;
  readonly sessionId: string;
  private closing: Promise<void> | undefined;
  /** The hold's stdin: ending it tells the pod its client is done (see MAIN_SCRIPT). */
  private holdInput: PassThrough | undefined;
  /** Whether a hold ever ran in the pod, i.e. its container was seen running. */
  private everHeld = false;

  private constructor(client: KubeClient, namespace: string, podName: string, sessionId: string) {
    this.client = client;
    this.namespace = namespace;
    this.podName = podName;
    this.sessionId = sessionId;
  }

  /**
   * Creates the debug pod and waits until it runs: until the watch says so, or until the hold's
   * exec is already running in it, whichever comes first. The kubelet runs execs as soon as the
   * runtime runs the container, but reports the pod Running only after its next relist (up to a
   * second later on this kind of node). If that fails, the pod is deleted before rethrowing.
   */
  static async open(client: KubeClient, o: SessionOptions): Promise<DebugSession> {
    const sessionId = randomId(4);
    const pod: V1Pod = buildDebugPod({
      ...o,
      podTimeoutSeconds: Math.ceil(o.podTimeoutMs / 1000),
      sessionId,
      suffix: randomId(3),
    });
    const name = pod.metadata!.name!;
    debug(`creating debug pod ${o.namespace}/${name} on node ${o.nodeName} with image ${o.image}`);
    await client.createPod(o.namespace, pod);
    const session = new DebugSession(client, o.namespace, name, sessionId);
    o.onCreated?.(session);
    const watching = new AbortController();
    const signal = o.signal ? AbortSignal.any([o.signal, watching.signal]) : watching.signal;
    const running = waitForRunning(client, o.namespace, name, {
      timeoutMs: o.podTimeoutMs,
      signal,
      onProgress: o.onProgress,
    }).then(() => 'the watch' as const);
    const held = session.hold().then(() => 'its hold' as const);
    try {
      const first = await Promise.race([running, held]);
      debug(`debug pod ${o.namespace}/${name} is running (first seen by ${first})`);
    } catch (err) {
      // The reason it did not start is what the user needs; a failed delete is only worth a note.
      await session
        .close()
        .catch((e: unknown) =>
          warn(
            `could not delete debug pod ${o.namespace}/${name}: ${e instanceof Error ? e.message : String(e)}; run kubectl netns cleanup`,
          ),
        );
      throw err;
    } finally {
      watching.abort();
      running.catch(() => {});
    }
    return session;
  }

  /**
   * Holds the pod for as long as this process and its connection live: the agent's `hold` op
   * reads this exec's stdin, and ends the pod when it closes for whatever reason. Until the
   * container runs the exec is refused; it is tried again (every 100 ms, slower after a few
   * seconds, e.g. while the node pulls the image) until it runs or the session closes. Resolves
   * once the hold runs (its "held" line), and never rejects.
   */
  private hold(): Promise<void> {
    return new Promise<void>((resolve) => {
      const attempt = (n: number): void => {
        if (this.closed) return;
        const input = new PassThrough();
        this.holdInput = input;
        let held = false;
        const stdout = new Writable({
          write: (_c, _e, cb) => {
            if (!held) {
              held = true;
              this.everHeld = true;
              resolve();
            }
            cb();
          },
        });
        const discard = new Writable({ write: (_c, _e, cb) => cb() });
        this.exec(holdArgv(), { stdin: input, stdout, stderr: discard }).then(
          (r) => debug(`hold on ${this.namespace}/${this.podName} ended with ${r.exitCode}`),
          (err: unknown) => {
            if (held || this.closed) {
              debug(`hold on ${this.namespace}/${this.podName} ended: ${String(err)}`);
              return;
            }
            // Not running yet (the kubelet answers "container not found"), or a passing failure.
            if (n === 0 || n % 10 === 0) debug(`hold on ${this.namespace}/${this.podName} not yet: ${String(err)}`);
            setTimeout(() => attempt(n + 1), n < 30 ? HOLD_RETRY_MS : HOLD_RETRY_SLOW_MS).unref();
          },
        );
      };
      attempt(0);
    });
  }

  /** Runs argv in the debug container (no shell in between unless argv starts one). */
  exec(command: string[], io: Omit<ExecRequest, 'namespace' | 'pod' | 'container' | 'command'>): Promise<ExecResult> {
    return execInPod(this.client, {
      ...io,
      namespace: this.namespace,
      pod: this.podName,
      container: CONTAINER_NAME,
      command,
    });
  }

  /**
   * Lets the pod end, deletes it and waits up to `waitMs` for it to be gone. Safe to call twice. A
   * pod whose container never ran for us goes at once (grace 0): graceful deletion waits for its
   * kubelet, and one that never took the pod up (stopped, unreachable) would keep it for good.
   */
  close(waitMs = 15_000): Promise<void> {
    this.closing ??= this.deleteAndWait(waitMs);
    return this.closing;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  private async deleteAndWait(waitMs: number): Promise<void> {
    debug(`deleting debug pod ${this.namespace}/${this.podName}`);
    // The main process ends as soon as the hold's stdin closes; the delete then finds it done.
    this.holdInput?.end();
    try {
      await this.client.deletePod(this.namespace, this.podName, this.everHeld ? undefined : 0);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      try {
        await this.client.readPod(this.namespace, this.podName);
      } catch (err) {
        if (isNotFound(err)) return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    debug(
      `debug pod ${this.namespace}/${this.podName} still terminating after ${waitMs}ms; the kubelet will finish removing it`,
    );
  }
}
