// A fetched spool (the agent's spool-tar, here packed with tar-stream as busybox tar lays it out)
// through spoolTarToStream and SpoolDemux into one pcap, with what the ring lost as gaps; and the
// `spools` listing parser. The agent test reads a real spool-tar of a real ring.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import tar from 'tar-stream';
import { parseSpools } from '../../../src/node/spool-list.ts';
import { SpoolDemux, type SpoolEnd, type SpoolGap } from '../../../src/node/spool-stream.ts';
import { spoolTarToStream } from '../../../src/node/spool-tar.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../src/pcap/writer.ts';
import { readPcap } from '../../helpers/pcap/reader.ts';

const HEADER = pcapGlobalHeader({ linkType: 1, snaplen: 262144 });
const rec = (n: number) => {
  const data = Buffer.alloc(80, 0x62);
  data.writeUInt32BE(n, 0);
  return pcapRecord({ tsSec: 1_700_000_000 + n, tsFrac: 0, data });
};
const ringFile = (from: number, to: number) =>
  Buffer.concat([HEADER, ...Array.from({ length: to - from }, (_, i) => rec(from + i))]);

async function tarOf(entries: Array<[string, Buffer | string]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of entries) pack.entry({ name, mode: 0o600 }, body);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function fetchAll(tarBytes: Buffer) {
  const gaps: SpoolGap[] = [];
  let end: SpoolEnd | undefined;
  const demux = new SpoolDemux({ onGap: (g) => gaps.push(g), onEnd: (e) => (end = e) });
  const out: Buffer[] = [];
  const collected = new Writable({
    write: (c: Buffer, _e, cb) => {
      out.push(Buffer.from(c));
      cb();
    },
  });
  demux.pipe(collected);
  const stream = new PassThrough();
  stream.pipe(demux);
  const fetched = await spoolTarToStream(Readable.from([tarBytes]), stream);
  stream.end();
  await finished(collected);
  return { fetched, gaps, end, numbers: readPcap(Buffer.concat(out)).records.map((r) => r.data.readUInt32BE(0)) };
}

describe('spoolTarToStream', () => {
  test('an ended ring whose oldest files were overwritten and one lost in between: one pcap, two gaps, the end', async () => {
    const bytes = await tarOf([
      ['meta', 'id abcd\nstarted 1700000000\ntarget shop/web-1\nby alice\n'],
      [
        'log',
        'tcpdump: listening on eth0\n20 packets captured\n21 packets received by filter\n0 packets dropped by kernel\n',
      ],
      ['lost', `0 ${ringFile(0, 4).length} 4\n1 ${ringFile(4, 8).length} 4\n3 ${ringFile(10, 14).length} 4\n`],
      ['end', '0\n'],
      ['ring.pcap2', ringFile(8, 10)],
      ['ring.pcap4', ringFile(14, 20)],
    ]);
    const r = await fetchAll(bytes);
    assert.deepEqual(r.numbers, [8, 9, 14, 15, 16, 17, 18, 19]);
    assert.deepEqual(
      r.gaps.map((g) => [g.afterPackets, g.fromSeq, g.toSeq, g.packets]),
      [
        [0, 0, 1, 8],
        [2, 3, 3, 4],
      ],
    );
    assert.deepEqual(r.end, { rc: 0, captured: 20, receivedByFilter: 21, droppedByKernel: 0 });
    assert.deepEqual(r.fetched.meta, { id: 'abcd', started: '1700000000', target: 'shop/web-1', by: 'alice' });
    assert.equal(r.fetched.exitStatus, 0);
    assert.deepEqual(r.fetched.files, [2, 4]);
  });

  test('a running capture: no end, and the file tcpdump still writes keeps only its whole records', async () => {
    const current = ringFile(5, 9);
    const bytes = await tarOf([
      ['meta', 'id x\n'],
      ['log', ''],
      ['lost', ''],
      ['ring.pcap', ringFile(0, 5)],
      ['ring.pcap1', current.subarray(0, current.length - 30)],
    ]);
    const r = await fetchAll(bytes);
    assert.deepEqual(r.numbers, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(r.end, undefined);
    assert.deepEqual(r.gaps, []);
    assert.equal(r.fetched.exitStatus, undefined);
  });
});

test('parseSpools: records with their meta, unknown lines skipped', () => {
  const out = [
    'spool\tab12\trunning\t3000000\t3\t4\t6\t2\t1890\t1700000000',
    'meta\tab12\ttarget\tshop/web-1',
    'meta\tab12\tby\talice@example.com',
    'spool\tcd34\tended:0\t0\t1\t0\t0\t0\t0\t1700000100',
    'meta\tcd34\tiface\teth0',
    'something\tnew',
    '',
  ].join('\n');
  assert.deepEqual(parseSpools(out), [
    {
      id: 'ab12',
      state: { running: true },
      bytes: 3000000,
      files: 3,
      firstFile: 4,
      lastFile: 6,
      lostFiles: 2,
      lostPackets: 1890,
      startedAt: 1700000000,
      meta: { target: 'shop/web-1', by: 'alice@example.com' },
    },
    {
      id: 'cd34',
      state: { running: false, exitStatus: 0 },
      bytes: 0,
      files: 1,
      firstFile: 0,
      lastFile: 0,
      lostFiles: 0,
      lostPackets: 0,
      startedAt: 1700000100,
      meta: { iface: 'eth0' },
    },
  ]);
});
