// `kubectl netns path SRC DST [-- FILTER]`: capture a connection at every hop between two ends at
// once (inside each pod, the node's end of its veth, the node interface its route uses; one node
// or two), then follow each packet from hop to hop and report where packets were lost or delayed
// and which translations happened. Reads top to bottom: plan (pure) → resolve both ends → one
// debug pod per node → ask each node its routes → plan the hops → capture → correlate → one
// commented pcapng and the report.
import { mkdtemp, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs, type RunContext } from '../cli/global.ts';
import { parseDuration, parsePositiveInt } from '../cli/parse.ts';
import { exitCodeForSignal, receivedSignal } from '../signals.ts';
import { asError, ExitCode, usageError, UserError } from '../errors.ts';
import { info, warn, writeStderr } from '../log.ts';
import { debugPodRights } from '../kube/access.ts';
import { parseTarget, resolveTarget, servicePods, type ResolvedTarget, type TargetRef } from '../kube/target.ts';
import { openDebugPod, type OpenDebugPod } from '../kube/with-debug-pod.ts';
import { collectOk } from '../node/agent-ops.ts';
import { routeArgv } from '../node/agent.ts';
import { parseRouteOutput } from '../node/route.ts';
import { MultiStatus, renderSummary } from '../output/capture-status.ts';
import { renderPathReport } from '../output/path-view.ts';
import { writePathPcapng } from '../output/path-pcapng.ts';
import { assertWritable, fileSink } from '../output/sink.ts';
import { useColor } from '../output/terminal.ts';
import { correlate, type HopInput } from '../path/correlate.ts';
import { decodeFields } from '../path/decode.ts';
import { planHops, type PathEnd } from '../path/hops.ts';
import { buildReport, packetComment, type EndJson } from '../path/report.ts';
import type { PcapHeader, PcapRecord } from '../pcap/format.ts';
import { PcapStreamParser } from '../pcap/stream-reader.ts';
import { VERSION } from '../version.ts';
import { HopCaptures, hopFilter, type HopRun } from './shared/hop-captures.ts';

export interface PathArgs extends GlobalArgs {
  src?: string | undefined;
  dst?: string | undefined;
  count?: number | undefined;
  duration?: string | undefined;
  write?: string | undefined;
  overwrite: boolean;
  output: 'text' | 'json';
  'buffer-size': number;
  '--'?: Array<string | number> | undefined;
}

/** One end as typed: a target in the cluster, or an address outside it. */
export type EndRef = { kind: 'ip'; address: string } | { kind: 'target'; text: string; ref: TargetRef };

export interface PathPlan {
  src: EndRef;
  dst: EndRef;
  filter: string[];
  count: number | undefined;
  durationSeconds: number | undefined;
  file: string;
  overwrite: boolean;
  output: 'text' | 'json';
  bufferKiB: number;
}

/** Everything the spool files of one path capture may hold before it stops on its own. */
const MAX_SPOOL_BYTES = 512 * 2 ** 20;

function endRef(text: string): EndRef {
  if (isIP(text)) return { kind: 'ip', address: text };
  return { kind: 'target', text, ref: parseTarget(text) };
}

/** Checks the arguments and decides what to do, without touching the cluster. Pure. */
export function planPath(a: PathArgs, now: Date = new Date()): PathPlan {
  if (!a.src || !a.dst)
    throw usageError('path needs two ends: SRC and DST', 'e.g. kubectl netns path client svc/web -- tcp port 80');
  const src = endRef(a.src);
  const dst = endRef(a.dst);
  if (src.kind === 'ip' && dst.kind === 'ip')
    throw usageError('at least one end of a path must be in the cluster', 'give a pod, deploy/NAME or svc/NAME');
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const short = (e: EndRef) => (e.kind === 'ip' ? e.address : e.ref.name).replace(/[^A-Za-z0-9_.-]+/g, '_');
  return {
    src,
    dst,
    filter: (a['--'] ?? []).map(String),
    count: a.count === undefined ? undefined : parsePositiveInt(a.count, '--count'),
    durationSeconds: a.duration === undefined ? undefined : parseDuration(a.duration, '--duration'),
    file: a.write ?? `path-${short(src)}-${short(dst)}-${stamp}.pcapng`,
    overwrite: a.overwrite,
    output: a.output,
    bufferKiB: parsePositiveInt(a['buffer-size'], '--buffer-size', 4096) * 1024,
  };
}

