// SpoolDemux against streams shaped as the agent's reader sends them (markers, ring files with
// their own headers, lost files, the end), split at every byte, and against the mistakes a
// broken or foreign stream would show. The agent test (test/agent/spool.test.ts) runs it on the
// real agent's output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SPOOL_MARK,
  SpoolDemux,
  SpoolStreamError,
  type SpoolEnd,
  type SpoolGap,
} from '../../../src/node/spool-stream.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../src/pcap/writer.ts';
import { readPcap } from '../../helpers/pcap/reader.ts';

const HEADER = pcapGlobalHeader({ linkType: 1, snaplen: 262144 });

function mark(text: string): Buffer {
  return Buffer.concat([SPOOL_MARK, Buffer.from(`${text}\n`)]);
}

/** A record whose payload starts with its number N (as the agent test's UDP source does). */
function rec(n: number, size = 60): Buffer {
  const data = Buffer.alloc(size, 0x61);
  data.writeUInt32BE(n, 0);
  return pcapRecord({ tsSec: 1_700_000_000 + n, tsFrac: 0, data });
}

/** Ring file contents: its header and records FROM..TO-1. */
function ringFile(from: number, to: number, size?: number): Buffer {
  return Buffer.concat([HEADER, ...Array.from({ length: to - from }, (_, i) => rec(from + i, size))]);
}

interface Run {
  pcap: Buffer;
  gaps: SpoolGap[];
  done: number[];
  end: SpoolEnd | undefined;
  demux: SpoolDemux;
}

/** Pushes each stream of STREAMS (one per reader) through one demux in pieces of STEP bytes. */
async function run(streams: Buffer[], step: number): Promise<Run> {
  const gaps: SpoolGap[] = [];
  const done: number[] = [];
  let end: SpoolEnd | undefined;
  const demux = new SpoolDemux({
    onGap: (g) => gaps.push(g),
    onFileDone: (s) => done.push(s),
    onEnd: (e) => (end = e),
  });
  const out: Buffer[] = [];
  demux.on('data', (c: Buffer) => out.push(Buffer.from(c)));
  demux.on('error', () => {});
  for (const s of streams) {
    demux.restart();
    for (let i = 0; i < s.length; i += step) {
      await new Promise<void>((resolve, reject) =>
        demux.write(s.subarray(i, i + step), (e) => (e ? reject(e) : resolve())),
      );
    }
  }
  await new Promise<void>((resolve) => demux.end(resolve));
  return { pcap: Buffer.concat(out), gaps, done, end, demux };
}

