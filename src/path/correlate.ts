// Follows each packet of a connection from hop to hop along a path that was captured at every hop
// at once, and says where packets were lost, how long each step took, and which translations
// (NAT) happened on the way. Pure: captured packets in, findings out.
//
// The method, and what it cannot do:
//  - Identity. A packet is recognised at another hop by what routing and NAT leave alone: the
//    IPv4 ID; for TCP the sequence and acknowledgement numbers, flags and payload length; for UDP
//    the payload length; for ICMP echo its type, code and sequence; and a hash of the first 128
//    payload bytes. Addresses, ports, TTL, checksums and link headers are left out: those change.
//    The same fingerprint at hops is one packet's trip; its direction is known from the path's
//    end addresses (SRC's, DST's: pod IPs, the Service IP, the outside address), which every
//    packet of the path carries on one side whatever NAT did to the other.
//    Retransmissions differ from the original (a new IPv4 ID, later by at least an RTO), so they
//    are trips of their own. Two identical packets (IPv6, or an IPv4 ID of 0, same payload) are
//    told apart by time. A packet seen twice on one interface within 5 ms (a bridge device that
//    receives a packet and routes it back out) is one trip that passed that hop in and out.
//  - Limits. A hop that splits or merges TCP segments differently from its neighbour (TSO, GRO,
//    a tbf queue segmenting a GSO frame) shows other packets than its neighbour: their bytes
//    arrive, but as other fingerprints, so they count as lost before that hop and appeared at it.
//    IP fragments are not followed. Packets the capture filter kept out are not there.
//  - Flows. A flow is a connection as SRC's side sees it (its tuple at the first hop, before any
//    translation). Each hop's tuple of a trip maps to the tuple at the hop before; chaining those
//    maps gives every packet its flow, also a reply seen only after translation. A change of
//    tuple between two hops is the NAT seen there: DNAT when the destination changed (a Service
//    IP rewritten to a pod's), SNAT when the source did (masquerade to a node's address).
//  - Loss. A trip that stops at hop A and never reaches a later hop is lost between A and the
//    next hop B, but only if B was capturing then (its window, from the agent's clock lines, with
//    a margin at both edges): otherwise it is "unknown" (the capture started or ended around it).
//    A trip missing at B but seen further on was missed by B's capture (kernel drops), not lost.
//    A flow that never reached DST's hops yet got replies went to another endpoint of the Service
//    (one that was not followed): its trips count as "left the path", not as lost.
//  - Time. Steps between hops on one node use one clock: exact to tcpdump's microseconds. Steps
//    across nodes use the offset and uncertainty clock.ts estimates from the packets themselves,
//    and are never shown finer than that uncertainty.
import { estimateOffset, type ClockEstimate, type Crossing } from './clock.ts';
import { TcpFlags, type PacketFields } from './decode.ts';

export type Dir = 'fwd' | 'rev';

export interface HopInput {
  node: string;
  /** Timestamps in the hop's node clock, ns since a base shared by all hops. */
  packets: ReadonlyArray<{ tNs: number; fields: PacketFields | undefined }>;
  /** When the hop's capture listened, in its node clock (ns since the same base), if known. */
  window: { startNs?: number | undefined; endNs?: number | undefined };
}

export interface CorrelateInput {
  /** In path order, SRC's end first. */
  hops: readonly HopInput[];
  /** SRC's addresses (a pod's IPs, or the outside address). */
  src: readonly string[];
  /** DST's addresses (the pod's IPs, the Service's IP, or the outside address). */
  dst: readonly string[];
  /** The first hop on DST's side (reaching it means the followed DST pod was reached). */
  firstDstHop: number;
}

/** What one captured packet is, for its comment. */
export interface PacketNote {
  flow: number;
  dir: Dir;
  /** Its trip's origin is this hop. */
  origin: boolean;
  /** The step from the previous hop on its way, when that hop saw it too. */
  step: { fromHop: number; ns: number; uncertaintyNs: number } | undefined;
  retransmission: boolean;
  /** Set on the last hop a trip reached. */
  end: 'delivered' | 'lost' | 'unknown' | 'left' | undefined;
  /** end 'lost': the hop it never reached. */
  lostBefore: number | undefined;
  /** A translation between the previous hop (or this one, in and out) and this packet. */
  nat: string | undefined;
}