export const path = defineCommand<PathArgs>({
  name: 'path',
  positionals: '[src] [dst]',
  completes: 'pods',
  summary: 'Capture a connection at every hop between two ends and say where packets are lost or delayed',
  usage: 'path SRC DST [flags] [-- FILTER...]',
  notes:
    'SRC and DST are pods, TYPE/NAME (deploy/, sts/, svc/, ...) or an IP address outside the cluster. FILTER selects connections at the first hop, before any translation.',
  examples: [
    ['Where do the requests from pod client to service web die?', 'path client svc/web -- tcp port 80'],
    ['Ten seconds of two pods on two nodes, the report as JSON', 'path web-0 db-0 --duration 10s -o json'],
    ['A pod to an address outside the cluster', 'path client 192.0.2.10 --duration 30s'],
  ],
  builder: (y) =>
    y
      .positional('src', {
        type: 'string',
        describe: 'Where connections start: POD, TYPE/NAME, or an IP outside the cluster',
      })
      .positional('dst', {
        type: 'string',
        describe: 'Where they go: POD, TYPE/NAME, svc/NAME, or an IP outside the cluster',
      })
      .option('count', { type: 'number', describe: 'Stop after this many packets at the first hop' })
      .option('duration', { type: 'string', describe: 'Stop after this long, e.g. 30s, 5m' })
      .option('write', {
        alias: 'w',
        type: 'string',
        describe: 'The pcapng file, one interface per hop (default: path-SRC-DST-TIME.pcapng)',
      })
      .option('overwrite', {
        alias: 'force',
        type: 'boolean',
        default: false,
        describe: 'Replace the pcapng file if it exists',
      })
      .option('output', {
        alias: 'o',
        choices: ['text', 'json'] as const,
        default: 'text' as const,
        describe: 'The report: text on stderr, or json on stdout (and the text on stderr)',
      })
      .option('buffer-size', {
        type: 'number',
        default: 32,
        describe: "Each hop's kernel capture buffer in MiB (tcpdump -B)",
      }),
  run: runPath,
});

/** A resolved end: a pod (and the Service it was reached through), or an outside address. */
type ResolvedEnd =
  | { kind: 'pod'; target: ResolvedTarget; ips: string[]; service: { name: string; ips: string[] } | undefined }
  | { kind: 'ip'; address: string };

async function resolveEnd(ctx: RunContext, e: EndRef): Promise<ResolvedEnd> {
  if (e.kind === 'ip') return e;
  const ns = ctx.cfg.namespace;
  const target = await resolveTarget(ctx.client, e.ref, ns, undefined);
  if (target.via) info(`${target.via}: following pod ${target.pod}`);
  for (const w of target.warnings) warn(w);
  const ips = target.object.status?.podIPs?.map((p) => p.ip) ?? (target.podIP ? [target.podIP] : []);
  if (ips.length === 0)
    throw new UserError(`pod ${target.namespace}/${target.pod} has no IP address yet`, {
      exitCode: ExitCode.targetState,
    });
  let service: { name: string; ips: string[] } | undefined;
  if (e.ref.kind === 'service') {
    const svc = await ctx.client.readService(ns, e.ref.name);
    const svcIps = (svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])).filter((x) => isIP(x));
    service = { name: `${ns}/${e.ref.name}`, ips: svcIps };
    const pods = await servicePods(ctx.client, ns, e.ref.name);
    if (pods.length > 1)
      warn(
        `svc/${e.ref.name} has ${pods.length} pods; following ${target.pod}: a connection the Service sends to another pod is reported as going to an endpoint not followed`,
      );
  }
  return { kind: 'pod', target, ips, service };
}

