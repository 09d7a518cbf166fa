// PcapStreamParser against real tcpdump output, checked field by field with tshark, fed in every
// way a pipe can split it. Fixtures are captured at test time (see fixtures.ts).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PcapFormatError } from '../../../src/pcap/error.ts';
import { epochString, LinkType, type PcapHeader, type PcapRecord } from '../../../src/pcap/format.ts';
import { readPcap } from '../../helpers/pcap/reader.ts';
import { PcapStreamParser } from '../../../src/pcap/stream-reader.ts';
import { pcapRecord } from '../../../src/pcap/writer.ts';
import {
  captureToFile,
  captureToStdout,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../helpers/pcap/fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark']);

interface Parsed {
  header: PcapHeader | undefined;
  records: PcapRecord[];
  totals: { packets: number; streamBytes: number; capturedBytes: number; wireBytes: number; completeOffset: number };
}

function totalsOf(p: PcapStreamParser): Parsed['totals'] {
  const { packets, streamBytes, capturedBytes, wireBytes, completeOffset } = p;
  return { packets, streamBytes, capturedBytes, wireBytes, completeOffset };
}

// Feeds buf in pieces ending at the given cut offsets to two fresh parsers: one collecting records,
// and one counting only (which skips straddling bodies instead of assembling them); both must agree.
function parseInPieces(buf: Buffer, cuts: readonly number[]): Parsed {
  const records: PcapRecord[] = [];
  const p = new PcapStreamParser({ onRecord: (r) => records.push(r) });
  const counter = new PcapStreamParser();
  let start = 0;
  for (const cut of [...cuts, buf.length]) {
    p.push(buf.subarray(start, cut));
    counter.push(buf.subarray(start, cut));
    start = cut;
  }
  assert.deepEqual(totalsOf(counter), totalsOf(p), 'counting-only parser agrees');
  assert.deepEqual(counter.header, p.header);
  return { header: p.header, records, totals: totalsOf(p) };
}

// The fields tshark reports for each frame, from our records.
function asTsharkRows(records: readonly PcapRecord[], header: PcapHeader): string[][] {
  return records.map((r) => [String(r.origLen), String(r.capLen), epochString(r.tsSec, r.tsFrac, header.precision)]);
}
const TSHARK_FRAME_FIELDS = ['frame.len', 'frame.cap_len', 'frame.time_epoch'];

// Offsets at which each record starts (the header is 24 bytes).
function recordStarts(records: readonly PcapRecord[]): number[] {
  const starts: number[] = [];
  let off = 24;
  for (const r of records) {
    starts.push(off);
    off += 16 + r.capLen;
  }
  return starts;
}

describe('PcapStreamParser on real tcpdump captures', { skip }, () => {
  const tmp = tempDir();
  const files = {
    small: join(tmp.dir, 'small.pcap'),
    big: join(tmp.dir, 'big.pcap'),
    nano: join(tmp.dir, 'nano.pcap'),
    any: join(tmp.dir, 'any.pcap'),
    sll1: join(tmp.dir, 'sll1.pcap'),
  };

  before(async () => {
    // small: one short HTTP exchange (~10 packets); big: a 2 MB response, so 64 KiB GSO segments.
    const srv = await httpServer('127.0.0.1', 16);
    const bigSrv = await httpServer('127.0.0.1', 2_000_000);
    const get = (port: number) => async () => void (await httpGet('127.0.0.1', port, '/index.html'));
    await captureToFile({ filter: `tcp port ${srv.port}` }, files.small, get(srv.port));
    await captureToFile({ filter: `tcp port ${bigSrv.port}` }, files.big, get(bigSrv.port));
    await captureToFile(
      { filter: `tcp port ${srv.port}`, args: ['--time-stamp-precision', 'nano'] },
      files.nano,
      get(srv.port),
    );
    await captureToFile({ iface: 'any', filter: `tcp port ${srv.port}` }, files.any, get(srv.port));
    await captureToFile(
      { iface: 'any', filter: `tcp port ${srv.port}`, args: ['-y', 'LINUX_SLL'] },
      files.sll1,
      get(srv.port),
    );
    await srv.close();
    await bigSrv.close();
  });
  after(() => tmp.cleanup());

  test('every header field and every record agrees with tshark, for each tcpdump variant', () => {
    const expected: Record<keyof typeof files, { linkType: number; precision: string }> = {
      small: { linkType: LinkType.EN10MB, precision: 'usec' },
      big: { linkType: LinkType.EN10MB, precision: 'usec' },
      nano: { linkType: LinkType.EN10MB, precision: 'nsec' },
      any: { linkType: LinkType.LINUX_SLL2, precision: 'usec' },
      sll1: { linkType: LinkType.LINUX_SLL, precision: 'usec' },
    };
    for (const [name, file] of Object.entries(files) as [keyof typeof files, string][]) {
      const buf = readFileSync(file);
      const f = readPcap(buf);
      assert.equal(f.header.byteOrder, 'le', name);
      assert.equal(f.header.versionMajor, 2);
      assert.equal(f.header.versionMinor, 4);
      assert.equal(f.header.snaplen, 262144, name);
      assert.equal(f.header.linkType, expected[name].linkType, name);
      assert.equal(f.header.precision, expected[name].precision, name);
      assert.equal(f.truncatedBytes, 0, name);
      assert.equal(f.completeOffset, buf.length, name);
      assert.ok(f.records.length >= 8, `${name}: a TCP exchange has at least 8 packets, got ${f.records.length}`);
      assert.deepEqual(asTsharkRows(f.records, f.header), tsharkFields(file, TSHARK_FRAME_FIELDS), name);
    }
    // The magic really is the nanosecond one, and the SLL2 link type is what tcpdump 4.99 picks for -i any.
    assert.equal(readFileSync(files.nano).readUInt32LE(0), 0xa1b23c4d);
    assert.ok(
      readPcap(readFileSync(files.nano)).records.some((r) => r.tsFrac % 1000 !== 0),
      'nanosecond fractions present',
    );
  });

  test('the big capture has 64 KiB GSO records and running totals add up', () => {
    const buf = readFileSync(files.big);
    const f = readPcap(buf);
    const maxCap = Math.max(...f.records.map((r) => r.capLen));
    assert.ok(maxCap > 16000, `expected GSO-sized loopback segments, largest was ${maxCap}`);
    const parsed = parseInPieces(buf, []);
    assert.equal(parsed.totals.packets, f.records.length);
    assert.equal(parsed.totals.streamBytes, buf.length);
    assert.equal(
      parsed.totals.capturedBytes,
      f.records.reduce((s, r) => s + r.capLen, 0),
    );
    assert.equal(
      parsed.totals.wireBytes,
      f.records.reduce((s, r) => s + r.origLen, 0),
    );
    assert.equal(parsed.totals.capturedBytes + 16 * f.records.length + 24, buf.length);
    const tsharkTotal = tsharkFields(files.big, ['frame.len']).reduce((s, [len]) => s + Number(len), 0);
    assert.equal(parsed.totals.wireBytes, tsharkTotal);
  });

  test('records inside one chunk are views of it, not copies', () => {
    const buf = readFileSync(files.small);
    const { records } = parseInPieces(buf, []);
    for (const r of records) assert.equal(r.data.buffer, buf.buffer);
  });

  test('every single split position gives identical results', () => {
    const buf = readFileSync(files.small);
    const whole = parseInPieces(buf, []);
    for (let cut = 0; cut <= buf.length; cut++) {
      assert.deepEqual(parseInPieces(buf, [cut]), whole, `split at ${cut}`);
    }
  });

  test('every pair of split positions around the header and first records gives identical results', () => {
    const buf = readFileSync(files.small);
    const whole = parseInPieces(buf, []);
    const upto = Math.min(buf.length, 200);
    for (let i = 0; i <= upto; i++) {
      for (let j = i; j <= upto; j++) assert.deepEqual(parseInPieces(buf, [i, j]), whole, `split at ${i}, ${j}`);
    }
  });

  test('one byte at a time gives identical results', () => {
    for (const file of [files.small, files.nano, files.any]) {
      const buf = readFileSync(file);
      const cuts = Array.from({ length: buf.length }, (_, i) => i);
      assert.deepEqual(parseInPieces(buf, cuts), parseInPieces(buf, []));
    }
  });

  test('random chunk sizes over the big capture give identical results', () => {
    const buf = readFileSync(files.big);
    const whole = parseInPieces(buf, []);
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const maxChunk = [7, 100, 1500, 65536, 200000][round % 5] as number;
      const cuts: number[] = [];
      for (let off = 1 + Math.floor(rand() * maxChunk); off < buf.length; off += 1 + Math.floor(rand() * maxChunk))
        cuts.push(off);
      assert.deepEqual(parseInPieces(buf, cuts), whole, `round ${round}, chunks up to ${maxChunk}`);
    }
  });

  test('a cut-off trailing record leaves completeOffset at its start; truncating there gives a file tshark reads cleanly', () => {
    const buf = readFileSync(files.small);
    const full = readPcap(buf);
    const starts = recordStarts(full.records);
    const lastStart = starts[starts.length - 1] as number;
    for (let cut = lastStart; cut < buf.length; cut++) {
      const f = readPcap(buf.subarray(0, cut));
      assert.equal(f.records.length, full.records.length - 1, `cut at ${cut}`);
      assert.equal(f.completeOffset, lastStart);
      assert.equal(f.truncatedBytes, cut - lastStart);
      // The sink's parser counts only and gets the stream in pieces; same answer.
      const counter = new PcapStreamParser();
      const split = Math.min(cut, lastStart + 3);
      counter.push(buf.subarray(0, split));
      counter.push(buf.subarray(split, cut));
      assert.equal(counter.completeOffset, lastStart);
      assert.equal(counter.packets, full.records.length - 1);
    }
    // Inside the header: nothing complete yet.
    const p = new PcapStreamParser();
    p.push(buf.subarray(0, 23));
    assert.equal(p.completeOffset, 0);
    assert.equal(p.header, undefined);
    p.push(buf.subarray(23, 30));
    assert.equal(p.completeOffset, 24);

    // What the sink does on interruption: tshark rejects the cut file and accepts the truncated one.
    const cutFile = join(tmp.dir, 'cut.pcap');
    const fixedFile = join(tmp.dir, 'fixed.pcap');
    const cut = lastStart + 20;
    writeFileSync(cutFile, buf.subarray(0, cut));
    writeFileSync(fixedFile, buf.subarray(0, readPcap(buf.subarray(0, cut)).completeOffset));
    assert.throws(() => execFileSync('tshark', ['-r', cutFile], { stdio: 'pipe' }), /cut short/);
    const fixedRows = tsharkFields(fixedFile, TSHARK_FRAME_FIELDS);
    assert.deepEqual(fixedRows, asTsharkRows(full.records.slice(0, -1), full.header));
  });

  test('parses `tcpdump -U -w -` live from the pipe, as the capture command does', async () => {
    const srv = await httpServer('127.0.0.1', 500_000);
    const chunks: Buffer[] = [];
    const records: PcapRecord[] = [];
    const parser = new PcapStreamParser({ onRecord: (r) => records.push(r) });
    await captureToStdout(
      { filter: `tcp port ${srv.port}` },
      (c) => {
        chunks.push(c);
        parser.push(c);
      },
      async () => void (await httpGet('127.0.0.1', srv.port, '/live')),
    );
    await srv.close();
    const all = Buffer.concat(chunks);
    const file = join(tmp.dir, 'live.pcap');
    writeFileSync(file, all);
    assert.ok(chunks.length > 1, 'tcpdump -U delivers the stream in several chunks');
    assert.equal(parser.pendingBytes, 0);
    assert.equal(parser.streamBytes, all.length);
    assert.deepEqual(records, readPcap(all).records);
    assert.deepEqual(asTsharkRows(records, parser.header as PcapHeader), tsharkFields(file, TSHARK_FRAME_FIELDS));
  });

  test('a record claiming an impossible length is a PcapFormatError at that record, and the parser stays failed', () => {
    const buf = Buffer.from(readFileSync(files.small));
    const starts = recordStarts(readPcap(buf).records);
    const bad = starts[3] as number;
    buf.writeUInt32LE(300 * 1024 * 1024, bad + 8);
    const p = new PcapStreamParser();
    assert.throws(
      () => p.push(buf),
      (err: unknown) => err instanceof PcapFormatError && err.problem === 'record-too-large' && err.offset === bad,
    );
    assert.equal(p.packets, 3);
    assert.equal(p.completeOffset, bad);
    assert.throws(() => p.push(Buffer.alloc(1)), PcapFormatError);
    // The same when the bad header arrives split across chunks.
    assert.throws(
      () => parseInPieces(buf, [bad + 5, bad + 11]),
      (err: unknown) => err instanceof PcapFormatError && err.offset === bad,
    );
  });
});

