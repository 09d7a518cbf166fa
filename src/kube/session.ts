// One debug pod's life: set up (create + wait), run (execs), clean up (delete + wait briefly).
// close() is idempotent and is called from `finally` on every exit path; the signal wiring calls
// it too, and the pod's activeDeadlineSeconds plus its label cover a client that was SIGKILLed.
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { asError } from '../errors.ts';
import { holdArgv } from '../node/agent.ts';
import { agentFailure } from '../node/agent-errors.ts';
import { installAgent } from '../node/agent-install.ts';
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

/** How often the install is tried while the container is starting, for the first 3 s; then every second. */
const INSTALL_RETRY_MS = 100;
const INSTALL_RETRY_SLOW_MS = 1000;
/** How often a hold that could not start is tried again (a second apart). */
const HOLD_RETRIES = 5;
const HOLD_RETRY_SLOW_MS = 1000;
/** After a held connection broke: how soon to hold again, doubling up to the slow pace. */
const REHOLD_FIRST_MS = 250;

export class DebugSession {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly podName: string;
  readonly sessionId: string;
  private closing: Promise<void> | undefined;
  /** The hold's stdin: ending it tells the pod its client is done (see MAIN_SCRIPT). */
  private holdInput: PassThrough | undefined;
  /** Whether an exec ever ran in the pod (the install), i.e. its container was seen running. */
  private ran = false;

  private constructor(client: KubeClient, namespace: string, podName: string, sessionId: string) {
    this.client = client;
    this.namespace = namespace;
    this.podName = podName;
    this.sessionId = sessionId;
  }

  /**
   * Creates the debug pod, waits until it runs and installs the agent in it (agent-install.ts):
   * the install is tried as soon as the pod exists and again until the container takes execs, so
   * it is done about when the watch would say Running (the kubelet runs execs as soon as the
   * runtime runs the container, but reports Running only after its next relist). Then the hold
   * starts. If any of that fails, the pod is deleted before rethrowing; the watch gives the real
   * reason a pod does not start (ErrImagePull, Unschedulable, deadline).
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
    });
    const installed = session.install();
    try {
      const runningThenInstalled = running.then(() => {
        // The watch says Running: the next install attempt goes at once, not at its next tick.
        session.retryNow?.();
        return installed;
      });
      await Promise.race([runningThenInstalled, installed]);
      debug(`debug pod ${o.namespace}/${name} is running and has the agent`);
      session.hold();
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
      installed.catch(() => {});
    }
    return session;
  }

  /**
   * Installs the agent, trying again while the container does not take execs yet (every 100 ms,
   * slower after a few seconds, e.g. while the node pulls the image) until it is in or the session
   * closes. An installer that ran and failed is final: that image cannot run the agent.
   */
  private install(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const attempt = (n: number): void => {
        this.retryNow = undefined;
        if (this.closed)
          return reject(new Error(`debug pod ${this.namespace}/${this.podName} closed before the agent was installed`));
        installAgent(this).then(
          (r) => {
            if (r.exitCode !== 0) return reject(agentFailure(r.exitCode, r.stderr.split('\n'), 'agent install'));
            this.ran = true;
            resolve();
          },
          (err: unknown) => {
            if (this.closed) return reject(asError(err));
            // Not running yet (the kubelet answers "container not found"), or a passing failure.
            if (n === 0 || n % 10 === 0)
              debug(`agent install on ${this.namespace}/${this.podName} not yet: ${String(err)}`);
            const timer = setTimeout(() => attempt(n + 1), n < 30 ? INSTALL_RETRY_MS : INSTALL_RETRY_SLOW_MS);
            timer.unref();
            this.retryNow = () => {
              clearTimeout(timer);
              attempt(n + 1);
            };
          },
        );
      };
      attempt(0);
    });
  }

  /** Set while an install attempt waits for its next try: makes that try go now. */
  private retryNow: (() => void) | undefined;

  /**
   * Holds the pod for as long as this process lives: the agent's `hold` op reads this exec's
   * stdin, and the pod's main process ends a while after the last hold ends (its reconnect
   * window), whatever the reason. The container already takes execs (the agent is installed), so
   * a hold that cannot start is tried only a few more times; the pod's main process waits
   * HOLD_ATTACH_SECONDS for it meanwhile. A hold whose connection broke is started again, and
   * again while the API server cannot be reached, until the session closes.
   */
  private hold(attempt = 0, rehold = 0): void {
    if (this.closed) return;
    const input = new PassThrough();
    this.holdInput = input;
    let held = false;
    const stdout = new Writable({
      write: (_c, _e, cb) => {
        held = true;
        cb();
      },
    });
    const discard = new Writable({ write: (_c, _e, cb) => cb() });
    this.exec(holdArgv(), { stdin: input, stdout, stderr: discard }).then(
      (r) => debug(`hold on ${this.namespace}/${this.podName} ended with ${r.exitCode}`),
      (err: unknown) => {
        debug(`hold on ${this.namespace}/${this.podName} ended: ${String(err)}`);
        if (this.closed) return;
        if (held || rehold > 0) {
          // The connection broke while held (or still does): hold again as soon as it is back.
          const wait = Math.min(HOLD_RETRY_SLOW_MS, REHOLD_FIRST_MS * 2 ** Math.min(rehold, 4));
          setTimeout(() => this.hold(HOLD_RETRIES, held ? 1 : rehold + 1), wait).unref();
        } else if (attempt < HOLD_RETRIES) setTimeout(() => this.hold(attempt + 1), HOLD_RETRY_SLOW_MS).unref();
      },
    );
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
   * `atOnce` removes a pod that ran at once too, for read-only work whose answer is in hand: the
   * main process ends on "release" by itself, and waiting for the kubelet to confirm it costs a
   * second or more of the command's run.
   */
  close(waitMs = 15_000, atOnce = false): Promise<void> {
    this.closing ??= this.deleteAndWait(waitMs, atOnce);
    return this.closing;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Resolves once the API server reports the pod Running. The session opens as soon as the agent is
   * in, up to a kubelet relist before that; what finds pods by their phase (captures, fetch and
   * stop of a detached capture) must not be told the pod exists before then.
   */
  async reportedRunning(timeoutMs: number): Promise<void> {
    await waitForRunning(this.client, this.namespace, this.podName, { timeoutMs });
  }

  /**
   * Lets go of a pod the agent has marked detached (its `detach` op): the hold ends without
   * "release", so the pod stays until its deadline, and the pod is not deleted.
   */
  leave(): void {
    if (this.closing) return;
    this.closing = Promise.resolve();
    this.holdInput?.end();
  }

  private async deleteAndWait(waitMs: number, atOnce: boolean): Promise<void> {
    debug(`deleting debug pod ${this.namespace}/${this.podName}`);
    // The hold says we are done: the pod's main process ends at once, even if the delete fails.
    this.holdInput?.end('release\n');
    try {
      await this.client.deletePod(this.namespace, this.podName, this.ran && !atOnce ? undefined : 0);
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
