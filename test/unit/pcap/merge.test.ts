// PacketMerger: ordering by watermark, the reorder window, the memory cap, late records, sources that
// end or appear mid-merge; a randomised run against the documented guarantees; and real overlapping
// tcpdump captures merged into one pcapng that tshark and capinfos read in time order.
//
// The clock is a fake (fakeClock) because the merger takes time as an input by design: the tests
// decide when time passes instead of sleeping, so nothing here is timed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { epochString, type PcapHeader, type PcapRecord } from '../../../src/pcap/format.ts';
import { fractionToNanos, PacketMerger, type MergedRecord } from '../../../src/pcap/merge.ts';
import {
  enhancedPacketBlockFromRecord,
  interfaceDescriptionBlock,
  interfaceFromPcapHeader,
  sectionHeaderBlock,
} from '../../../src/pcap/pcapng-writer.ts';
import { PcapStreamParser } from '../../../src/pcap/stream-reader.ts';
import {
  captureToFile,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../helpers/pcap/fixtures.ts';

function fakeClock(start = 0): { now: () => number; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (ms) => void (t = ms) };
}

const at = (r: MergedRecord<unknown>) => `${r.source}@${r.tsSec}.${String(r.tsNanos).padStart(9, '0')}`;
const brief = (rs: readonly MergedRecord<unknown>[]) => rs.map((r) => `${at(r)}:${r.reason}`);

function merger(opts: { windowMs?: number; maxBufferedBytes?: number; clock?: ReturnType<typeof fakeClock> } = {}) {
  const clock = opts.clock ?? fakeClock();
  return new PacketMerger<string>({
    windowMs: opts.windowMs ?? 1000,
    maxBufferedBytes: opts.maxBufferedBytes ?? 1e9,
    now: clock.now,
  });
}

