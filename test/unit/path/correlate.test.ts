// The correlation on real captures: pcapng files `kubectl netns path` wrote on the local two-node
// cluster (recorded by test/e2e/path.test.ts with KNETNS_RECORD_PATH_FIXTURES=1; see
// fixtures/README.md), read back hop by hop and correlated again from the raw packets. What the
// test expects comes from the traffic (ping's own count, the iptables rule's drop counter, the
// Service and pod addresses), not from the report that was recorded with the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { correlate, type CorrelateResult, type HopInput } from '../../../src/path/correlate.ts';
import { decodeFields } from '../../../src/path/decode.ts';
import type { PathReport } from '../../../src/path/report.ts';
import { readPcapng, type PcapngFile } from '../../helpers/pcap/reader.ts';

interface Fixture {
  facts: Record<string, unknown>;
  report: PathReport;
  file: PcapngFile;
}

function fixture(name: string): Fixture {
  const dir = new URL('fixtures/', import.meta.url);
  const { facts, report } = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as Omit<Fixture, 'file'>;
  return { facts, report, file: readPcapng(readFileSync(new URL(`${name}.pcapng`, dir))) };
}

/** The hops of a fixture as the correlation takes them; SHIFT_NS moves one node's clock. */
function hopInputs(f: Fixture, shift: { node?: string; ns?: number } = {}): HopInput[] {
  const base = Math.min(...f.file.packets.map((p) => p.tsSec));
  const t = (sec: number, nanos: number) => (sec - base) * 1e9 + nanos;
  return f.report.hops.map((h, i) => {
    const s = h.node === shift.node ? (shift.ns ?? 0) : 0;
    const isb = f.file.statistics.find((x) => x.interfaceId === i);
    return {
      node: h.node,
      packets: f.file.packets
        .filter((p) => p.interfaceId === i)
        .map((p) => ({ tNs: t(p.tsSec, p.tsNanos) + s, fields: decodeFields(f.file.interfaces[i]!.linkType, p.data) })),
      window: {
        startNs: isb?.startTime ? t(isb.startTime.tsSec, isb.startTime.tsNanos) + s : undefined,
        endNs: isb?.endTime ? t(isb.endTime.tsSec, isb.endTime.tsNanos) + s : undefined,
      },
    };
  });
}

function run(f: Fixture, shift: { node?: string; ns?: number } = {}): CorrelateResult {
  const r = f.report;
  const dstPod = r.dst.kind === 'ip' ? [] : r.dst.addresses;
  return correlate({
    hops: hopInputs(f, shift),
    src: r.src.addresses,
    dst: dstPod,
    firstDstHop: Math.max(
      0,
      r.hops.findIndex((h) => h.side === 'dst'),
    ),
  });
}

test('the file holds one interface per hop, named as the report names them, each with its capture window', () => {
  for (const name of ['same-node', 'two-nodes', 'service', 'loss']) {
    const f = fixture(name);
    assert.deepEqual(
      f.file.interfaces.map((i) => i.name),
      f.report.hops.map((h) => h.name),
      name,
    );
    for (const s of f.file.statistics) assert.ok(s.startTime && s.endTime, `${name}: ISB without its window`);
  }
});

test('one node: the bridge is no hop; every ping request passes all four hops, nothing is lost', () => {
  const f = fixture('same-node');
  const r = run(f);
  assert.equal(r.hops.length, 4);
  const icmp = r.flows.filter((x) => x.protocol === 'icmp');
  assert.equal(icmp.length, 1);
  assert.deepEqual(icmp[0]!.packets, { fwd: f.facts.pings, rev: f.facts.pings });
  assert.equal(r.flows.filter((x) => x.protocol === 'tcp').length, f.facts.requests);
  for (const h of r.hops) {
    assert.deepEqual([h.fwd.lostBefore, h.rev.lostBefore, h.fwd.missed, h.rev.missed], [0, 0, 0, 0]);
    assert.equal(h.fwd.seen, r.hops[0]!.fwd.seen, 'every forward trip at every hop');
  }
  assert.ok(r.flows.every((x) => x.status === 'complete'));
  assert.equal(r.clock, undefined, 'one node, one clock');
});