export interface StepStats {
  count: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  /** 0 on one node; the clock uncertainty for a step between nodes. */
  uncertaintyNs: number;
}

export interface DirHopStats {
  /** Trips of the path's flows seen here. */
  seen: number;
  /** Trips that reached the previous hop on their way and never this one or any after it. */
  lostBefore: number;
  /** Trips this hop did not see though a later one did (its capture missed them). */
  missed: number;
  /** Trips whose first sighting is here, though an earlier hop should have seen them. */
  appeared: number;
  /** Trips that stopped before here while this hop was not capturing (not counted as lost). */
  unknown: number;
  /** The hop the step into this one comes from on this direction's way (undefined: it starts here). */
  from: number | undefined;
  latency: StepStats | undefined;
}

export interface NatSeen {
  kind: 'dnat' | 'snat';
  from: string;
  to: string;
  flows: number;
}

export interface HopResult {
  /** Directions whose packets this hop never saw while a hop after it did (it was passed by). */
  passedBy: Dir[];
  packets: number;
  pathPackets: number;
  fwd: DirHopStats;
  rev: DirHopStats;
  retransmissions: number;
  nat: NatSeen[];
}

export interface FlowResult {
  id: number;
  protocol: string;
  /** SRC's side of the connection as the first hop saw it ("ip:port"; the address alone for ICMP). */
  client: string;
  server: string;
  /** ICMP echo: the identifier at the first hop. */
  echoId: number | undefined;
  firstNs: number;
  packets: Record<Dir, number>;
  lost: Record<Dir, number>;
  retransmissions: number;
  /** The furthest hop each direction's packets reached (undefined: none sent). */
  reached: Record<Dir, number | undefined>;
  /** complete: both ends reached; stopped: a direction never got through; other-endpoint: see above. */
  status: 'complete' | 'stopped' | 'other-endpoint';
  /** status stopped: the last hop its packets reached, and the first they never did. */
  stoppedAfter: number | undefined;
  stoppedBefore: number | undefined;
  nat: string[];
}

export interface CorrelateResult {
  notes: Array<Array<PacketNote | undefined>>;
  hops: HopResult[];
  flows: FlowResult[];
  /** The second node's clock against the first's, when the path spans two nodes. */
  clock: { node: string; reference: string; estimate: ClockEstimate | undefined } | undefined;
}

/** Two sightings of one fingerprint on one interface this close are one packet in and out. */
const IN_OUT_NS = 5_000_000;
/** Identical fingerprints further apart than this after clock correction are different packets. */
const SAME_TRIP_NS = 2_000_000_000;
/** A capture is trusted from this long after it started listening (the agent's clock is coarse). */
const START_MARGIN_NS = 50_000_000;
/** ... until this long before it stopped: a packet still in flight then is not lost. */
const END_MARGIN_NS = 1_000_000_000;

interface Obs {
  hop: number;
  index: number;
  t: number;
  f: PacketFields;
  dir: Dir;
  key: string;
}

interface Trip {
  id: number;
  dir: Dir;
  /** Sightings in path order of travel: by hop in direction, then time. */
  obs: Obs[];
  flow: number | undefined;
}

/** The fingerprint of a packet: the fields that survive NAT and routing. */
export function fingerprint(f: PacketFields): string | undefined {
  if (f.fragment) return undefined;
  const id = f.ipId ?? '';
  const tail = `${f.payloadLength}|${f.payloadHash}`;
  if (f.protocol === 'tcp' && f.tcp) return `t|${id}|${f.tcp.seq}|${f.tcp.ack}|${f.tcp.flags}|${tail}`;
  if (f.protocol === 'udp') return `u|${id}|${tail}`;
  if (f.icmp) return `i|${id}|${f.icmp.type}|${f.icmp.code}|${f.icmp.seq ?? ''}|${tail}`;
  return `o|${f.ipProto}|${id}|${tail}`;
}