function endJson(e: ResolvedEnd): EndJson {
  if (e.kind === 'ip') return { kind: 'ip', name: e.address, node: null, addresses: [e.address], pod: null };
  const pod = `${e.target.namespace}/${e.target.pod}`;
  if (e.service)
    return {
      kind: 'service',
      name: `svc/${e.service.name}`,
      node: e.target.node,
      addresses: [...e.service.ips, ...e.ips],
      pod,
    };
  return { kind: 'pod', name: pod, node: e.target.node, addresses: e.ips, pod };
}

/** The address each side routes towards: the other end's first address of the same family. */
function sameFamily(list: readonly string[], like: string): string {
  return list.find((a) => isIP(a) === isIP(like)) ?? list[0]!;
}

async function runPath(a: PathArgs): Promise<number> {
  const plan = planPath(a);
  await assertWritable(plan.file, plan.overwrite);
  const ctx = await runContext(a);
  const quiet = a.quiet === true;
  const [src, dst] = await Promise.all([resolveEnd(ctx, plan.src), resolveEnd(ctx, plan.dst)]);
  const srcAddrs = src.kind === 'ip' ? [src.address] : src.ips;
  const dstPodAddrs = dst.kind === 'ip' ? [dst.address] : dst.ips;
  const dstAddrs = dst.kind === 'ip' ? [dst.address] : [...(dst.service?.ips ?? []), ...dst.ips];

  // One hostNetwork debug pod per node: it enters the pods' namespaces and sees the node's own.
  const ends = [src, dst].filter((e): e is Extract<ResolvedEnd, { kind: 'pod' }> => e.kind === 'pod');
  const nodes = [...new Set(ends.map((e) => e.target.node))];
  const debugNs = (node: string) => ctx.debugNamespace ?? ends.find((e) => e.target.node === node)!.target.namespace;
  for (const node of nodes) ctx.rights.prefetch(debugPodRights(debugNs(node)));
  const pods = new Map<string, Promise<OpenDebugPod>>();
  for (const node of nodes) {
    const mine = ends.filter((e) => e.target.node === node);
    pods.set(
      node,
      openDebugPod(ctx, {
        namespace: debugNs(node),
        node,
        target: { namespace: mine[0]!.target.namespace, pod: mine[0]!.target.pod },
        hostNetwork: true,
        durationSeconds: plan.durationSeconds,
        captureBuffersMiB: Array.from({ length: 3 * mine.length }, () => plan.bufferKiB / 1024),
      }),
    );
  }
  let spool: HopCaptures | undefined;
  try {
    const opened = new Map<string, OpenDebugPod>();
    for (const [node, p] of pods) opened.set(node, await p);
    // Each pod's node: its route towards the other end, and the node's (after a Service's DNAT:
    // towards the pod behind it).
    const pathEnd = async (
      e: ResolvedEnd,
      other: readonly string[],
      otherNode: readonly string[],
    ): Promise<PathEnd> => {
      if (e.kind === 'ip') return { kind: 'ip', address: e.address };
      const t = e.target;
      const to = sameFamily(other, t.podIP ?? e.ips[0]!);
      const nodeTo = sameFamily(otherNode, t.podIP ?? e.ips[0]!);
      const out = await collectOk(
        opened.get(t.node)!.session,
        routeArgv({
          pod: t.hostNetwork ? undefined : { podUid: t.podUid, containerIds: t.containerIds },
          to: t.hostNetwork ? undefined : to,
          nodeTo,
        }),
        'route',
        ctx.signal,
      );
      return {
        kind: 'pod',
        namespace: t.namespace,
        pod: t.pod,
        podUid: t.podUid,
        containerIds: t.containerIds,
        node: t.node,
        hostNetwork: t.hostNetwork,
        routes: parseRouteOutput(out),
      };
    };
    const [srcEnd, dstEnd] = await Promise.all([pathEnd(src, dstAddrs, dstPodAddrs), pathEnd(dst, srcAddrs, srcAddrs)]);
    let hopPlan;
    try {
      hopPlan = planHops(srcEnd, dstEnd);
    } catch (err) {
      throw new UserError(asError(err).message, { exitCode: ExitCode.targetState });
    }
    for (const note of hopPlan.notes) info(note);
    info(
      `path ${plan.src.kind === 'ip' ? plan.src.address : plan.src.text} → ${plan.dst.kind === 'ip' ? plan.dst.address : plan.dst.text}: ${hopPlan.hops.length} hops on ${nodes.length} node(s): ${hopPlan.hops.map((h, i) => `${i + 1} ${h.name}`).join(', ')}`,
    );

    const all = [...new Set([...srcAddrs, ...dstAddrs])];
    const addressFilter = all.flatMap((addr, i) => (i === 0 ? ['host', addr] : ['or', 'host', addr]));
    spool = new HopCaptures(
      {
        addressFilter,
        userFilter: plan.filter,
        durationSeconds: plan.durationSeconds,
        count: plan.count,
        bufferKiB: plan.bufferKiB,
        maxSpoolBytes: MAX_SPOOL_BYTES,
      },
      await mkdtemp(join(tmpdir(), 'kubectl-netns-path-')),
    );
    const captures = spool;
    for (const hop of hopPlan.hops) captures.start(hop, opened.get(hop.node)!.session);
    const onSignal = () => captures.stop('signal');
    ctx.signal.addEventListener('abort', onSignal, { once: true });
    if (ctx.signal.aborted) onSignal();
    const timers: NodeJS.Timeout[] = [];
    const status = new MultiStatus(process.stderr, !quiet);
    try {
      if (plan.durationSeconds !== undefined)
        timers.push(setTimeout(() => captures.stop('--duration'), plan.durationSeconds * 1000 + 2000));
      if (status.enabled) timers.push(setInterval(() => status.draw(captures.progress()), 500));
      await captures.listening();
      if (!captures.stopping) info(`capturing at every hop${process.stdin.isTTY ? '; Ctrl-C to stop' : ''}`);
      await captures.settled();
    } finally {
      for (const t of timers) clearInterval(t);
      ctx.signal.removeEventListener('abort', onSignal);
      status.clear();
    }
    if (!quiet) writeStderr(renderSummary(captures.progress(), useColor(process.stderr)));

    const ok = captures.runs.filter((r) => r.error === undefined);
    if (ok.length === 0) throw asError(captures.runs[0]?.error ?? new Error('no hop was captured'));
    const failed = captures.runs.filter((r) => r.error !== undefined);
    const notes = [
      ...hopPlan.notes,
      ...failed.map((r) => `hop ${r.index + 1} (${r.hop.name}) was not captured: ${r.state}`),
    ];
    const read = await Promise.all(ok.map((r) => readSpool(r)));
    const hops = ok.map((r) => r.hop);
    const inputs = hopInputs(ok, read);
    const firstDst = hops.findIndex((h) => h.side === 'dst');
    const result = correlate({
      hops: inputs,
      src: srcAddrs,
      dst: dstAddrs,
      firstDstHop: firstDst < 0 ? hops.length : firstDst,
    });
    const report = buildReport({
      src: endJson(src),
      dst: endJson(dst),
      file: plan.file,
      hops,
      droppedByKernel: ok.map((r) => r.stats?.droppedByKernel),
      result,
      notes,
    });
    const sink = await fileSink(plan.file, { overwrite: plan.overwrite, signal: ctx.signal });
    await writePathPcapng(sink, {
      userAppl: `kubectl-netns ${VERSION}`,
      comments: [
        `kubectl netns path ${report.src.name} → ${report.dst.name}: ${hops.length} hops, in path order`,
        report.clock
          ? `clocks: ${report.clock.node} is ${report.clock.offsetMs ?? '?'} ms ahead of ${report.clock.reference} (±${report.clock.uncertaintyMs ?? '?'} ms); packet timestamps are each node's own, the comments' steps are corrected`
          : 'one node: every timestamp is from one clock',
      ],
      interfaces: ok.map((r, i) => ({
        header: read[i]!.header,
        records: read[i]!.records,
        name: r.hop.name,
        description: `hop ${r.index + 1} of ${captures.runs.length}: ${r.hop.description}`,
        filter: hopFilter({ addressFilter, userFilter: plan.filter }, r.index).join(' '),
        stats: r.stats,
        window: { start: r.clock.start, end: r.clock.end },
      })),
      names: nameRecords(src, dst),
      comment: (hop, index) => {
        const note = result.notes[hop]![index];
        return note ? packetComment(note, hop, hops, result.flows[note.flow]!) : undefined;
      },
    });
    if (plan.output === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (!quiet) writeStderr(renderPathReport(report, useColor(process.stderr)));
    const sig = receivedSignal();
    if (sig) return exitCodeForSignal(sig);
    if (failed.length > 0) {
      warn(`${failed.length} of ${captures.runs.length} hops could not be captured: the report is partial`);
      return ExitCode.partial;
    }
    return ExitCode.ok;
  } finally {
    await spool?.removeSpool();
    const open = await Promise.allSettled(pods.values());
    await Promise.all(open.flatMap((p) => (p.status === 'fulfilled' ? [p.value.close()] : [])));
  }
}

/** A hop's spool file: its pcap header and records. */
async function readSpool(r: HopRun): Promise<{ header: PcapHeader; records: PcapRecord[] }> {
  const buf = await readFile(r.file);
  const records: PcapRecord[] = [];
  const parser = new PcapStreamParser({ onRecord: (rec) => records.push(rec) });
  parser.push(buf);
  // A hop that captured nothing before it stopped may have written no header at all.
  const header: PcapHeader = parser.header ?? {
    byteOrder: 'le',
    precision: 'usec',
    versionMajor: 2,
    versionMinor: 4,
    snaplen: 262144,
    linkType: 1,
    fcsLen: undefined,
  };
  return { header, records };
}

/** The correlation's input: every packet decoded, times in ns from a shared base second. */
function hopInputs(
  runs: readonly HopRun[],
  read: ReadonlyArray<{ header: PcapHeader; records: PcapRecord[] }>,
): HopInput[] {
  let base = Infinity;
  for (const x of read) for (const r of x.records) if (r.tsSec < base) base = r.tsSec;
  if (!Number.isFinite(base)) base = Math.floor(Date.now() / 1000);
  const baseNs = BigInt(base) * 1_000_000_000n;
  const rel = (v: bigint | undefined) => (v === undefined ? undefined : Number(v - baseNs));
  return runs.map((run, i): HopInput => {
    const { header, records } = read[i]!;
    const scale = header.precision === 'usec' ? 1000 : 1;
    return {
      node: run.hop.node,
      packets: records.map((r) => ({
        tNs: (r.tsSec - base) * 1e9 + r.tsFrac * scale,
        fields: decodeFields(header.linkType, r.data),
      })),
      window: { startNs: rel(run.clock.start), endNs: rel(run.clock.end) },
    };
  });
}

/** Names for the ends' addresses, so Wireshark shows who is who. */
function nameRecords(src: ResolvedEnd, dst: ResolvedEnd): Array<{ address: string; names: string[] }> {
  const out: Array<{ address: string; names: string[] }> = [];
  for (const e of [src, dst]) {
    if (e.kind !== 'pod') continue;
    for (const ip of e.ips) out.push({ address: ip, names: [`${e.target.namespace}/${e.target.pod}`] });
    for (const ip of e.service?.ips ?? []) out.push({ address: ip, names: [`svc/${e.service!.name}`] });
  }
  return out;
}
