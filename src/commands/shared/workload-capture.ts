// Many captures at once, with no DaemonSet: one debug pod per node serves every target on that
// node (one tcpdump each, through its own exec), all feeding one output. A target that fails (its
// pod deleted, its node unreachable) is reported and the others go on; targets can be added while
// it runs (--follow), from their pod's birth.
import type { Writable } from 'node:stream';
import { debug, info, warn } from '../../log.ts';
import type { ResolvedTarget } from '../../kube/target.ts';
import type { DebugPodSpec } from '../../kube/with-debug-pod.ts';
import type { AgentExec, PidTarget } from '../../node/agent-ops.ts';
import { ARMED_UID, type CaptureOptions, type TcpdumpStats } from '../../node/agent.ts';
import { RemoteCapture, type RemoteCaptureHooks, type RemoteCaptureOptions } from '../../node/remote-capture.ts';
import type { SpoolGap } from '../../node/spool-stream.ts';
import { LateWritable } from '../../output/late-writable.ts';
import { Slots } from './slots.ts';
import { DEBUG_POD_CONCURRENCY, type Limits } from './limits.ts';
import type { TargetProgress } from '../../output/capture-status.ts';

/** Something captured: a pod's network namespace, or a node's own (shared by its hostNetwork pods). */
export interface CaptureTarget {
  /** Unique per capture: the pod's UID, or `host/NODE`. */
  key: string;
  /** For people and for if_name: `shop/web-7d9`, or `node/n1`. */
  label: string;
  node: string;
  /** How the agent finds the namespace: the pod's processes now, or (from birth) when they appear. */
  pod: PidTarget;
  birth: boolean;
  /** The node's own network namespace (its hostNetwork pods'), not one of a pod's. */
  nodeNetwork: boolean;
  /** The pods it stands for (several for a node's own namespace). */
  pods: ResolvedTarget[];
}

/** What every capture shares: the agent's options (without the PID) and where debug pods go. */
export interface WorkloadSettings {
  /** With `spool`, each capture keeps a ring on the node (its meta names the target). */
  capture: Omit<RemoteCaptureOptions, 'pid' | 'find' | 'waitForPod'>;
  /** Disk each spooled capture may take on its node (bytes), for the debug pods' storage limits. */
  spoolDiskBytes?: number | undefined;
  /** How long a debug pod waits for this client to come back after the connection broke. */
  podReconnectSeconds?: number | undefined;
  /** What to say when a target's stream breaks and when it comes back. */
  reconnectReports?: ((label: string) => Pick<RemoteCaptureHooks, 'onReconnecting' | 'onResumed'>) | undefined;
  debugNamespace: string;
  /** Kernel buffer of each tcpdump, in MiB (the debug pods' memory limits cover them). */
  bufferMiB: number;
  /** Captures each node's debug pod must have room for. */
  capturesPerNode: (node: string) => number;
  /** How long a capture from birth waits for its pod's sandbox. */
  birthWaitSeconds: number;
  durationSeconds: number | undefined;
  /** The debug pods use the node's network (--host-side). */
  hostNetwork: boolean;
  /** --max-targets and --max-nodes, for pods --follow adds (the first targets were checked up front). */
  limits: Limits;
  /** Ended runs that keep a summary row of their own (default MAX_ENDED_KEPT); older ones add up in one row. */
  keepEnded?: number | undefined;
}

/** Where the targets' packets go (one merged pcapng, or one file per pod). */
export interface TargetOutput {
  /** A Writable for TARGET's pcap stream; IFACE names the interface captured, once known. */
  source(
    target: CaptureTarget,
    iface: () => string,
    stats: () => Partial<TcpdumpStats> | undefined,
  ): Promise<Writable & { readonly packets: number }>;
  /** TARGET's stream has ended. */
  endSource(target: CaptureTarget): Promise<void>;
  /** The node's ring lost some of TARGET's packets before they were read (marked where the output can). */
  noteGap?(target: CaptureTarget, gap: SpoolGap): void;
  totals(target: CaptureTarget): { packets: number; bytes: number } | undefined;
}