function numbers(pcap: Buffer): number[] {
  return readPcap(pcap).records.map((r) => r.data.readUInt32BE(0));
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('SpoolDemux', () => {
  const whole = Buffer.concat([
    mark('file 0 0'),
    ringFile(0, 5),
    mark('file 1 0'),
    ringFile(5, 9, 1500),
    mark('file 2 0'),
    ringFile(9, 10),
    mark('end 0 10 12 0'),
  ]);

  test('three ring files become one pcap: first header kept, later ones dropped, split anywhere', async () => {
    for (const step of [1, 2, 7, 12, 13, 16, 17, 23, 24, 25, 100, 1000, whole.length]) {
      const r = await run([whole], step);
      assert.deepEqual(numbers(r.pcap), range(0, 10), `step ${step}`);
      assert.equal(r.pcap.subarray(0, 24).equals(HEADER), true);
      assert.deepEqual(r.done, [0, 1], `step ${step}`);
      assert.deepEqual(r.end, { rc: 0, captured: 10, receivedByFilter: 12, droppedByKernel: 0 });
      assert.deepEqual(r.gaps, []);
      assert.equal(r.demux.packets, 10);
      // Every byte of the ring passed: what "how far behind" compares with tcpdump's bytes written.
      assert.equal(r.demux.consumed, ringFile(0, 5).length + ringFile(5, 9, 1500).length + ringFile(9, 10).length);
    }
  });

  test('the position is just past the last complete record, and a new reader resumes from it exactly', async () => {
    const f0 = ringFile(0, 5);
    const f1 = ringFile(5, 9);
    // The first stream breaks inside record 6 (file 1): records 5 and 6... only 5 is whole.
    const cut = 24 + rec(5).length + 10;
    const first = Buffer.concat([mark('file 0 0'), f0, mark('file 1 0'), f1.subarray(0, cut)]);
    const probe = await run([first], 9);
    assert.deepEqual(probe.demux.position, { seq: 1, offset: 24 + rec(5).length });
    const second = Buffer.concat([
      mark(`file 1 ${24 + rec(5).length}`),
      f1.subarray(24 + rec(5).length),
      mark('end 0 9 9 0'),
    ]);
    for (const step of [1, 5, 16, 64]) {
      const r = await run([first, second], step);
      assert.deepEqual(numbers(r.pcap), range(0, 9), `step ${step}`);
      assert.deepEqual(r.gaps, []);
      assert.equal(r.end?.captured, 9);
    }
  });

  test('lost files make one gap, with the packets and bytes not received, reported before the next packet', async () => {
    const f1 = ringFile(3, 7);
    const s = Buffer.concat([
      mark('file 0 0'),
      ringFile(0, 3),
      mark(`lost 1 ${f1.length} 4`),
      mark('lost 2 1024 5'),
      mark('file 3 0'),
      ringFile(12, 14),
      mark('end 0 14 14 0'),
    ]);
    for (const step of [1, 3, 50, s.length]) {
      const r = await run([s], step);
      assert.deepEqual(numbers(r.pcap), [0, 1, 2, 12, 13]);
      assert.deepEqual(r.gaps, [{ afterPackets: 3, fromSeq: 1, toSeq: 2, packets: 9, bytes: f1.length - 24 + 1000 }]);
      assert.deepEqual(r.done, [0]);
      assert.equal(r.demux.consumed, ringFile(0, 3).length + f1.length + 1024 + ringFile(12, 14).length);
    }
  });

  test('a file lost after part of it arrived (the stream broke, then the ring wrapped) counts only the rest', async () => {
    const f0 = ringFile(0, 6);
    const part = 24 + rec(0).length * 2;
    const first = Buffer.concat([mark('file 0 0'), f0.subarray(0, part + 3)]);
    const second = Buffer.concat([
      mark(`lost 0 ${f0.length} 6`),
      mark('file 1 0'),
      ringFile(6, 8),
      mark('end 0 8 8 0'),
    ]);
    const r = await run([first, second], 4);
    assert.deepEqual(numbers(r.pcap), [0, 1, 6, 7]);
    assert.deepEqual(r.gaps, [{ afterPackets: 2, fromSeq: 0, toSeq: 0, packets: 4, bytes: f0.length - part }]);
  });

  test('a count the node could not make stays unknown', async () => {
    const s = Buffer.concat([mark('file 0 0'), ringFile(0, 1), mark('lost 1 - -'), mark('file 2 0'), ringFile(5, 6)]);
    const r = await run([s], 11);
    assert.deepEqual(r.gaps, [{ afterPackets: 1, fromSeq: 1, toSeq: 1, packets: undefined, bytes: undefined }]);
  });

  test('a stream out of step is an error, not a silent gap or duplicate', async () => {
    const base = [mark('file 0 0'), ringFile(0, 2)];
    const cases: Array<[RegExp, Buffer[]]> = [
      [
        /resumed ring file 0 at byte 30, but we are at byte 176/,
        [Buffer.concat(base), Buffer.concat([mark('file 0 30'), rec(9)])],
      ],
      [
        /ring file 2 follows ring file 0 with no lost marker/,
        [Buffer.concat([...base, mark('file 2 0'), ringFile(4, 5)])],
      ],
      [/ring file 0 after ring file 1/, [Buffer.concat([...base, mark('file 1 0'), ringFile(2, 3), mark('file 0 0')])]],
      [/starts inside ring file 3/, [Buffer.concat([mark('file 3 500'), rec(1)])]],
      [/expected a marker/, [ringFile(0, 1)]],
      [/unknown marker "rewind 0"/, [Buffer.concat([mark('file 0 0'), HEADER, mark('rewind 0')])]],
      [/bytes after the end marker/, [Buffer.concat([...base, mark('end 0 2 2 0'), rec(3)])]],
      [
        /another link type/,
        [Buffer.concat([...base, mark('file 1 0'), pcapGlobalHeader({ linkType: 113, snaplen: 262144 })])],
      ],
    ];
    for (const [message, streams] of cases) {
      await assert.rejects(run(streams, 5), (e: unknown) => e instanceof SpoolStreamError && message.test(e.message));
    }
  });
});
