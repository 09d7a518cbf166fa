// The writer's output must be a file the real tools read exactly as we meant it: checked with our
// reader, tshark and tcpdump -r, in both byte orders and both timestamp precisions.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { epochString, LinkType, type ByteOrder, type PcapRecord } from '../../../src/pcap/format.ts';
import { readPcap } from '../../helpers/pcap/reader.ts';
import { pcapGlobalHeader, pcapRecord, writePcapRecordHeader } from '../../../src/pcap/writer.ts';
import {
  captureToFile,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../helpers/pcap/fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark']);

// Writes records with our writer; usec records are converted when nanos is asked for, and back.
function rewrite(
  records: readonly PcapRecord[],
  from: 'usec' | 'nsec',
  opts: { byteOrder: ByteOrder; nanos: boolean; linkType: number; snaplen?: number },
): Buffer {
  const scale = (frac: number) =>
    from === 'usec' && opts.nanos ? frac * 1000 : from === 'nsec' && !opts.nanos ? Math.floor(frac / 1000) : frac;
  return Buffer.concat([
    pcapGlobalHeader(opts),
    ...records.map((r) =>
      pcapRecord({
        tsSec: r.tsSec,
        tsFrac: scale(r.tsFrac),
        origLen: r.origLen,
        data: r.data,
        byteOrder: opts.byteOrder,
      }),
    ),
  ]);
}

function tcpdumpRead(file: string, nano: boolean): string {
  return execFileSync('tcpdump', ['-r', file, '-tt', '-nn', ...(nano ? ['--time-stamp-precision', 'nano'] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 * 1024 * 1024, // it hex-dumps payloads it cannot decode
  });
}

describe('pcap writer against tcpdump and tshark', { skip }, () => {
  const tmp = tempDir();
  const original = join(tmp.dir, 'original.pcap');

  before(async () => {
    const srv = await httpServer('127.0.0.1', 100_000);
    await captureToFile(
      { filter: `tcp port ${srv.port}` },
      original,
      async () => void (await httpGet('127.0.0.1', srv.port, '/w')),
    );
    await srv.close();
  });
  after(() => tmp.cleanup());

  test('re-writing a real capture in every byte order and precision reads back identically everywhere', () => {
    const orig = readPcap(readFileSync(original));
    const tcpdumpOriginal = tcpdumpRead(original, false);
    const tcpdumpOriginalNano = tcpdumpRead(original, true);
    const tsharkOriginal = tsharkFields(original, [
      'frame.len',
      'frame.cap_len',
      'frame.time_epoch',
      'ip.src',
      'tcp.srcport',
      'tcp.seq_raw',
      'tcp.len',
    ]);

    for (const byteOrder of ['le', 'be'] as const) {
      for (const nanos of [false, true]) {
        const name = `${byteOrder}-${nanos ? 'nsec' : 'usec'}`;
        const file = join(tmp.dir, `${name}.pcap`);
        const buf = rewrite(orig.records, 'usec', { byteOrder, nanos, linkType: orig.header.linkType });
        writeFileSync(file, buf);

        // Our reader
        const back = readPcap(buf);
        assert.equal(back.header.byteOrder, byteOrder, name);
        assert.equal(back.header.precision, nanos ? 'nsec' : 'usec', name);
        assert.equal(back.header.linkType, LinkType.EN10MB);
        assert.equal(back.records.length, orig.records.length);
        back.records.forEach((r, i) => {
          const o = orig.records[i] as PcapRecord;
          assert.equal(r.tsSec, o.tsSec);
          assert.equal(r.tsFrac, nanos ? o.tsFrac * 1000 : o.tsFrac);
          assert.equal(r.capLen, o.capLen);
          assert.equal(r.origLen, o.origLen);
          assert.ok(r.data.equals(o.data), `${name} record ${i} bytes`);
        });

        // tshark decodes the same frames, timestamps and TCP fields.
        assert.deepEqual(
          tsharkFields(file, [
            'frame.len',
            'frame.cap_len',
            'frame.time_epoch',
            'ip.src',
            'tcp.srcport',
            'tcp.seq_raw',
            'tcp.len',
          ]),
          tsharkOriginal,
          name,
        );
        // tcpdump prints exactly the same lines (usec files printed at nano precision gain 000).
        assert.equal(tcpdumpRead(file, nanos), nanos ? tcpdumpOriginalNano : tcpdumpOriginal, name);
      }
    }
  });

  test('synthetic records of every awkward size round-trip and tshark agrees on lengths and times', () => {
    const sizes = [0, 1, 14, 60, 64, 1514, 9000, 65535, 65549, 262144];
    const records = sizes.map((n, i) => ({
      tsSec: 1_700_000_000 + i,
      tsFrac: i === 0 ? 0 : 999_999_000 - i,
      data: Buffer.alloc(n, i + 1),
      // A snaplen-truncated record: less captured than was on the wire.
      origLen: i === 3 ? 1500 : n,
    }));
    for (const byteOrder of ['le', 'be'] as const) {
      const file = join(tmp.dir, `synthetic-${byteOrder}.pcap`);
      const buf = Buffer.concat([
        pcapGlobalHeader({ linkType: LinkType.EN10MB, nanos: true, byteOrder }),
        ...records.map((r) => pcapRecord({ ...r, byteOrder })),
      ]);
      writeFileSync(file, buf);
      const back = readPcap(buf);
      assert.deepEqual(
        back.records.map((r) => [r.tsSec, r.tsFrac, r.capLen, r.origLen]),
        records.map((r) => [r.tsSec, r.tsFrac, r.data.length, r.origLen]),
      );
      assert.deepEqual(
        tsharkFields(file, ['frame.len', 'frame.cap_len', 'frame.time_epoch']),
        records.map((r) => [String(r.origLen), String(r.data.length), epochString(r.tsSec, r.tsFrac, 'nsec')]),
      );
      // tcpdump reads the whole file (it exits non-zero on a bad record, which would throw here).
      // Each packet's line starts with its timestamp; the empty record gets an "[Invalid header...]"
      // line instead, so it is the one timestamp missing.
      const stamps = tcpdumpRead(file, true)
        .split('\n')
        .filter((l) => /^\d+\.\d{9} /.test(l))
        .map((l) => l.split(' ')[0]);
      assert.deepEqual(
        stamps,
        records.filter((r) => r.data.length > 0).map((r) => epochString(r.tsSec, r.tsFrac, 'nsec')),
      );
    }
  });
});

describe('pcap writer layout (no tools needed)', () => {
  test('the global header is the documented 24 bytes', () => {
    assert.equal(
      pcapGlobalHeader({ linkType: LinkType.LINUX_SLL2 }).toString('hex'),
      'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '14010000',
    );
    assert.equal(
      pcapGlobalHeader({ linkType: LinkType.EN10MB, snaplen: 65535, nanos: true, byteOrder: 'be' }).toString('hex'),
      'a1b23c4d' + '0002' + '0004' + '00000000' + '00000000' + '0000ffff' + '00000001',
    );
  });

  test('writePcapRecordHeader lays out records in a shared buffer the reader accepts', () => {
    const header = pcapGlobalHeader({ linkType: LinkType.RAW });
    const buf = Buffer.alloc(header.length + 2 * (16 + 4));
    header.copy(buf);
    writePcapRecordHeader(buf, 24, 10, 20, 4, 4);
    buf.write('abcd', 24 + 16);
    writePcapRecordHeader(buf, 24 + 20, 11, 21, 4, 40);
    buf.write('efgh', 24 + 20 + 16);
    const f = readPcap(buf);
    assert.deepEqual(
      f.records.map((r) => [r.tsSec, r.tsFrac, r.capLen, r.origLen, r.data.toString()]),
      [
        [10, 20, 4, 4, 'abcd'],
        [11, 21, 4, 40, 'efgh'],
      ],
    );
  });
});