interface Run {
  target: CaptureTarget;
  /** Dropped once the capture is over (with its buffers): `final` keeps what the summary shows. */
  remote: RemoteCapture | undefined;
  final:
    { totals: { packets: number; bytes: number } | undefined; stats: Partial<TcpdumpStats> | undefined } | undefined;
  ended: boolean;
  iface: string | undefined;
  state: string;
  error: unknown;
  /** Set when its pod ended (--follow saw it): the capture's end is then expected, not a failure. */
  podEnded: string | undefined;
  done: Promise<void>;
}

/** A capture open on a node before its pod exists (see WorkloadCapture.arm). */
interface Armed {
  /** Set once the node's debug pod runs and the capture's exec starts. */
  remote: RemoteCapture | undefined;
  /** The run it serves, once aimed at a pod. */
  run: Run | undefined;
  /** Its pcap stream, forwarded to the output once it is aimed (nothing flows before). */
  out: LateWritable;
  running: Promise<void> | undefined;
  /** True once the agent waits for a UID (checks passed); false if it ended before. */
  ready: Promise<boolean>;
}

/** A node's debug pod as the captures use it: the agent's exec, and its deletion. */
export interface NodePod {
  readonly session: AgentExec;
  close(): Promise<void>;
}

/** Starts a node's debug pod (openDebugPod; a test runs the agent on this machine instead). */
export type OpenNodePod = (spec: DebugPodSpec) => Promise<NodePod>;

/** "1 pod", "2 pods". */
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Ended runs that keep a summary row of their own; older ones add up in one row. */
const MAX_ENDED_KEPT = 200;