describe('PacketMerger', () => {
  test('releases in timestamp order as soon as every live source has passed a record (watermark)', () => {
    const m = merger();
    m.addSource('a');
    m.addSource('b');
    for (const s of [1, 3, 5]) m.push('a', s, 0, 10, `a${s}`);
    assert.deepEqual(m.drain(), [], 'b has delivered nothing: anything of a could still be preceded by b');
    m.push('b', 2, 0, 10, 'b2');
    assert.deepEqual(brief(m.drain()), ['a@1.000000000:watermark', 'b@2.000000000:watermark']);
    m.push('b', 4, 0, 10, 'b4');
    assert.deepEqual(brief(m.drain()), ['a@3.000000000:watermark', 'b@4.000000000:watermark']);
    m.push('b', 6, 0, 10, 'b6');
    assert.deepEqual(brief(m.drain()), ['a@5.000000000:watermark']);
    m.endSource('a');
    assert.deepEqual(brief(m.drain()), ['b@6.000000000:watermark'], 'an ended source holds nothing back');
    assert.deepEqual(m.stats, {
      buffered: 0,
      bufferedBytes: 0,
      peakBufferedBytes: 40,
      emitted: 6,
      outOfOrder: 0,
      released: { watermark: 6, window: 0, memory: 0, late: 0, flush: 0 },
    });
  });

  test('nanoseconds order records within a second', () => {
    const m = merger();
    m.addSource('a');
    m.addSource('b');
    m.push('a', 7, 999_999_999, 1, 'x');
    m.push('b', 7, 1, 1, 'y');
    m.push('b', 8, 0, 1, 'z');
    assert.deepEqual(brief(m.drain()), ['b@7.000000001:watermark', 'a@7.999999999:watermark']);
  });

  test('an idle source holds records back only for the window, then they and everything before them go', () => {
    const clock = fakeClock(5000);
    const m = merger({ windowMs: 1000, clock });
    for (const s of ['a', 'b', 'c']) m.addSource(s);
    m.push('a', 10, 0, 1, 'a10');
    clock.set(5900);
    m.push('c', 7, 0, 1, 'c7');
    assert.deepEqual(m.drain(), [], 'b is silent');
    assert.equal(m.nextDeadline(), 6000, 'a10 waits at most until 5000 + 1000');
    clock.set(5999);
    assert.deepEqual(m.drain(), []);
    clock.set(6000);
    // c7 arrived only 100 ms ago but precedes a10, whose window ran out: both go, in order.
    assert.deepEqual(brief(m.drain()), ['c@7.000000000:window', 'a@10.000000000:window']);
    assert.equal(m.nextDeadline(), undefined, 'nothing left waiting');
  });

  test('a record arriving after later ones were emitted goes out at once, flagged and counted, never dropped', () => {
    const clock = fakeClock();
    const m = merger({ windowMs: 1000, clock });
    m.addSource('fast');
    m.addSource('slow');
    m.push('fast', 100, 0, 1, 'f100');
    m.push('fast', 101, 0, 1, 'f101');
    clock.set(1000);
    assert.deepEqual(brief(m.drain()), ['fast@100.000000000:window', 'fast@101.000000000:window']);
    // The slow node's packets from the same moment arrive now: too late to sort in.
    m.push('slow', 99, 0, 1, 's99');
    m.push('slow', 101, 0, 1, 's101');
    m.push('slow', 102, 0, 1, 's102');
    const out = m.drain();
    assert.deepEqual(brief(out), ['slow@99.000000000:late', 'slow@101.000000000:watermark']);
    assert.deepEqual(
      out.map((r) => r.outOfOrder),
      [true, false],
      'equal to the last emitted time is still in order',
    );
    assert.equal(m.stats.outOfOrder, 1);
    m.endSource('fast');
    m.endSource('slow');
    assert.deepEqual(brief(m.drain()), ['slow@102.000000000:watermark']);
    assert.equal(m.stats.emitted, 5);
  });

  test('the memory cap releases the oldest records until the buffer fits', () => {
    const m = merger({ maxBufferedBytes: 100, windowMs: Infinity });
    m.addSource('a');
    m.addSource('idle');
    m.push('a', 1, 0, 40, 'a1');
    m.push('a', 2, 0, 40, 'a2');
    assert.deepEqual(m.drain(), []);
    m.push('a', 3, 0, 40, 'a3');
    assert.equal(m.stats.bufferedBytes, 120);
    assert.deepEqual(brief(m.drain()), ['a@1.000000000:memory']);
    assert.equal(m.stats.bufferedBytes, 80);
    assert.equal(m.stats.peakBufferedBytes, 120);
    // A record too big for the cap on its own passes straight through (after what precedes it).
    m.push('a', 4, 0, 500, 'a4');
    assert.deepEqual(brief(m.drain()), ['a@2.000000000:memory', 'a@3.000000000:memory', 'a@4.000000000:memory']);
    assert.equal(m.stats.bufferedBytes, 0);
    // The idle source's first packet is older than what the cap pushed out: it is late.
    m.push('idle', 0, 5, 10, 'idle0');
    assert.deepEqual(brief(m.drain()), ['idle@0.000000005:late']);
    assert.equal(m.nextDeadline(), undefined, 'no window, no deadline');
  });

  test('a source added mid-merge holds back until its first record, its start time, or an advance()', () => {
    const m = merger();
    m.addSource('a');
    m.addSource('b');
    m.push('a', 1, 0, 1, 'a1');
    m.push('a', 2, 0, 1, 'a2');
    m.push('b', 1, 0, 1, 'b1');
    // Equal timestamps come out in arrival order.
    assert.deepEqual(brief(m.drain()), ['a@1.000000000:watermark', 'b@1.000000000:watermark']);
    m.addSource('c'); // a pod appears
    m.push('a', 3, 0, 1, 'a3');
    m.push('b', 3, 0, 1, 'b3');
    assert.deepEqual(m.drain(), [], 'c could still deliver something before 2');
    m.push('c', 2, 500_000_000, 1, 'c2.5');
    assert.deepEqual(brief(m.drain()), ['a@2.000000000:watermark', 'c@2.500000000:watermark']);
    m.endSource('c');
    assert.deepEqual(brief(m.drain()), ['a@3.000000000:watermark', 'b@3.000000000:watermark']);

    // With its start time known (the node's clock when tcpdump started), a new source blocks less.
    m.addSource('d', { tsSec: 3, tsNanos: 500_000_000 });
    m.push('a', 4, 0, 1, 'a4');
    m.endSource('b');
    assert.deepEqual(m.drain(), [], 'd may still deliver between 3.5 and 4');
    m.advance('d', 5, 0);
    assert.deepEqual(brief(m.drain()), ['a@4.000000000:watermark']);
    assert.deepEqual(m.liveSources, ['a', 'd']);
  });

  test('flush empties the buffer in order whatever the sources', () => {
    const m = merger({ windowMs: Infinity });
    m.addSource('a');
    m.addSource('b');
    m.push('a', 5, 0, 1, 'a5');
    m.push('a', 9, 0, 1, 'a9');
    m.push('b', 7, 0, 1, 'b7');
    assert.deepEqual(brief(m.drain()), ['a@5.000000000:watermark', 'b@7.000000000:watermark']);
    m.push('b', 8, 0, 1, 'b8');
    m.push('a', 10, 0, 1, 'a10');
    assert.deepEqual(brief(m.drain()), ['b@8.000000000:watermark']);
    assert.deepEqual(brief(m.flush()), ['a@9.000000000:flush', 'a@10.000000000:flush']);
    assert.equal(m.stats.buffered, 0);
  });

  test('misuse is an error: duplicate, unknown or ended sources, impossible timestamps', () => {
    const m = merger();
    m.addSource('a');
    assert.throws(() => m.addSource('a'), /already live/);
    assert.throws(() => m.push('x', 1, 0, 1, ''), /unknown merge source/);
    assert.throws(() => m.push('a', 1, 1_000_000_000, 1, ''), RangeError);
    assert.throws(() => m.push('a', 1.5, 0, 1, ''), RangeError);
    assert.throws(() => m.push('a', 1, 0, -1, ''), RangeError);
    m.endSource('a');
    assert.throws(() => m.push('a', 1, 0, 1, ''), /has ended/);
    assert.throws(() => m.endSource('a'), /has ended/);
    m.addSource('a'); // the same pod name again later: a new source
    m.push('a', 1, 0, 1, 'again');
    assert.deepEqual(brief(m.drain()), ['a@1.000000000:watermark']);
    assert.throws(() => new PacketMerger({ windowMs: -1, maxBufferedBytes: 1 }), RangeError);
    assert.throws(() => new PacketMerger({ windowMs: 1, maxBufferedBytes: NaN }), RangeError);
  });

  // Sources on "nodes" whose packets reach the client after per-source delays that drift over time;
  // the caller drains after every push and at every deadline, as the capture loop will.
  function simulate(opts: { windowMs: number; maxBufferedBytes: number; maxDelayMs: number; seed: number }) {
    let seed = opts.seed;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const sources = ['n1/a', 'n1/b', 'n2/c', 'n3/d', 'n3/e'];
    interface Arrival {
      source: string;
      ns: number; // kernel timestamp, ns since the start
      arrival: number; // client clock, ms
      id: number;
      bytes: number;
    }
    const arrivals: Arrival[] = [];
    let id = 0;
    for (const source of sources) {
      let ns = rand(1_000_000);
      let delay = rand(opts.maxDelayMs + 1);
      for (let i = 0; i < 400; i++) {
        ns += rand(20_000_000); // up to 20 ms between packets, ties possible
        delay = Math.max(0, Math.min(opts.maxDelayMs, delay + rand(21) - 10));
        // A source's stream keeps its order: arrival never goes back within a source.
        const prev = arrivals.findLast((a) => a.source === source);
        const arrival = Math.max(prev?.arrival ?? 0, Math.floor(ns / 1e6) + delay);
        arrivals.push({ source, ns, arrival, id: id++, bytes: 60 + rand(1500) });
      }
    }
    arrivals.sort((x, y) => x.arrival - y.arrival || x.id - y.id);

    const clock = fakeClock();
    const m = new PacketMerger<Arrival>({
      windowMs: opts.windowMs,
      maxBufferedBytes: opts.maxBufferedBytes,
      now: clock.now,
    });
    sources.forEach((s) => m.addSource(s));
    const out: { r: MergedRecord<Arrival>; at: number }[] = [];
    const drain = () => {
      for (const r of m.drain()) out.push({ r, at: clock.now() });
      assert.ok(m.stats.bufferedBytes <= opts.maxBufferedBytes, 'after draining, the buffer fits the cap');
    };
    for (const a of arrivals) {
      // The caller's timer: fire every deadline that comes before the next arrival.
      for (let d = m.nextDeadline(); d !== undefined && d <= a.arrival; d = m.nextDeadline()) {
        clock.set(Math.max(clock.now(), d));
        const before = out.length;
        drain();
        if (out.length === before) break; // the deadline passed with nothing to release
      }
      clock.set(a.arrival);
      m.push(a.source, Math.floor(a.ns / 1e9), a.ns % 1e9, a.bytes, a);
      drain();
    }
    sources.forEach((s) => m.endSource(s));
    drain();
    return { arrivals, out, stats: m.stats };
  }

  test('randomised: a window longer than the worst delay gives exactly sorted output', () => {
    for (const seed of [1, 2, 3]) {
      const { arrivals, out, stats } = simulate({ windowMs: 301, maxBufferedBytes: 1e9, maxDelayMs: 300, seed });
      assert.equal(out.length, arrivals.length);
      assert.deepEqual(new Set(out.map((o) => o.r.value.id)).size, arrivals.length, 'each record exactly once');
      const ns = out.map((o) => o.r.value.ns);
      assert.deepEqual(
        ns,
        [...ns].sort((x, y) => x - y),
        `seed ${seed}: sorted`,
      );
      assert.equal(stats.outOfOrder, 0);
      assert.ok(stats.released.window > 0, 'idle moments made the window release some records, still in order');
    }
  });

  test('randomised: a short window and a small cap lose nothing, bound the wait, and count every inversion', () => {
    for (const seed of [4, 5, 6]) {
      const { arrivals, out, stats } = simulate({ windowMs: 50, maxBufferedBytes: 6_000, maxDelayMs: 400, seed });
      assert.deepEqual(
        out.map((o) => o.r.value.id).sort((x, y) => x - y),
        arrivals.map((a) => a.id).sort((x, y) => x - y),
      );
      let max = -1;
      let inversions = 0;
      for (const { r, at } of out) {
        if (r.value.ns < max) inversions++;
        else max = r.value.ns;
        assert.equal(r.outOfOrder, r.value.ns < max, 'flag set exactly for records behind the output');
        assert.ok(at - r.value.arrival <= 50, `released within the window (waited ${at - r.value.arrival} ms)`);
      }
      assert.ok(inversions > 0, `seed ${seed}: this setup does produce late records`);
      assert.equal(stats.outOfOrder, inversions);
      assert.ok(stats.released.memory > 0, 'the cap was hit');
    }
  });
});