test('two nodes: the clock estimate holds the true offset (0: one machine), and a simulated offset is found and taken out', () => {
  const f = fixture('two-nodes');
  const plain = run(f);
  const est = plain.clock!.estimate!;
  assert.ok(Math.abs(est.offsetNs) <= est.uncertaintyNs, JSON.stringify(est));
  for (const offsetNs of [250e6, -3.2e9]) {
    const shifted = run(f, { node: 'knetns-node2', ns: offsetNs });
    const e = shifted.clock!.estimate!;
    // The shift is found to within the uncertainty the method states, and that uncertainty is the
    // same as without it (it comes from the crossings' spread, not from the offset).
    assert.ok(Math.abs(e.offsetNs - offsetNs) <= e.uncertaintyNs, `${offsetNs}: ${JSON.stringify(e)}`);
    assert.ok(Math.abs(e.uncertaintyNs - est.uncertaintyNs) < 1000, JSON.stringify([e, est]));
    // Every step, the cross-node one too, is what it was with one clock: within the uncertainty.
    shifted.hops.forEach((h, i) => {
      for (const dir of ['fwd', 'rev'] as const) {
        const a = h[dir].latency;
        const b = plain.hops[i]![dir].latency;
        assert.equal(a?.count, b?.count, `hop ${i} ${dir}`);
        if (a && b) {
          assert.ok(Math.abs(a.p50Ns - b.p50Ns) <= a.uncertaintyNs + 1, `hop ${i} ${dir} p50 ${a.p50Ns} vs ${b.p50Ns}`);
          assert.ok(Math.abs(a.maxNs - b.maxNs) <= a.uncertaintyNs + 1, `hop ${i} ${dir} max`);
        }
      }
      assert.deepEqual([h.fwd.lostBefore, h.rev.lostBefore], [0, 0], `hop ${i}: a shifted clock invents no loss`);
    });
  }
});

test('without crossings both ways there is no clock estimate and no cross-node step', () => {
  const f = fixture('two-nodes');
  // Keep only the forward packets: nothing came back across the nodes.
  const src = new Set(f.report.src.addresses);
  const hops = hopInputs(f).map((h) => ({ ...h, packets: h.packets.filter((p) => p.fields && src.has(p.fields.src)) }));
  const r = correlate({ hops, src: f.report.src.addresses, dst: f.report.dst.addresses, firstDstHop: 3 });
  assert.equal(r.clock?.estimate, undefined);
  assert.equal(r.hops[3]!.fwd.latency, undefined, 'the step between the nodes is not reported');
  assert.ok(r.hops[4]!.fwd.latency, 'steps on one node still are');
});

test("through a Service: its IP is rewritten to the pod's between the client's veth and node 1's uplink, for every connection", () => {
  const f = fixture('service');
  const r = run(f);
  const [svcHost, svcPort] = String(f.facts.service).split(':');
  const dnat = r.hops[2]!.nat;
  assert.deepEqual(dnat, [{ kind: 'dnat', from: f.facts.service, to: f.facts.pod, flows: f.facts.requests }]);
  for (const i of [0, 1, 3, 4, 5]) assert.deepEqual(r.hops[i]!.nat, [], `hop ${i}`);
  const tcp = r.flows.filter((x) => x.protocol === 'tcp');
  assert.equal(tcp.length, f.facts.requests);
  for (const flow of tcp) {
    // The flow is named as the client saw it: the Service's address, not the pod's.
    assert.equal(flow.server, `${svcHost}:${svcPort}`);
    assert.equal(flow.status, 'complete');
  }
  // Every packet of those flows at the pod's hops was matched although its addresses differ.
  assert.equal(r.hops[5]!.fwd.seen + r.hops[5]!.rev.seen, r.hops[0]!.fwd.seen + r.hops[0]!.rev.seen);
});

test("loss after node 2's uplink: exactly the requests the iptables rule dropped are lost before node 2's veth, nowhere else", () => {
  const f = fixture('loss');
  const r = run(f);
  const dropped = f.facts.droppedByRule as number;
  assert.ok(dropped > 0);
  const veth = f.report.hops.findIndex((h) => h.node === 'knetns-node2' && h.where === 'veth');
  assert.equal(r.hops[veth]!.fwd.lostBefore, dropped);
  r.hops.forEach((h, i) => {
    if (i !== veth) assert.equal(h.fwd.lostBefore, 0, `hop ${i}`);
    assert.equal(h.rev.lostBefore, 0, `hop ${i}: replies were not dropped`);
  });
  const icmp = r.flows.find((x) => x.protocol === 'icmp')!;
  assert.deepEqual(icmp.packets, { fwd: f.facts.pings, rev: (f.facts.pings as number) - dropped });
  assert.equal(icmp.lost.fwd, dropped);
  // Each dropped request's last sighting says where it was lost.
  const lastSeen = r.notes[veth - 1]!.filter((n) => n?.end === 'lost');
  assert.equal(lastSeen.length, dropped);
  assert.ok(lastSeen.every((n) => n!.lostBefore === veth));
});

test('a hop that was not listening yet, or any more, does not make packets lost', () => {
  const f = fixture('loss');
  const hops = hopInputs(f);
  const veth = f.report.hops.findIndex((h) => h.node === 'knetns-node2' && h.where === 'veth');
  // Pretend node 2's veth and pod hops stopped listening before the traffic came.
  const late = hops.map((h, i) =>
    i >= veth ? { ...h, packets: [], window: { ...h.window, endNs: h.window.startNs } } : h,
  );
  const r = correlate({ hops: late, src: f.report.src.addresses, dst: f.report.dst.addresses, firstDstHop: 3 });
  assert.equal(r.hops[veth]!.fwd.lostBefore, 0);
  assert.ok(r.hops[veth]!.fwd.unknown > 0);
});