/** The captures of one command, their debug pods, and how they end. */
export class WorkloadCapture {
  readonly #settings: WorkloadSettings;
  readonly #output: TargetOutput;
  readonly #openPod: OpenNodePod;
  readonly #pods = new Map<string, Promise<NodePod>>();
  readonly #runs = new Map<string, Run>();
  readonly #armed = new Map<string, Armed>();
  readonly #armedDone: Promise<void>[] = [];
  /** Debug pods being created at once are at most DEBUG_POD_CONCURRENCY. */
  readonly #podSlots = new Slots(DEBUG_POD_CONCURRENCY);
  /** Runs that ended longer ago than the last MAX_ENDED_KEPT, as one summary row. */
  readonly #earlier: TargetProgress = {
    label: '',
    node: '-',
    packets: 0,
    bytes: 0,
    captured: 0,
    receivedByFilter: 0,
    droppedByKernel: 0,
    state: 'ended',
  };
  #earlierCount = 0;
  /** Pods --follow saw that were not captured, over a limit. */
  #refused = 0;
  #stopping = false;

  constructor(settings: WorkloadSettings, output: TargetOutput, openPod: OpenNodePod) {
    this.#settings = settings;
    this.#output = output;
    this.#openPod = openPod;
  }

  /**
   * Starts capturing TARGET (in the background); its failure is recorded, never thrown. Returns
   * why it is not captured when that would go over a limit (--max-targets, --max-nodes, the room
   * its node's debug pod was made with), else undefined.
   */
  start(target: CaptureTarget): string | undefined {
    if (this.#stopping || this.#runs.has(target.key)) return undefined;
    const over = this.#overLimit(target.node);
    if (over) {
      this.#refused++;
      return over;
    }
    const run: Run = {
      target,
      remote: undefined,
      final: undefined,
      ended: false,
      iface: undefined,
      state: 'starting',
      error: undefined,
      podEnded: undefined,
      done: Promise.resolve(),
    };
    this.#runs.set(target.key, run);
    run.done = this.#run(run);
    return undefined;
  }

  /** Why one more capture on NODE would go over a limit, or undefined. */
  #overLimit(node: string): string | undefined {
    const { maxTargets, maxNodes } = this.#settings.limits;
    const active = [...this.#runs.values()].filter((r) => !r.ended).length;
    if (active >= maxTargets) return `already capturing ${plural(active, 'pod')}, the most --max-targets allows`;
    if (!this.#pods.has(node) && this.#pods.size >= maxNodes)
      return `already a debug pod on ${plural(this.#pods.size, 'node')}, the most --max-nodes allows`;
    const room = this.#settings.capturesPerNode(node);
    if (this.#runsOn(node) >= room)
      return `the debug pod on node ${node} was made with room for ${room} captures (its memory limit covers their buffers)`;
    return undefined;
  }

  /** Captures running (or starting) on NODE. */
  #runsOn(node: string): number {
    let n = 0;
    for (const r of this.#runs.values()) if (!r.ended && r.target.node === node) n++;
    return n;
  }

  /** Pods --follow saw but did not capture, over a limit. */
  get refused(): number {
    return this.#refused;
  }

  /** Asks every capture to finish (their last packets still arrive); starts no new ones. */
  stop(why: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    debug(`stopping every capture: ${why}`);
    for (const run of this.#runs.values()) run.remote?.stop(why);
    for (const armed of this.#armed.values()) armed.remote?.stop(why);
  }

  /** KEY's pod ended (deleted, completed): its capture ends with it, and that is no failure. */
  podEnded(key: string, why: string): void {
    const run = this.#runs.get(key);
    if (run) run.podEnded = why;
  }

  /** Whether stop() was called. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Resolves once every capture started so far has ended. */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.#runs.values()].map((r) => r.done);
      await Promise.all(pending);
      if (this.#runs.size === pending.length) return;
    }
  }

  /** Deletes every debug pod (after settled()). */
  async close(): Promise<void> {
    this.stop('done');
    // Armed captures nobody used end when stop() releases them; the pods' deletion ends any other.
    await Promise.race([Promise.all(this.#armedDone), new Promise((r) => setTimeout(r, 5000))]);
    const pods = await Promise.allSettled([...this.#pods.values()]);
    await Promise.all(pods.flatMap((p) => (p.status === 'fulfilled' ? [p.value.close()] : [])));
  }

  /** Every target so far, as the status and the summary show it (long-ended ones as one row). */
  progress(): TargetProgress[] {
    const rows = [...this.#runs.values()].map((run) => {
      const totals = run.final ? run.final.totals : this.#output.totals(run.target);
      const st = run.final ? run.final.stats : run.remote?.stats;
      return {
        label: run.target.label,
        node: run.target.node,
        packets: totals?.packets ?? 0,
        bytes: totals?.bytes ?? 0,
        captured: st?.captured,
        receivedByFilter: st?.receivedByFilter,
        droppedByKernel: st?.droppedByKernel,
        state: run.state,
      };
    });
    if (this.#earlierCount === 0) return rows;
    return [{ ...this.#earlier, label: `${this.#earlierCount} earlier pods` }, ...rows];
  }

  #gaps = 0;
  #lostPackets: number | undefined = 0;
  #lostBytes: number | undefined = 0;

  /** What the nodes' rings lost before they were read, over every target; undefined when nothing. */
  get lost(): { packets: number | undefined; bytes: number | undefined } | undefined {
    return this.#gaps === 0 ? undefined : { packets: this.#lostPackets, bytes: this.#lostBytes };
  }

  /** The targets that failed, with why. */
  failures(): Array<{ target: CaptureTarget; error: unknown }> {
    return [...this.#runs.values()]
      .filter((r) => r.error !== undefined)
      .map((r) => ({ target: r.target, error: r.error }));
  }

  /** How many targets were started. */
  get count(): number {
    return this.#runs.size + this.#earlierCount;
  }

  /**
   * A run is over: its capture and output buffers go, what the summary shows stays. Over a long
   * --follow only the last MAX_ENDED_KEPT ended runs keep a row of their own (failed ones always
   * do: they decide the exit code); the others add up in one.
   */
  #retire(run: Run): void {
    run.final = { totals: this.#output.totals(run.target), stats: run.remote?.stats };
    run.remote = undefined;
    run.ended = true;
    const ended = [...this.#runs.values()].filter((r) => r.ended && r.error === undefined);
    const keep = this.#settings.keepEnded ?? MAX_ENDED_KEPT;
    for (const old of ended.slice(0, Math.max(0, ended.length - keep))) {
      const e = this.#earlier;
      e.packets += old.final?.totals?.packets ?? 0;
      e.bytes += old.final?.totals?.bytes ?? 0;
      e.captured! += old.final?.stats?.captured ?? 0;
      e.receivedByFilter! += old.final?.stats?.receivedByFilter ?? 0;
      e.droppedByKernel! += old.final?.stats?.droppedByKernel ?? 0;
      this.#earlierCount++;
      this.#runs.delete(old.target.key);
    }
  }

  /** The node's debug pod, started on first use (at most DEBUG_POD_CONCURRENCY being created at once). */
  #podOn(node: string): Promise<NodePod> {
    let pod = this.#pods.get(node);
    if (!pod) {
      const s = this.#settings;
      pod = this.#podSlots.run(() =>
        this.#openPod({
          namespace: s.debugNamespace,
          node,
          hostNetwork: s.hostNetwork,
          durationSeconds: s.durationSeconds,
          captureBuffersMiB: Array.from({ length: s.capturesPerNode(node) }, () => s.bufferMiB),
          spoolBytes: s.spoolDiskBytes === undefined ? undefined : s.spoolDiskBytes * s.capturesPerNode(node),
          reconnectSeconds: s.podReconnectSeconds,
        }),
      );
      this.#pods.set(node, pod);
    }
    return pod;
  }

  /** A spooled capture's spool, its meta naming LABEL (what `captures` lists). */
  #spoolOf(label: string): Pick<RemoteCaptureOptions, 'spool'> {
    const spool = this.#settings.capture.spool;
    return spool ? { spool: { ...spool, meta: [...(spool.meta ?? []), `target ${label}`] } } : {};
  }

  /** What a capture reports as it goes, into whichever run it serves (an armed one: once aimed). */
  #hooks(runOf: () => Run | undefined): RemoteCaptureHooks {
    const label = () => runOf()?.target.label ?? 'an armed capture';
    return {
      onGap: (gap) => {
        const run = runOf();
        this.#lostPackets =
          gap.packets === undefined || this.#lostPackets === undefined ? undefined : this.#lostPackets + gap.packets;
        this.#lostBytes =
          gap.bytes === undefined || this.#lostBytes === undefined ? undefined : this.#lostBytes + gap.bytes;
        this.#gaps++;
        if (run) this.#output.noteGap?.(run.target, gap);
      },
      onReconnecting: (r) => this.#settings.reconnectReports?.(label()).onReconnecting?.(r),
      onResumed: (r) => this.#settings.reconnectReports?.(label()).onResumed?.(r),
      // The interface's name goes into the file with the first packet: it must be known by then.
      onInterface: (iface) => {
        const run = runOf();
        if (run) run.iface = iface;
      },
      onListening: (l) => {
        const run = runOf();
        if (!run) return;
        const t = run.target;
        run.iface = l.iface;
        run.state = 'capturing';
        info(`capturing ${t.label} on ${l.iface} (node ${t.node}, ${l.linkType})${t.birth ? ', from its birth' : ''}`);
      },
    };
  }

  /**
   * Keeps a capture open on NODE's debug pod that waits for a pod UID on its stdin (--follow): a
   * pod born there is then attached within milliseconds of the event instead of an exec's second,
   * which is often longer than its sandbox takes to start and its first container to talk.
   * Resolves true once it is ready for a pod, false if it ended (or could not start) before.
   */
  arm(node: string): Promise<boolean> {
    if (this.#stopping) return Promise.resolve(false);
    const existing = this.#armed.get(node);
    if (existing) return existing.ready;
    let setReady: (ok: boolean) => void = () => undefined;
    const ready = new Promise<boolean>((resolve) => (setReady = resolve));
    const armed: Armed = { remote: undefined, run: undefined, out: new LateWritable(), running: undefined, ready };
    this.#armed.set(node, armed);
    const running = (async () => {
      const { session } = await this.#podOn(node);
      if (this.#stopping) return;
      const remote = new RemoteCapture(
        session,
        { ...this.#settings.capture, waitForPod: { uid: ARMED_UID, seconds: this.#settings.birthWaitSeconds } },
        { ...this.#hooks(() => armed.run), onArmed: () => setReady(true) },
      );
      armed.remote = remote;
      await remote.run(armed.out, () => armed.out.packets);
    })();
    armed.running = running;
    // One chain handles its end: an aimed capture's failure is its run's (#run awaits running);
    // unaimed, it has no run to report to and is just not used. A second, unhandled chain here
    // once ended the whole command with a stack trace when an aimed capture failed.
    this.#armedDone.push(
      running
        .catch((err: unknown) => {
          if (!armed.run) debug(`armed capture on ${node} ended: ${err instanceof Error ? err.message : String(err)}`);
        })
        .finally(() => {
          setReady(false);
          if (this.#armed.get(node) === armed) this.#armed.delete(node);
        }),
    );
    return ready;
  }

  /** NODE's armed capture, if one is ready and unused; another is armed in its place. */
  #takeArmed(node: string): Armed | undefined {
    const armed = this.#armed.get(node);
    if (!armed?.remote?.unaimed) return undefined;
    this.#armed.delete(node);
    // Another in its place while the node's debug pod has room for one more capture.
    if (this.#runsOn(node) < this.#settings.capturesPerNode(node)) void this.arm(node);
    return armed;
  }

  async #run(run: Run): Promise<void> {
    const t = run.target;
    let writer: (Writable & { readonly packets: number }) | undefined;
    try {
      const armed = t.birth ? this.#takeArmed(t.node) : undefined;
      if (armed) {
        const remote = armed.remote!;
        armed.run = run;
        run.remote = remote;
        writer = await this.#output.source(
          t,
          () => run.iface ?? 'any',
          () => remote.stats,
        );
        armed.out.to(writer);
        remote.aim(t.pod.podUid, t.nodeNetwork);
        debug(`${t.label}: the armed capture on ${t.node} takes it`);
        await armed.running;
      } else {
        const { session } = await this.#podOn(t.node);
        if (this.#stopping) return;
        // A running pod's process is found by the capture's own exec (no separate lookup).
        const where: Pick<CaptureOptions, 'find' | 'waitForPod'> = t.birth
          ? {
              waitForPod: {
                uid: t.pod.podUid,
                seconds: this.#settings.birthWaitSeconds,
                hostNetwork: t.nodeNetwork,
              },
            }
          : { find: { podUid: t.pod.podUid, containerIds: t.pod.containerIds } };
        const remote = new RemoteCapture(
          session,
          { ...this.#settings.capture, ...where, ...this.#spoolOf(t.label) },
          this.#hooks(() => run),
        );
        run.remote = remote;
        if (this.#stopping) return;
        writer = await this.#output.source(
          t,
          () => run.iface ?? this.#settings.capture.iface ?? 'auto',
          () => remote.stats,
        );
        const w = writer;
        await remote.run(w, () => w.packets);
      }
      run.state = run.podEnded ? `ended: ${run.podEnded}` : 'ended';
    } catch (err) {
      if (run.podEnded) {
        run.state = `ended: ${run.podEnded}`;
        return;
      }
      run.error = err;
      run.state = `failed: ${err instanceof Error ? err.message : String(err)}`;
      if (!this.#stopping)
        warn(`${t.label}: ${err instanceof Error ? err.message : String(err)}; the other targets go on`);
    } finally {
      if (writer) {
        const w = writer;
        await new Promise<void>((resolve) => w.end(() => resolve()));
        await this.#output.endSource(t);
      }
      this.#retire(run);
    }
  }
}

/** Targets for RESOLVED pods: one per pod, except that a node's hostNetwork pods share one. Pure. */
export function captureTargets(resolved: readonly ResolvedTarget[], birth = false): CaptureTarget[] {
  const out: CaptureTarget[] = [];
  const hostGroups = new Map<string, CaptureTarget>();
  for (const r of resolved) {
    const pod: PidTarget = {
      namespace: r.namespace,
      pod: r.pod,
      podUid: r.podUid,
      container: r.container,
      containerIds: r.containerIds,
    };
    if (!r.hostNetwork) {
      out.push({
        key: r.podUid,
        label: `${r.namespace}/${r.pod}`,
        node: r.node,
        pod,
        birth,
        nodeNetwork: false,
        pods: [r],
      });
      continue;
    }
    const group = hostGroups.get(r.node);
    if (group) group.pods.push(r);
    else {
      const t: CaptureTarget = {
        key: `host/${r.node}`,
        label: `node/${r.node}`,
        node: r.node,
        pod,
        birth,
        nodeNetwork: true,
        pods: [r],
      };
      hostGroups.set(r.node, t);
      out.push(t);
    }
  }
  return out;
}