const skip = requireCaptureTools(['tcpdump', 'tshark', 'capinfos']);

describe('merging real overlapping tcpdump captures into one pcapng', { skip }, () => {
  const tmp = tempDir();
  const files = { a: join(tmp.dir, 'a.pcap'), b: join(tmp.dir, 'b-nano.pcap') };
  const src: Record<'a' | 'b', { header: PcapHeader; records: PcapRecord[] }> = {} as never;

  before(async () => {
    // Two "pods" talking at the same time, each captured by its own tcpdump (one of them at
    // nanosecond precision, as nodes may differ): their timestamps interleave.
    const sa = await httpServer('127.0.0.2', 3000);
    const sb = await httpServer('::1', 3000);
    // captureToFile calls the traffic function once its tcpdump listens; both wait for each other,
    // so the two exchanges really happen at the same time however slowly either tcpdump starts.
    let arrived = 0;
    let bothListening: () => void = () => {};
    const barrier = new Promise<void>((resolve) => (bothListening = resolve));
    const talk = (host: string, port: number) => async () => {
      if (++arrived === 2) bothListening();
      await barrier;
      for (let i = 0; i < 6; i++) {
        await httpGet(host, port, `/${i}`);
        await sleep(15);
      }
    };
    await Promise.all([
      captureToFile({ filter: `tcp port ${sa.port}` }, files.a, talk('127.0.0.2', sa.port)),
      captureToFile(
        { filter: `tcp port ${sb.port}`, args: ['--time-stamp-precision', 'nano'] },
        files.b,
        talk('::1', sb.port),
      ),
    ]);
    await sa.close();
    await sb.close();
    for (const k of ['a', 'b'] as const) {
      // Parse as the live path will: the stream parser fed in odd-sized chunks.
      const bytes = readFileSync(files[k]);
      const records: PcapRecord[] = [];
      const p = new PcapStreamParser({ onRecord: (r) => records.push(r) });
      for (let off = 0; off < bytes.length; off += 777) p.push(bytes.subarray(off, off + 777));
      src[k] = { header: p.header as PcapHeader, records };
    }
  });
  after(() => tmp.cleanup());

  // Feeds the sources in the given arrival order and writes the merged pcapng; returns its path.
  type Item = { k: 'a' | 'b'; r: PcapRecord };
  function mergeToFile(
    name: string,
    feed: (
      m: PacketMerger<Item>,
      clock: ReturnType<typeof fakeClock>,
      write: (rs: MergedRecord<Item>[]) => void,
    ) => void,
  ) {
    const clock = fakeClock();
    const m = new PacketMerger<Item>({ windowMs: 2000, maxBufferedBytes: 64 * 1024 * 1024, now: clock.now });
    m.addSource('a');
    m.addSource('b');
    const blocks = [sectionHeaderBlock({ userAppl: 'kubectl-netns test' })];
    blocks.push(interfaceDescriptionBlock(interfaceFromPcapHeader(src.a.header, { name: 'shop/a/eth0' })));
    blocks.push(interfaceDescriptionBlock(interfaceFromPcapHeader(src.b.header, { name: 'shop/b/eth0' })));
    const write = (rs: MergedRecord<Item>[]) => {
      for (const { value } of rs)
        blocks.push(enhancedPacketBlockFromRecord(value.k === 'a' ? 0 : 1, value.r, src[value.k].header.precision));
    };
    feed(m, clock, write);
    write(m.drain());
    m.endSource('a');
    m.endSource('b');
    write(m.drain());
    const file = join(tmp.dir, name);
    writeFileSync(file, Buffer.concat(blocks));
    return { file, stats: m.stats };
  }
  const push = (m: PacketMerger<Item>, k: 'a' | 'b', r: PcapRecord) =>
    m.push(k, r.tsSec, fractionToNanos(r.tsFrac, src[k].header.precision), r.capLen + 16, { k, r });

  // tshark's view of one source's packets, as it shows them in the source's own file.
  const SOURCE_FIELDS = ['frame.time_epoch', 'frame.len', 'tcp.srcport', 'tcp.seq_raw', 'tcp.len'];
  const strictOrder = (file: string) =>
    execFileSync('capinfos', ['-o', '-M', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).match(
      /Strict time order:\s+(\w+)/,
    )?.[1];

  test('one stream delivered entirely before the other still comes out interleaved in time order', () => {
    const { file, stats } = mergeToFile('merged.pcapng', (m) => {
      for (const r of src.a.records) push(m, 'a', r);
      for (const r of src.b.records) push(m, 'b', r);
    });
    assert.equal(stats.outOfOrder, 0);
    const rows = tsharkFields(file, ['frame.interface_id', ...SOURCE_FIELDS]);
    assert.equal(rows.length, src.a.records.length + src.b.records.length);
    // Really interleaved (the captures overlapped), and in order by tshark's own reading.
    const ids = rows.map((r) => r[0]).join('');
    assert.match(ids, /01.*10|10.*01/, `interface ids interleave: ${ids}`);
    const times = rows.map((r) => r[1] as string);
    assert.deepEqual(
      times,
      [...times].sort((x, y) => (BigInt(x.replace('.', '')) < BigInt(y.replace('.', '')) ? -1 : 1)),
    );
    assert.equal(strictOrder(file), 'True');
    // Each interface carries exactly its source's packets, unchanged.
    assert.deepEqual(
      rows.filter((r) => r[0] === '0').map((r) => r.slice(1)),
      tsharkFields(files.a, SOURCE_FIELDS),
    );
    assert.deepEqual(
      rows.filter((r) => r[0] === '1').map((r) => r.slice(1)),
      tsharkFields(files.b, SOURCE_FIELDS),
    );
    assert.deepEqual(
      rows.filter((r) => r[0] === '1').map((r) => r[1]),
      src.b.records.map((r) => epochString(r.tsSec, r.tsFrac, 'nsec')),
      'nanosecond times survive',
    );
  });

  test('a stream later than the window yields an out-of-order file that still holds every packet', () => {
    const { file, stats } = mergeToFile('late.pcapng', (m, clock, write) => {
      for (const r of src.a.records) push(m, 'a', r);
      clock.set(2000); // b's node is slow: a's records wait out the window and go
      const early = m.drain();
      assert.equal(early.length, src.a.records.length);
      write(early);
      for (const r of src.b.records) push(m, 'b', r);
    });
    assert.ok(stats.outOfOrder > 0);
    assert.equal(tsharkFields(file, ['frame.number']).length, src.a.records.length + src.b.records.length);
    assert.equal(strictOrder(file), 'False');
  });
});
