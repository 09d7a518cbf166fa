// Where a many-target capture writes: one merged pcapng (pods as named interfaces), or one pcap
// file per pod in a directory (-o DIR/). Also what the file says about each target: its
// interface name and description, and the names of its addresses.
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { TcpdumpStats } from '../../node/agent.ts';
import { CaptureWriter } from '../../output/capture-writer.ts';
import type { PcapngOutput } from '../../output/pcapng-output.ts';
import { fileSink, type CaptureSink } from '../../output/sink.ts';
import type { NameRecord } from '../../pcap/pcapng-writer.ts';
import type { CaptureTarget, TargetOutput } from './workload-capture.ts';
import { describeGap, type SpoolGap } from '../../node/spool-stream.ts';
import { formatBytes } from '../../output/status-line.ts';
import { warn } from '../../log.ts';

/** if_description: which pod, where, which container, which address. Pure. */
export function describeTarget(t: CaptureTarget): string {
  const p = t.pods[0]!;
  if (t.key.startsWith('host/')) {
    return `node ${t.node}'s own network namespace (hostNetwork pods: ${t.pods.map((x) => `${x.namespace}/${x.pod}`).join(', ')})`;
  }
  const ips = p.object.status?.podIPs?.map((i) => i.ip).join(', ') || p.podIP || 'no IP yet';
  return `pod ${p.namespace}/${p.pod} on node ${t.node}, container ${p.container}, IP ${ips}`;
}

/** The addresses of TARGETS and the names a capture file should show for them. Pure. */
export function targetNames(targets: readonly CaptureTarget[]): NameRecord[] {
  const out = new Map<string, string>();
  for (const t of targets) {
    for (const p of t.pods) {
      const ips = p.object.status?.podIPs?.map((i) => i.ip) ?? (p.podIP ? [p.podIP] : []);
      for (const ip of ips) if (!out.has(ip)) out.set(ip, t.label);
    }
  }
  return [...out].map(([address, name]) => ({ address, names: [name] }));
}

/** Every target into one pcapng: each an interface named NAMESPACE/POD/IFACE. */
export function mergedOutput(out: PcapngOutput, filter: string | undefined): TargetOutput {
  return {
    source(t, iface, stats) {
      return Promise.resolve(
        out.source(t.key, { name: () => `${t.label}/${iface()}`, description: describeTarget(t), filter, stats }),
      );
    },
    endSource(t) {
      out.endSource(t.key);
      return Promise.resolve();
    },
    totals: (t) => out.totals(t.key),
    noteGap(t, gap) {
      const what = describeGap(gap, formatBytes);
      warn(`${t.label}: ${what}; marked on the first packet after it in the file`);
      out.noteGap(t.key, gap.afterPackets, `kubectl-netns: ${what}`);
    },
  };
}

/**
 * `-o DIR/`: one classic pcap file per target, NAMESPACE_POD.pcap (or node_NODE.pcap), each
 * complete on its own. A later pod of the same name (a StatefulSet's pod re-created, with a new
 * UID) gets a file of its own, NAMESPACE_POD.UID8.pcap: never the first one's, even with --overwrite.
 */
export class PerPodFiles implements TargetOutput {
  readonly #dir: string;
  readonly #overwrite: boolean;
  readonly #open = new Map<string, { sink: CaptureSink; writer: CaptureWriter }>();
  /** Totals of the files already complete (their writers are let go). */
  readonly #done = new Map<string, { packets: number; bytes: number }>();
  /** Every file name this capture has used. */
  readonly #used = new Set<string>();
  readonly #finished: Promise<void>[] = [];
  readonly #errors: unknown[] = [];
  readonly files: string[] = [];

  constructor(dir: string, overwrite: boolean) {
    this.#dir = dir;
    this.#overwrite = overwrite;
  }

  async source(
    t: CaptureTarget,
    _iface: () => string,
    _stats: () => Partial<TcpdumpStats> | undefined,
  ): Promise<Writable & { readonly packets: number }> {
    const path = this.#pathFor(t);
    this.#used.add(path);
    const sink = await fileSink(path, { overwrite: this.#overwrite });
    const writer = new CaptureWriter(sink.stream);
    this.#open.set(t.key, { sink, writer });
    this.files.push(path);
    // defineProperty, not Object.assign: assign would copy the getter's value once (0).
    return Object.defineProperty(writer, 'packets', { get: () => writer.parser.packets }) as CaptureWriter & {
      readonly packets: number;
    };
  }

  /** NAMESPACE_POD.pcap for the first pod of a name in this capture; a later one's name adds its UID. */
  #pathFor(t: CaptureTarget): string {
    const base = t.label.replace('/', '_');
    const uid = (t.key.startsWith('host/') ? '' : t.pods[0]!.podUid).replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}.${uid || 'n'}${n > 2 || !uid ? `-${n}` : ''}`;
      const path = join(this.#dir, `${name}.pcap`);
      if (!this.#used.has(path)) return path;
    }
  }

  endSource(t: CaptureTarget): Promise<void> {
    const f = this.#open.get(t.key);
    if (!f) return Promise.resolve();
    // The file is complete: its totals stay, its writer and sink go (a long --follow opens many).
    this.#open.delete(t.key);
    this.#done.set(t.key, { packets: f.writer.parser.packets, bytes: f.writer.parser.capturedBytes });
    // Cut back to what the file really holds: after a failed write, less than was sent.
    const done = (
      f.writer.parser.header ? f.sink.finish((written) => f.writer.completeWithin(written).offset) : f.sink.discard()
    ).catch((err: unknown) => void this.#errors.push(err));
    this.#finished.push(done);
    return done;
  }

  /** pcap has no place to mark a gap: it is said on stderr (and in the exit code). */
  noteGap(t: CaptureTarget, gap: SpoolGap): void {
    warn(`${t.label}: ${describeGap(gap, formatBytes)}; pcap cannot mark this in ${t.label.replace('/', '_')}.pcap`);
  }

  totals(t: CaptureTarget): { packets: number; bytes: number } | undefined {
    const f = this.#open.get(t.key);
    return f ? { packets: f.writer.parser.packets, bytes: f.writer.parser.capturedBytes } : this.#done.get(t.key);
  }

  /** Waits for every file; throws the first error writing one of them. */
  async finish(): Promise<void> {
    await Promise.all(this.#finished);
    if (this.#errors.length) throw this.#errors[0];
  }
}
