// The report of a path capture as data: what `-o json` prints and what the text view and the
// packet comments are made from. Hops in path order, each with its step from the previous hop;
// flows with where they stopped; the clock handling. Figures across nodes are rounded to what the
// clock estimate allows (clock.ts). Pure.
import { millisDecimals, roundMs } from './clock.ts';
import type { CorrelateResult, DirHopStats, FlowResult, PacketNote, StepStats } from './correlate.ts';
import type { PlannedHop } from './hops.ts';

export interface LatencyJson {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How many packets took this step (seen at both hops). */
  samples: number;
  /** The hop the step starts at (index into hops). */
  fromHop: number;
  /** 0 on one node; across nodes, the clock uncertainty (every figure is ± this). */
  uncertaintyMs: number;
}

export interface HopJson {
  index: number;
  name: string;
  node: string;
  interface: string;
  /** pod: inside the pod; veth: the node's end of its veth; node: a node interface (uplink, bridge). */
  where: 'pod' | 'veth' | 'node';
  side: 'src' | 'dst';
  pod: string | null;
  description: string;
  /** Forward direction (SRC → DST): the step from the previous hop. */
  latency: LatencyJson | null;
  /** Reply direction (DST → SRC): the step from the next hop, which replies pass first. */
  replyLatency: LatencyJson | null;
  /** Every packet this hop captured, and how many of them belong to the path's flows. */
  packets: number;
  pathPackets: number;
  /** tcpdump's own counter for this hop (packets it could not keep). */
  droppedByKernel: number | null;
  seen: DirCounts;
  lostBefore: DirCounts;
  missed: DirCounts;
  appeared: DirCounts;
  unknown: DirCounts;
  retransmissions: number;
  nat: Array<{ kind: 'dnat' | 'snat'; from: string; to: string; flows: number }>;
  /** This hop saw none of a direction's packets while later hops did: not on that direction's way. */
  passedBy: DirFlags;
}

export interface DirFlags {
  forward: boolean;
  reply: boolean;
}

export interface DirCounts {
  forward: number;
  reply: number;
}

export interface FlowJson {
  id: number;
  protocol: string;
  client: string;
  server: string;
  /** ICMP echo: its identifier (as SRC sent it). */
  echoId: number | null;
  packets: DirCounts;
  lost: DirCounts;
  retransmissions: number;
  status: FlowResult['status'];
  /** status stopped: the last hop its packets reached and the first they never did. */
  stoppedAfter: number | null;
  stoppedBefore: number | null;
  nat: string[];
}

export interface PathReport {
  apiVersion: 'kubectl-netns/v1';
  kind: 'PathReport';
  src: EndJson;
  dst: EndJson;
  file: string | null;
  clock: ClockJson | null;
  hops: HopJson[];
  flows: FlowJson[];
  notes: string[];
}

export interface EndJson {
  kind: 'pod' | 'service' | 'ip';
  name: string;
  node: string | null;
  addresses: string[];
  /** kind service: the pod followed behind it. */
  pod: string | null;
}

export interface ClockJson {
  reference: string;
  node: string;
  /** How far node's clock is ahead of reference's (null: no packets crossed both ways). */
  offsetMs: number | null;
  uncertaintyMs: number | null;
  crossings: DirCounts;
  method: string;
}

const CLOCK_METHOD =
  "offset = middle of the interval the packets crossing between the nodes allow (each way's fastest crossing bounds it); uncertainty = half its width; cross-node steps are corrected by the offset and rounded to the uncertainty";

function latencyJson(s: StepStats | undefined, from: number | undefined): LatencyJson | null {
  if (!s || from === undefined) return null;
  const d = millisDecimals(s.uncertaintyNs);
  return {
    p50Ms: roundMs(s.p50Ns, d),
    p99Ms: roundMs(s.p99Ns, d),
    maxMs: roundMs(s.maxNs, d),
    samples: s.count,
    fromHop: from,
    uncertaintyMs: s.uncertaintyNs === 0 ? 0 : roundUp(s.uncertaintyNs / 1e6),
  };
}

/** An uncertainty shown with two significant digits, rounded up (never smaller than it is). */
function roundUp(ms: number): number {
  if (ms <= 0) return 0;
  const f = 10 ** (1 - Math.floor(Math.log10(ms)));
  return Math.ceil(ms * f) / f;
}

function counts(fwd: DirHopStats, rev: DirHopStats, k: keyof DirHopStats): DirCounts {
  return { forward: fwd[k] as number, reply: rev[k] as number };
}

