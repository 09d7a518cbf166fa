// fetchMany with fake agents (named so; the real path is test/e2e/detach.test.ts's workload
// test): two pods' spools, as their spool-tar snapshots, into one pcapng, each pod its own
// interface, a wrapped ring marked on the first packet after its gap, tcpdump's counts summed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { fetchMany } from '../../../../src/commands/shared/fetch-many.ts';
import type { AgentExec } from '../../../../src/node/agent-ops.ts';
import type { V1Pod } from '../../../../src/kube/client.ts';
import type { DetachedSpool } from '../../../../src/output/captures-view.ts';
import type { CaptureSink } from '../../../../src/output/sink.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../../src/pcap/writer.ts';
import { readPcapng } from '../../../helpers/pcap/reader.ts';

const HEADER = pcapGlobalHeader({ linkType: 1, snaplen: 262144 });
const rec = (n: number) => {
  const data = Buffer.alloc(60, 0x61);
  data.writeUInt32BE(n, 0);
  return pcapRecord({ tsSec: 1_700_000_000 + n, tsFrac: 0, data });
};

async function tarOf(entries: Array<[string, Buffer | string]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of entries) pack.entry({ name, mode: 0o600 }, body);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack as unknown as Readable) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const fakeAgent = (bytes: Buffer): AgentExec =>
  ({
    exec: (_argv, io) => {
      io.stdout?.write(bytes);
      return Promise.resolve({ exitCode: 0 });
    },
  }) as AgentExec;

function memorySink(): CaptureSink & { bytes: () => Buffer } {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  stream.on('data', (c: Buffer) => parts.push(c));
  return {
    stream,
    description: 'memory',
    gone: new Promise(() => {}),
    failed: new Promise(() => {}),
    finish: () => new Promise<void>((resolve) => stream.end(resolve)),
    discard: () => Promise.resolve(),
    bytes: () => Buffer.concat(parts),
  };
}

const spool = (id: string, target: string): DetachedSpool => ({
  id: '7f3a9c21',
  namespace: 'shop',
  pod: `netns-${id}`,
  node: 'n1',
  startedBy: 'alice',
  deadline: undefined,
  spool: {
    id,
    state: { running: false, exitStatus: 0 },
    bytes: 0,
    files: 1,
    firstFile: 0,
    lastFile: 0,
    lostFiles: 0,
    lostPackets: 0,
    startedAt: 1_700_000_000,
    meta: { target, iface: 'eth0' },
  },
});

test('two pods into one pcapng: an interface each, in time order, a gap marked, the counts summed', async () => {
  const a = await tarOf([
    ['meta', 'id 7f3a9c21-0\n'],
    ['log', '3 packets captured\n3 packets received by filter\n0 packets dropped by kernel\n'],
    ['lost', ''],
    ['end', '0\n'],
    ['ring.pcap', Buffer.concat([HEADER, rec(0), rec(2), rec(4)])],
  ]);
  const b = await tarOf([
    ['meta', 'id 7f3a9c21-1\n'],
    ['log', '4 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n'],
    ['lost', '0 100 1\n'],
    ['end', '0\n'],
    ['ring.pcap1', Buffer.concat([HEADER, rec(3), rec(5), rec(7)])],
  ]);
  const pods = { a: { metadata: { name: 'a' } }, b: { metadata: { name: 'b' } } } satisfies Record<string, V1Pod>;
  const sink = memorySink();
  const r = await fetchMany(
    (pod) => fakeAgent(pod.metadata?.name === 'a' ? a : b),
    [
      { pod: pods.a, spool: spool('7f3a9c21-0', 'shop/web-a') },
      { pod: pods.b, spool: spool('7f3a9c21-1', 'shop/web-b') },
    ],
    sink,
    { follow: false, reconnectMs: 0, signal: new AbortController().signal },
  );
  assert.equal(r.packets, 6);
  assert.equal(r.ended, true);
  assert.equal(r.captured, 7);
  assert.deepEqual(
    r.gaps.map((g) => [g.fromSeq, g.packets]),
    [[0, 1]],
  );
  const png = readPcapng(sink.bytes());
  assert.deepEqual(
    png.interfaces.map((i) => i.name),
    ['shop/web-a/eth0', 'shop/web-b/eth0'],
  );
  assert.deepEqual(
    png.packets.map((p) => [png.interfaces[p.interfaceId]!.name, p.data.readUInt32BE(0)]),
    [
      ['shop/web-a/eth0', 0],
      ['shop/web-a/eth0', 2],
      ['shop/web-b/eth0', 3],
      ['shop/web-a/eth0', 4],
      ['shop/web-b/eth0', 5],
      ['shop/web-b/eth0', 7],
    ],
  );
});