/** "ip:port", "[ip6]:port", or the address alone (IPv6 in brackets) for protocols without ports. */
function endpoint(addr: string, port: number | undefined): string {
  const a = addr.includes(':') ? `[${addr}]` : addr;
  return port === undefined ? a : `${a}:${port}`;
}

/** The address of an endpoint() string. */
export function endpointHost(e: string): string {
  return e.startsWith('[') ? e.slice(1, e.indexOf(']')) : e.replace(/:\d+$/, '');
}

/** The tuple of a sighting, always written SRC's side first. */
function tupleOf(o: Obs): string {
  const f = o.f;
  const a = endpoint(f.src, f.srcPort);
  const b = endpoint(f.dst, f.dstPort);
  return o.dir === 'fwd' ? `${f.protocol}|${a}|${b}` : `${f.protocol}|${b}|${a}`;
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function stepStats(values: number[], uncertaintyNs: number): StepStats | undefined {
  if (values.length === 0) return undefined;
  values.sort((x, y) => x - y);
  return {
    count: values.length,
    p50Ns: percentile(values, 50),
    p99Ns: percentile(values, 99),
    maxNs: values[values.length - 1]!,
    uncertaintyNs,
  };
}

function emptyDir(): DirHopStats {
  return { seen: 0, lostBefore: 0, missed: 0, appeared: 0, unknown: 0, from: undefined, latency: undefined };
}

/** Correlates the hops' packets: trips, flows, loss, latency, NAT (see the file comment). */
export function correlate(input: CorrelateInput): CorrelateResult {
  const { hops } = input;
  const n = hops.length;
  const src = new Set(input.src);
  const dst = new Set(input.dst);

  // 1. Sightings with a direction and a fingerprint, grouped by both.
  const groups = new Map<string, Obs[]>();
  hops.forEach((h, hop) => {
    h.packets.forEach((p, index) => {
      const f = p.fields;
      if (!f) return;
      const fwd = src.has(f.src) || dst.has(f.dst);
      const rev = dst.has(f.src) || src.has(f.dst);
      if (!fwd && !rev) return;
      const dir: Dir = fwd && (!rev || src.has(f.src)) ? 'fwd' : 'rev';
      const fp = fingerprint(f);
      if (fp === undefined) return;
      const key = `${dir}|${fp}`;
      const o: Obs = { hop, index, t: p.tNs, f, dir, key };
      const g = groups.get(key);
      if (g) g.push(o);
      else groups.set(key, [o]);
    });
  });

  // 2. Unambiguous groups (at most one sighting per hop, or one in and out) are trips at once.
  const order = (dir: Dir) => (a: Obs, b: Obs) => (dir === 'fwd' ? a.hop - b.hop : b.hop - a.hop) || a.t - b.t;
  const trips: Trip[] = [];
  const ambiguous: Obs[][] = [];
  for (const g of groups.values()) {
    const perHop = new Map<number, Obs[]>();
    for (const o of g) perHop.set(o.hop, [...(perHop.get(o.hop) ?? []), o]);
    const simple = [...perHop.values()].every(
      (l) => l.length === 1 || (l.length === 2 && Math.abs(l[0]!.t - l[1]!.t) <= IN_OUT_NS),
    );
    if (simple) trips.push({ id: trips.length, dir: g[0]!.dir, obs: g.sort(order(g[0]!.dir)), flow: undefined });
    else ambiguous.push(g);
  }

  // 3. The clock: the second node's offset from crossings of unambiguous trips.
  const nodes = [...new Set(hops.map((h) => h.node))];
  const offset = new Map<string, { ns: number; u: number }>([[nodes[0]!, { ns: 0, u: 0 }]]);
  let clock: CorrelateResult['clock'];
  if (nodes.length > 1) {
    const crossings: Crossing[] = [];
    for (const t of trips) {
      for (let i = 1; i < t.obs.length; i++) {
        const a = t.obs[i - 1]!;
        const b = t.obs[i]!;
        if (Math.abs(a.hop - b.hop) !== 1 || hops[a.hop]!.node === hops[b.hop]!.node) continue;
        crossings.push({ outbound: hops[a.hop]!.node === nodes[0], rawNs: b.t - a.t });
      }
    }
    const estimate = estimateOffset(crossings);
    // Without an estimate the clocks are taken as equal, and cross-node steps are not reported.
    for (const node of nodes.slice(1))
      offset.set(node, estimate ? { ns: estimate.offsetNs, u: estimate.uncertaintyNs } : { ns: 0, u: Infinity });
    clock = { node: nodes[1]!, reference: nodes[0]!, estimate };
  }
  const ref = (o: Obs) => o.t - offset.get(hops[o.hop]!.node)!.ns;
  const refOf = (hop: number, t: number) => t - offset.get(hops[hop]!.node)!.ns;

  // 4. Ambiguous groups, split by time on the common clock: each sighting joins the open trip
  // that has not passed its hop yet and is nearest in time.
  for (const g of ambiguous) {
    const dir = g[0]!.dir;
    const open: Trip[] = [];
    for (const o of [...g].sort((a, b) => ref(a) - ref(b))) {
      let best: Trip | undefined;
      let bestGap = Infinity;
      for (const t of open) {
        const last = t.obs[t.obs.length - 1]!;
        const gap = Math.abs(ref(o) - ref(last));
        if (gap > SAME_TRIP_NS) continue;
        const sameHop = t.obs.filter((x) => x.hop === o.hop);
        const inOut = sameHop.length === 1 && Math.abs(sameHop[0]!.t - o.t) <= IN_OUT_NS;
        const onward = dir === 'fwd' ? o.hop > last.hop : o.hop < last.hop;
        if ((sameHop.length === 0 && onward) || inOut) {
          if (gap < bestGap) [best, bestGap] = [t, gap];
        }
      }
      if (best) best.obs.push(o);
      else {
        const t: Trip = { id: trips.length, dir, obs: [o], flow: undefined };
        trips.push(t);
        open.push(t);
      }
    }
    for (const t of open) t.obs.sort(order(dir));
  }

  // 5. Tuple maps: a sighting's tuple → the tuple at the sighting before it on the trip.
  const nat = hops.map(() => new Map<string, { hop: number; tuple: string }>());
  for (const t of trips) {
    for (let i = 1; i < t.obs.length; i++) {
      const a = t.obs[i - 1]!;
      const b = t.obs[i]!;
      const ta = tupleOf(a);
      const tb = tupleOf(b);
      const prev = t.dir === 'fwd' ? a : b;
      const next = t.dir === 'fwd' ? b : a;
      if (prev.hop > next.hop) continue;
      const [from, to] = t.dir === 'fwd' ? [ta, tb] : [tb, ta];
      if (!nat[next.hop]!.has(to)) nat[next.hop]!.set(to, { hop: prev.hop, tuple: from });
    }
  }
  const canonCache = new Map<string, string>();
  const canonical = (hop: number, tuple: string): string => {
    const k = `${hop}|${tuple}`;
    const hit = canonCache.get(k);
    if (hit !== undefined) return hit;
    let h = hop;
    let tp = tuple;
    for (let guard = 0; h >= 0 && guard < 4 * n; guard++) {
      const m = nat[h]!.get(tp);
      if (m && !(m.hop === h && m.tuple === tp)) [h, tp] = [m.hop, m.tuple];
      else h--;
    }
    canonCache.set(k, tp);
    return tp;
  };

  // 6. Flows: by the canonical tuple; only those from SRC to DST are the path's.
  const flowIds = new Map<string, number>();
  const flowTuples: string[] = [];
  for (const t of [...trips].sort((a, b) => ref(a.obs[0]!) - ref(b.obs[0]!))) {
    const first = t.obs.reduce((m, o) => (o.hop < m.hop ? o : m));
    const tuple = canonical(first.hop, tupleOf(first));
    const [, a, b] = tuple.split('|');
    if (!src.has(endpointHost(a!)) || !dst.has(endpointHost(b!))) continue;
    let id = flowIds.get(tuple);
    if (id === undefined) {
      id = flowTuples.length;
      flowIds.set(tuple, id);
      flowTuples.push(tuple);
    }
    t.flow = id;
  }
  const pathTrips = trips.filter((t) => t.flow !== undefined);

  // 7. Flows that never reached DST's hops but got replies went to another endpoint.
  const reachedDst = new Set<number>();
  const replied = new Set<number>();
  for (const t of pathTrips) {
    if (t.obs.some((o) => o.hop >= input.firstDstHop)) reachedDst.add(t.flow!);
    if (t.dir === 'rev') replied.add(t.flow!);
  }
  const otherEndpoint = (flow: number) => !reachedDst.has(flow) && replied.has(flow) && input.firstDstHop < n;

  // 8. Each trip along its direction: steps, misses, where it ended.
  const notes: Array<Array<PacketNote | undefined>> = hops.map((h) =>
    Array.from({ length: h.packets.length }, (): PacketNote | undefined => undefined),
  );
  const stats = hops.map(() => ({
    fwd: emptyDir(),
    rev: emptyDir(),
    retransmissions: 0,
    steps: { fwd: [] as number[], rev: [] as number[] },
  }));
  const windowOf = (hop: number) => {
    const h = hops[hop]!;
    // Without the agent's clock lines, the hop's own first and last packets bound its window.
    let first = Infinity;
    let last = -Infinity;
    for (const p of h.packets) {
      if (p.tNs < first) first = p.tNs;
      if (p.tNs > last) last = p.tNs;
    }
    const start = h.window.startNs ?? first;
    const end = h.window.endNs ?? last;
    const u = offset.get(h.node)!.u;
    const slack = Number.isFinite(u) ? u : 0;
    return { start: refOf(hop, start) + START_MARGIN_NS + slack, end: refOf(hop, end) - END_MARGIN_NS - slack };
  };
  const windows = hops.map((_, i) => windowOf(i));
  const retrans = retransmissions(pathTrips);
  // A hop that saw none of a direction's packets while a hop after it did is not on that
  // direction's way (a bridge device never sees what it bridges at layer 2): steps and losses
  // skip it. A hop that saw none because everything died before it is still on the way.
  const alongOf = { fwd: [] as number[], rev: [] as number[] };
  for (const dir of ['fwd', 'rev'] as const) {
    const order = dir === 'fwd' ? [...Array(n).keys()] : [...Array(n).keys()].reverse();
    const saw = new Set<number>();
    for (const t of pathTrips) if (t.dir === dir) for (const o of t.obs) saw.add(o.hop);
    alongOf[dir] = order.filter((hop, i) => saw.has(hop) || !order.slice(i + 1).some((h) => saw.has(h)));
  }
  const flowsOut: FlowResult[] = flowTuples.map((tuple, id) => {
    const [protocol, client, server] = tuple.split('|');
    // ICMP echo's identifier stands in for ports when matching NAT; people know it as "id".
    const icmp = protocol === 'icmp' || protocol === 'icmpv6';
    const bare = (e: string) => (icmp ? endpointHost(e) : e);
    return {
      id,
      protocol: protocol!,
      client: bare(client!),
      server: bare(server!),
      echoId: icmp && /:\d+$/.test(client!) ? Number(/:(\d+)$/.exec(client!)![1]) : undefined,
      firstNs: Infinity,
      packets: { fwd: 0, rev: 0 },
      lost: { fwd: 0, rev: 0 },
      retransmissions: 0,
      reached: { fwd: undefined, rev: undefined },
      status: 'complete',
      stoppedAfter: undefined,
      stoppedBefore: undefined,
      nat: [],
    };
  });
  const natSeen = hops.map(() => new Map<string, NatSeen & { flowSet: Set<number> }>());

  for (const t of pathTrips) {
    const flow = flowsOut[t.flow!]!;
    const dir = t.dir;
    const along = alongOf[dir];
    const startHop = along[0]!;
    const seenHops = new Set(t.obs.map((o) => o.hop));
    const firstObs = t.obs[0]!;
    flow.packets[dir]++;
    flow.firstNs = Math.min(flow.firstNs, ref(firstObs));
    if (retrans.has(t)) flow.retransmissions++;
    const lastHop = t.obs[t.obs.length - 1]!.hop;
    const reachedPos = along.indexOf(lastHop);
    const pos = (hop: number) => along.indexOf(hop);
    const prevReached = flow.reached[dir];
    if (prevReached === undefined || along.indexOf(prevReached) < reachedPos) flow.reached[dir] = lastHop;

    // Where it ended: delivered at the far end, left the path, lost, or unknown.
    let end: PacketNote['end'];
    let lostBefore: number | undefined;
    if (reachedPos === along.length - 1) end = 'delivered';
    else if (otherEndpoint(t.flow!)) end = 'left';
    else {
      const next = along[reachedPos + 1]!;
      const w = windows[next]!;
      const at = ref(t.obs[t.obs.length - 1]!);
      if (at >= w.start && at <= w.end) {
        end = 'lost';
        lostBefore = next;
        stats[next]![dir].lostBefore++;
        flow.lost[dir]++;
      } else {
        end = 'unknown';
        stats[next]![dir].unknown++;
      }
    }
    const firstPos = along.indexOf(firstObs.hop);
    if (firstObs.hop !== startHop) stats[firstObs.hop]![dir].appeared++;
    for (let p = firstPos + 1; p < reachedPos; p++) if (!seenHops.has(along[p]!)) stats[along[p]!]![dir].missed++;
    for (const hop of seenHops) {
      stats[hop]![dir].seen++;
      if (retrans.has(t)) stats[hop]!.retransmissions++;
    }

    // Steps between adjacent hops, and the notes of every sighting.
    let prev: Obs | undefined;
    t.obs.forEach((o, i) => {
      let step: PacketNote['step'];
      let natText: string | undefined;
      if (prev) {
        const adjacent = pos(o.hop) - pos(prev.hop) === 1;
        if (adjacent || prev.hop === o.hop) {
          const crossNode = hops[prev.hop]!.node !== hops[o.hop]!.node;
          const u = crossNode ? Math.max(offset.get(hops[prev.hop]!.node)!.u, offset.get(hops[o.hop]!.node)!.u) : 0;
          const ns = ref(o) - ref(prev);
          step = { fromHop: prev.hop, ns, uncertaintyNs: u };
          if (adjacent && Number.isFinite(u) && o === t.obs.find((x) => x.hop === o.hop))
            stats[o.hop]!.steps[dir].push(ns);
        }
        const before = tupleOf(prev);
        const now = tupleOf(o);
        if (before !== now) {
          const [x, y] = dir === 'fwd' ? [prev, o] : [o, prev];
          natText = describeNat(tupleOf(x), tupleOf(y));
          const at = Math.max(prev.hop, o.hop);
          for (const seen of translations(tupleOf(x), tupleOf(y))) {
            const k = `${seen.kind}|${seen.from}|${seen.to}`;
            const entry = natSeen[at]!.get(k) ?? { ...seen, flows: 0, flowSet: new Set<number>() };
            entry.flowSet.add(t.flow!);
            entry.flows = entry.flowSet.size;
            natSeen[at]!.set(k, entry);
            const text = `${seen.kind.toUpperCase()} ${seen.from} → ${seen.to}`;
            if (!flow.nat.includes(text)) flow.nat.push(text);
          }
        }
      }
      notes[o.hop]![o.index] = {
        flow: t.flow!,
        dir,
        origin: i === 0 && o.hop === startHop,
        step,
        retransmission: retrans.has(t),
        end: i === t.obs.length - 1 ? end : undefined,
        lostBefore: i === t.obs.length - 1 ? lostBefore : undefined,
        nat: natText,
      };
      prev = o;
    });
  }

  // 9. Per flow: did both directions get through?
  for (const f of flowsOut) {
    if (otherEndpoint(f.id)) {
      f.status = 'other-endpoint';
      continue;
    }
    for (const dir of ['fwd', 'rev'] as const) {
      const r = f.reached[dir];
      const along = alongOf[dir];
      const endHop = along[along.length - 1];
      if (r !== undefined && r !== endHop) {
        f.status = 'stopped';
        f.stoppedAfter = r;
        f.stoppedBefore = along[along.indexOf(r) + 1];
        break;
      }
    }
    // Requests that got no answer at all: the flow stopped where its requests did.
    if (
      f.status === 'complete' &&
      f.packets.rev === 0 &&
      f.reached.fwd === alongOf.fwd[alongOf.fwd.length - 1] &&
      f.protocol === 'tcp'
    ) {
      f.status = 'stopped';
      f.stoppedAfter = f.reached.fwd;
      f.stoppedBefore = undefined;
    }
  }

  const hopResults: HopResult[] = hops.map((h, i) => {
    const s = stats[i]!;
    // The step into this hop comes from the hop before it on each direction's way.
    const from = (dir: Dir) => {
      const along = alongOf[dir];
      const at = along.indexOf(i);
      return at > 0 ? along[at - 1] : undefined;
    };
    const latency = (dir: Dir): StepStats | undefined => {
      const f = from(dir);
      if (f === undefined) return undefined;
      const u = hops[f]!.node === h.node ? 0 : Math.max(offset.get(h.node)!.u, offset.get(hops[f]!.node)!.u);
      return Number.isFinite(u) ? stepStats(s.steps[dir], u) : undefined;
    };
    let pathPackets = 0;
    for (const note of notes[i]!) if (note) pathPackets++;
    return {
      passedBy: (['fwd', 'rev'] as const).filter((d) => !alongOf[d].includes(i)),
      packets: h.packets.length,
      pathPackets,
      fwd: { ...s.fwd, from: from('fwd'), latency: latency('fwd') },
      rev: { ...s.rev, from: from('rev'), latency: latency('rev') },
      retransmissions: s.retransmissions,
      nat: [...natSeen[i]!.values()].map(({ kind, from, to, flows }) => ({ kind, from, to, flows })),
    };
  });
  return { notes, hops: hopResults, flows: flowsOut, clock };
}

/** The translations between two tuples of one flow (SRC's side first in both). */
function translations(before: string, after: string): Array<{ kind: 'dnat' | 'snat'; from: string; to: string }> {
  const [, a1, b1] = before.split('|');
  const [, a2, b2] = after.split('|');
  const out: Array<{ kind: 'dnat' | 'snat'; from: string; to: string }> = [];
  if (b1 !== b2) out.push({ kind: 'dnat', from: b1!, to: b2! });
  if (a1 !== a2) out.push({ kind: 'snat', from: a1!, to: a2! });
  return out;
}

function describeNat(before: string, after: string): string {
  return translations(before, after)
    .map((x) => `${x.kind.toUpperCase()} ${x.from} → ${x.to}`)
    .join(', ');
}

/** TCP trips that resend bytes their flow's direction already sent (SYN and FIN count as one byte). */
function retransmissions(trips: readonly Trip[]): Set<Trip> {
  const out = new Set<Trip>();
  const byFlowDir = new Map<string, Trip[]>();
  for (const t of trips) {
    const f = t.obs[0]!.f;
    if (!f.tcp) continue;
    const len = f.payloadLength + (f.tcp.flags & (TcpFlags.SYN | TcpFlags.FIN) ? 1 : 0);
    if (len === 0) continue;
    const k = `${t.flow}|${t.dir}`;
    byFlowDir.set(k, [...(byFlowDir.get(k) ?? []), t]);
  }
  for (const list of byFlowDir.values()) {
    list.sort((a, b) => a.obs[0]!.t - b.obs[0]!.t);
    let high: number | undefined;
    for (const t of list) {
      const f = t.obs[0]!.f;
      const len = f.payloadLength + (f.tcp!.flags & (TcpFlags.SYN | TcpFlags.FIN) ? 1 : 0);
      const endSeq = (f.tcp!.seq + len) >>> 0;
      // Sequence space wraps: compare by the signed 32-bit difference.
      if (high !== undefined && (endSeq - high) << 0 <= 0) out.add(t);
      else high = endSeq;
    }
  }
  return out;
}