/** The report document. */
export function buildReport(o: {
  src: EndJson;
  dst: EndJson;
  file: string | null;
  hops: readonly PlannedHop[];
  droppedByKernel: ReadonlyArray<number | undefined>;
  result: CorrelateResult;
  notes: readonly string[];
}): PathReport {
  const r = o.result;
  const est = r.clock?.estimate;
  return {
    apiVersion: 'kubectl-netns/v1',
    kind: 'PathReport',
    src: o.src,
    dst: o.dst,
    file: o.file,
    clock: r.clock
      ? {
          reference: r.clock.reference,
          node: r.clock.node,
          offsetMs: est ? roundMs(est.offsetNs, millisDecimals(est.uncertaintyNs)) : null,
          uncertaintyMs: est ? roundUp(est.uncertaintyNs / 1e6) : null,
          crossings: { forward: est?.outbound ?? 0, reply: est?.inbound ?? 0 },
          method: CLOCK_METHOD,
        }
      : null,
    hops: o.hops.map((h, i) => {
      const s = r.hops[i]!;
      return {
        index: i,
        name: h.name,
        node: h.node,
        interface: h.iface,
        where: h.role,
        side: h.side,
        pod: h.pod ? `${h.pod.namespace}/${h.pod.pod}` : null,
        description: h.description,
        latency: latencyJson(s.fwd.latency, s.fwd.from),
        replyLatency: latencyJson(s.rev.latency, s.rev.from),
        packets: s.packets,
        pathPackets: s.pathPackets,
        droppedByKernel: o.droppedByKernel[i] ?? null,
        seen: counts(s.fwd, s.rev, 'seen'),
        lostBefore: counts(s.fwd, s.rev, 'lostBefore'),
        missed: counts(s.fwd, s.rev, 'missed'),
        appeared: counts(s.fwd, s.rev, 'appeared'),
        unknown: counts(s.fwd, s.rev, 'unknown'),
        retransmissions: s.retransmissions,
        nat: s.nat,
        passedBy: { forward: s.passedBy.includes('fwd'), reply: s.passedBy.includes('rev') },
      };
    }),
    flows: r.flows.map((f) => ({
      id: f.id + 1,
      protocol: f.protocol,
      client: f.client,
      server: f.server,
      echoId: f.echoId ?? null,
      packets: { forward: f.packets.fwd, reply: f.packets.rev },
      lost: { forward: f.lost.fwd, reply: f.lost.rev },
      retransmissions: f.retransmissions,
      status: f.status,
      stoppedAfter: f.stoppedAfter ?? null,
      stoppedBefore: f.stoppedBefore ?? null,
      nat: f.nat,
    })),
    notes: [
      ...o.notes,
      ...o.hops.flatMap((h, i) => {
        const by = r.hops[i]!.passedBy;
        if (by.length === 0) return [];
        const what = by.length === 2 ? 'any packet' : by[0] === 'fwd' ? 'the forward packets' : 'the replies';
        return [
          `hop ${i + 1} (${h.name}) saw none of ${what} that later hops saw: not on their way (a bridge sees only what it routes), or its capture missed them; steps skip it`,
        ];
      }),
    ],
  };
}

/** A flow as people read it: "tcp 10.1.0.4:4123 → 10.2.0.9:80", "icmp 10.1.0.4 → 10.2.0.9 id 7". */
export function flowText(f: Pick<FlowResult, 'protocol' | 'client' | 'server' | 'echoId'>): string {
  return `${f.protocol} ${f.client} → ${f.server}${f.echoId !== undefined && f.echoId !== null ? ` id ${f.echoId}` : ''}`;
}

/** A step as people read it: "+0.052 ms", "+0.3 ms ±0.04" across nodes. */
export function stepText(ns: number, uncertaintyNs: number): string {
  const d = millisDecimals(uncertaintyNs);
  const v = roundMs(ns, d).toFixed(Math.max(0, d));
  return `${ns >= 0 ? '+' : ''}${v} ms${uncertaintyNs > 0 ? ` ±${roundUp(uncertaintyNs / 1e6)}` : ''}`;
}

/**
 * The comment a packet carries in the pcapng: its flow, direction, hop and step first (what a
 * narrow column shows), then what happened to it, then the flow's addresses.
 */
export function packetComment(note: PacketNote, hop: number, hops: readonly PlannedHop[], flow: FlowResult): string {
  let step: string;
  if (note.origin) step = 'first sighting';
  else if (note.step && note.step.fromHop === hop) step = `${stepText(note.step.ns, 0)} after passing here before`;
  else if (note.step) step = `${stepText(note.step.ns, note.step.uncertaintyNs)} from hop ${note.step.fromHop + 1}`;
  else step = 'the previous hop did not see it';
  const parts = [
    `flow ${note.flow + 1} ${note.dir === 'fwd' ? 'forward' : 'reply'}, hop ${hop + 1}/${hops.length}, ${step}`,
  ];
  if (note.retransmission) parts.push('retransmission');
  if (note.end === 'lost')
    parts.push(`LOST after this hop: never reached hop ${note.lostBefore! + 1} (${hops[note.lostBefore!]!.name})`);
  else if (note.end === 'left') parts.push('last seen here: went to an endpoint not followed');
  else if (note.end === 'unknown') parts.push('last seen here: the next hop was not capturing then');
  if (note.nat) parts.push(note.nat);
  parts.push(flowText(flow));
  return parts.join('; ');
}
