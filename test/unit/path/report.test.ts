// The report document and the packet comments, from a real two-node capture (fixtures/README.md):
// the documented JSON shape (docs/output.md), hops in path order with their step from the
// previous hop, cross-node figures never finer than the clock allows, and comments that name the
// flow, the hop and the step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { correlate } from '../../../src/path/correlate.ts';
import { decodeFields } from '../../../src/path/decode.ts';
import type { PlannedHop } from '../../../src/path/hops.ts';
import { buildReport, packetComment, stepText, type PathReport } from '../../../src/path/report.ts';
import { renderPathReport } from '../../../src/output/path-view.ts';
import { readPcapng } from '../../helpers/pcap/reader.ts';
import { checkShape, documentedShape } from '../../helpers/shape.ts';

const dir = new URL('fixtures/', import.meta.url);
const recorded = (JSON.parse(readFileSync(new URL('two-nodes.json', dir), 'utf8')) as { report: PathReport }).report;
const file = readPcapng(readFileSync(new URL('two-nodes.pcapng', dir)));
const base = Math.min(...file.packets.map((p) => p.tsSec));
const hops: PlannedHop[] = recorded.hops.map((h) => ({
  node: h.node,
  role: h.where,
  side: h.side,
  iface: h.interface,
  pod: undefined,
  podIface: undefined,
  name: h.name,
  description: h.description,
}));
const result = correlate({
  hops: hops.map((h, i) => ({
    node: h.node,
    packets: file.packets
      .filter((p) => p.interfaceId === i)
      .map((p) => ({
        tNs: (p.tsSec - base) * 1e9 + p.tsNanos,
        fields: decodeFields(file.interfaces[i]!.linkType, p.data),
      })),
    window: {},
  })),
  src: recorded.src.addresses,
  dst: recorded.dst.addresses,
  firstDstHop: 3,
});
const report = buildReport({
  src: recorded.src,
  dst: recorded.dst,
  file: 'two-nodes.pcapng',
  hops,
  droppedByKernel: hops.map(() => 0),
  result,
  notes: [],
});

test('the report has the documented shape, hops in path order, the first without a step', () => {
  checkShape(JSON.parse(JSON.stringify(report)), documentedShape('PathReport'));
  assert.deepEqual(
    report.hops.map((h) => h.index),
    [0, 1, 2, 3, 4, 5],
  );
  assert.equal(report.hops[0]!.latency, null);
  assert.equal(report.hops[5]!.replyLatency, null);
  for (const h of report.hops.slice(1)) assert.equal(h.latency!.fromHop, h.index - 1);
  for (const h of report.hops.slice(0, 5)) assert.equal(h.replyLatency!.fromHop, h.index + 1);
});

test('a step between the nodes carries the clock uncertainty and is not written finer than it', () => {
  const cross = report.hops[3]!.latency!;
  const u = cross.uncertaintyMs;
  assert.ok(u > 0);
  const step = 10 ** -Math.max(0, Math.floor(-Math.log10(u)));
  for (const v of [cross.p50Ms, cross.p99Ms, cross.maxMs]) {
    assert.ok(Math.abs(v / step - Math.round(v / step)) < 1e-9, `${v} is finer than ±${u}`);
  }
  // On one node: microseconds, no uncertainty.
  assert.equal(report.hops[1]!.latency!.uncertaintyMs, 0);
  assert.equal(stepText(1_234_567, 0), '+1.235 ms');
  assert.equal(stepText(1_234_567, 40_000), '+1.2 ms ±0.04');
  assert.equal(report.clock!.reference, 'knetns-node');
  assert.ok(report.clock!.uncertaintyMs! > 0);
});

test('each packet of a flow has a comment with its flow, direction, hop and step', () => {
  let commented = 0;
  result.notes.forEach((perHop, hop) =>
    perHop.forEach((note) => {
      if (!note) return;
      commented++;
      const text = packetComment(note, hop, hops, result.flows[note.flow]!);
      assert.match(text, new RegExp(`^flow ${note.flow + 1} (forward|reply), hop ${hop + 1}/6, .*; (tcp|icmp) `));
      if (note.origin) assert.match(text, /first sighting/);
      else assert.match(text, /[+-]\d+(\.\d+)? ms( ±[\d.]+)? from hop \d/);
    }),
  );
  assert.equal(
    commented,
    report.hops.reduce((n, h) => n + h.pathPackets, 0),
  );
});

test('the text report: one row per hop, the clocks, one line per flow', () => {
  const text = renderPathReport(report, false);
  for (const h of report.hops) assert.ok(text.includes(h.name), h.name);
  assert.match(text, /^clocks: knetns-node2 is -?[\d.]+ ms ahead of knetns-node, ±[\d.]+ ms/m);
  assert.equal(text.split('\n').filter((l) => /^flow \d+ /.test(l)).length, Math.min(10, report.flows.length));
  if (report.flows.length > 10) assert.match(text, new RegExp(`^${report.flows.length - 10} more flow`, 'm'));
});