describe('PcapStreamParser input checks (no capture needed)', () => {
  test('text instead of pcap (a tcpdump error message) is a bad-magic error', () => {
    const p = new PcapStreamParser();
    const text = Buffer.from('tcpdump: eth9: No such device exists\n(SIOCGIFHWADDR: No such device)\n');
    assert.throws(
      () => p.push(text),
      (err: unknown) => err instanceof PcapFormatError && err.problem === 'bad-magic' && err.offset === 0,
    );
    assert.throws(() => p.push(text), PcapFormatError);
  });

  test('pcapng given to the pcap parser says so', () => {
    const shb = Buffer.alloc(28);
    shb.writeUInt32LE(0x0a0d0d0a, 0);
    shb.writeUInt32LE(28, 4);
    shb.writeUInt32LE(0x1a2b3c4d, 8);
    assert.throws(() => new PcapStreamParser().push(shb), /pcapng, not classic pcap/);
  });

  test('an unknown major version is refused', () => {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(3, 4);
    assert.throws(
      () => new PcapStreamParser().push(h),
      (err: unknown) => err instanceof PcapFormatError && err.problem === 'unsupported-version',
    );
  });

  test('snaplen is a hint: up to max(snaplen, 262144) + 64 KiB is accepted, one byte more is corruption', () => {
    const header = Buffer.from('d4c3b2a102000400000000000000000096000000' + '01000000', 'hex'); // snaplen 150
    const limit = 262144 + 65536;
    const ok = new PcapStreamParser();
    ok.push(Buffer.concat([header, pcapRecord({ tsSec: 1, tsFrac: 0, data: Buffer.alloc(limit) })]));
    assert.equal(ok.packets, 1);
    assert.throws(
      () =>
        new PcapStreamParser().push(
          Buffer.concat([header, pcapRecord({ tsSec: 1, tsFrac: 0, data: Buffer.alloc(limit + 1) })]),
        ),
      (err: unknown) => err instanceof PcapFormatError && err.problem === 'record-too-large' && err.offset === 24,
    );
  });

  test('an empty chunk changes nothing', () => {
    const p = new PcapStreamParser();
    p.push(Buffer.alloc(0));
    assert.equal(p.streamBytes, 0);
    assert.equal(p.header, undefined);
  });
});
