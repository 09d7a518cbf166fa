// Rotation policy: sizes as users type them, file names, when to rotate, which file to delete; then
// a minimal sink driven by the policy writes a real capture into rotated pcapng files that capinfos
// and tshark read back whole.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  enhancedPacketBlockFromRecord,
  interfaceDescriptionBlock,
  interfaceFromPcapHeader,
  sectionHeaderBlock,
} from '../../../src/pcap/pcapng-writer.ts';
import {
  compactUtc,
  parseByteSize,
  rotatedFileName,
  rotationEnabled,
  RotationPolicy,
  validateRotationOptions,
} from '../../../src/pcap/rotation.ts';
import { readPcap, type PcapFile } from '../../helpers/pcap/reader.ts';
import {
  captureToFile,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../helpers/pcap/fixtures.ts';

const T0 = Date.parse('2026-12-01T10:15:00Z');

describe('parseByteSize', () => {
  test('bare numbers are bytes, k/M/G/T are powers of 1000, Ki/Mi/Gi/Ti powers of 1024, B optional, any case', () => {
    const cases: [string, number][] = [
      ['4096', 4096],
      ['100MB', 100_000_000],
      ['100mb', 100_000_000],
      ['100M', 100_000_000],
      ['50MiB', 50 * 1024 * 1024],
      ['50mi', 50 * 1024 * 1024],
      ['1G', 1e9],
      ['1GiB', 2 ** 30],
      ['2k', 2000],
      ['2KB', 2000],
      ['2KiB', 2048],
      ['1T', 1e12],
      ['1TiB', 2 ** 40],
      ['1.5k', 1500],
      ['1.5KiB', 1536],
      ['0.0001k', 0],
      ['.5M', 500_000],
      [' 10 MB ', 10_000_000],
      ['7B', 7],
    ];
    for (const [text, bytes] of cases) assert.equal(parseByteSize(text), bytes, text);
  });

  test('anything else is a RangeError naming the input', () => {
    for (const bad of ['', 'MB', '-1MB', '1e6', '10 XB', '1,000', '1.2.3k', '0x10', '10PB']) {
      assert.throws(
        () => parseByteSize(bad),
        (e: unknown) => e instanceof RangeError && e.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
    assert.throws(() => parseByteSize('99999999T'), /too large/);
  });
});

describe('rotated file names', () => {
  test('base name, 5-digit sequence, UTC opening time, then the extension; the directory is kept as given', () => {
    assert.equal(compactUtc(T0 + 999), '20261201T101500Z');
    assert.equal(rotatedFileName('web.pcapng', 1, T0), 'web-00001-20261201T101500Z.pcapng');
    assert.equal(rotatedFileName('out/web.pcapng', 42, T0), 'out/web-00042-20261201T101500Z.pcapng');
    assert.equal(rotatedFileName('./web.pcapng', 1, T0), './web-00001-20261201T101500Z.pcapng');
    assert.equal(rotatedFileName('/tmp/a.b/web.v2.pcap', 7, T0), '/tmp/a.b/web.v2-00007-20261201T101500Z.pcap');
    assert.equal(rotatedFileName('web', 1, T0), 'web-00001-20261201T101500Z');
    assert.equal(rotatedFileName('.pcapng', 1, T0), '.pcapng-00001-20261201T101500Z');
    assert.equal(rotatedFileName('web.pcapng', 123456, T0), 'web-123456-20261201T101500Z.pcapng');
  });

  test('names sort in the order the files were opened', () => {
    const names = Array.from({ length: 30 }, (_, i) => rotatedFileName('web.pcapng', i + 1, T0 + (i % 3) * 1000));
    assert.deepEqual([...names].sort(), names);
  });
});

describe('rotation options', () => {
  test('enabled by any option; --rotate-count alone is refused', () => {
    assert.equal(rotationEnabled({}), false);
    assert.equal(rotationEnabled({ everySeconds: 60 }), true);
    assert.throws(
      () => validateRotationOptions({ keepFiles: 3 }),
      /--rotate-count needs --rotate-size or --rotate-every/,
    );
    assert.throws(() => validateRotationOptions({ maxBytes: 0 }), /--rotate-size/);
    assert.throws(() => validateRotationOptions({ maxBytes: 1.5 }), /--rotate-size/);
    assert.throws(() => validateRotationOptions({ everySeconds: 0 }), /--rotate-every/);
    assert.throws(() => validateRotationOptions({ everySeconds: Infinity }), /--rotate-every/);
    assert.throws(() => validateRotationOptions({ maxBytes: 10, keepFiles: 0 }), /--rotate-count/);
    assert.throws(() => validateRotationOptions({ maxBytes: 10, keepFiles: 2.5 }), /--rotate-count/);
    assert.doesNotThrow(() => validateRotationOptions({ everySeconds: 0.5, keepFiles: 1 }));
    assert.throws(() => new RotationPolicy('', { maxBytes: 10 }), RangeError);
    assert.throws(() => new RotationPolicy('out/', { maxBytes: 10 }), RangeError);
  });
});

describe('RotationPolicy', () => {
  test('size: rotate before a packet would push the file past the limit; a file always gets one packet', () => {
    const p = new RotationPolicy('web.pcapng', { maxBytes: 1000 });
    assert.throws(() => p.due(10, T0), /before open/);
    assert.deepEqual(p.open(T0), { path: 'web-00001-20261201T101500Z.pcapng', sequence: 1, remove: [] });
    p.wroteMetadata(200); // SHB + IDBs
    assert.equal(p.due(5000, T0), undefined, 'an oversized first packet still goes into this file');
    p.wrotePacket(5000);
    assert.equal(p.due(1, T0), 'size');
    p.open(T0 + 1000);
    p.wroteMetadata(200);
    p.wrotePacket(400);
    assert.equal(p.due(400, T0), undefined, '200 + 400 + 400 = 1000 fits exactly');
    p.wrotePacket(400);
    assert.equal(p.due(1, T0), 'size');
    assert.deepEqual(p.currentFile, { bytes: 1000, packets: 2, openedAtMs: T0 + 1000 });
    assert.equal(p.currentPath, 'web-00002-20261201T101501Z.pcapng');
  });

  test('time: the first packet at least SECONDS after the file opened starts a new one; idle time makes no files', () => {
    const p = new RotationPolicy('web.pcapng', { everySeconds: 60 });
    p.open(T0);
    p.wroteMetadata(100);
    assert.equal(p.due(100, T0 + 600_000), undefined, 'no packet yet: keep the (empty) file, whatever the time');
    p.wrotePacket(100);
    assert.equal(p.due(100, T0 + 59_999), undefined);
    assert.equal(p.due(100, T0 + 60_000), 'time');
    assert.equal(
      p.open(T0 + 3_600_000).path,
      'web-00002-20261201T111500Z.pcapng',
      'an hour idle: the next file is named for when it opened',
    );
  });

  test('count: a ring of N files, the oldest of this run deleted when file N+1 opens', () => {
    const p = new RotationPolicy('/data/web.pcapng', { maxBytes: 10, keepFiles: 3 });
    const steps = Array.from({ length: 6 }, (_, i) => p.open(T0 + i * 1000));
    assert.deepEqual(
      steps.map((s) => [s.sequence, s.remove]),
      [
        [1, []],
        [2, []],
        [3, []],
        [4, ['/data/web-00001-20261201T101500Z.pcapng']],
        [5, ['/data/web-00002-20261201T101501Z.pcapng']],
        [6, ['/data/web-00003-20261201T101502Z.pcapng']],
      ],
    );
    const one = new RotationPolicy('w', { everySeconds: 1, keepFiles: 1 });
    one.open(T0);
    assert.deepEqual(one.open(T0 + 1000).remove, ['w-00001-20261201T101500Z']);
  });

  test('size and time together: whichever comes first', () => {
    const p = new RotationPolicy('web.pcapng', { maxBytes: 1000, everySeconds: 10 });
    p.open(T0);
    p.wrotePacket(100);
    assert.equal(p.due(100, T0 + 10_000), 'time');
    assert.equal(p.due(901, T0 + 10_000), 'size', 'size is checked first when both apply');
    assert.equal(p.due(100, T0 + 1000), undefined);
  });
});

const skip = requireCaptureTools(['tcpdump', 'tshark', 'capinfos']);

describe('a rotating pcapng sink on a real capture', { skip }, () => {
  const tmp = tempDir();
  const original = join(tmp.dir, 'original.pcap');
  let cap: PcapFile;

  before(async () => {
    const srv = await httpServer('127.0.0.1', 200_000);
    await captureToFile({ filter: `tcp port ${srv.port}` }, original, async () => {
      for (let i = 0; i < 3; i++) await httpGet('127.0.0.1', srv.port, `/r${i}`);
    });
    await srv.close();
    cap = readPcap(readFileSync(original));
  });
  after(() => tmp.cleanup());

  // What the lead's sink will do, minus the streams: every file starts with SHB + IDB, a packet goes
  // to a new file when the policy says so, and old files are deleted as it says.
  function runSink(
    base: string,
    maxBytes: number,
    keepFiles?: number,
  ): { opened: string[]; packetsPerFile: Map<string, number> } {
    const policy = new RotationPolicy(base, { maxBytes, keepFiles });
    const preamble = Buffer.concat([
      sectionHeaderBlock({ userAppl: 'kubectl-netns test' }),
      interfaceDescriptionBlock(interfaceFromPcapHeader(cap.header, { name: 'shop/web/eth0' })),
    ]);
    const opened: string[] = [];
    const packetsPerFile = new Map<string, number>();
    let parts: Buffer[] = [];
    let path = '';
    const open = (now: number) => {
      const step = policy.open(now);
      for (const old of step.remove) rmSync(old);
      path = step.path;
      opened.push(path);
      parts = [preamble];
      policy.wroteMetadata(preamble.length);
    };
    const close = () => writeFileSync(path, Buffer.concat(parts), { flag: 'wx' });
    open(T0);
    cap.records.forEach((r, i) => {
      const epb = enhancedPacketBlockFromRecord(0, r, cap.header.precision);
      if (policy.due(epb.length, T0 + i * 1000)) {
        close();
        open(T0 + i * 1000);
      }
      parts.push(epb);
      policy.wrotePacket(epb.length);
      packetsPerFile.set(path, (packetsPerFile.get(path) ?? 0) + 1);
    });
    close();
    return { opened, packetsPerFile };
  }

  test('--rotate-size: every file is valid, within the limit, and together they hold the capture in order', () => {
    const dir = join(tmp.dir, 'size');
    mkdirSync(dir);
    const maxBytes = 64 * 1024;
    const { opened, packetsPerFile } = runSink(join(dir, 'web.pcapng'), maxBytes);
    assert.ok(opened.length >= 3, `a 600 kB capture in 64 KiB files: ${opened.length} files`);
    assert.deepEqual(
      readdirSync(dir).sort(),
      opened.map((p) => p.slice(dir.length + 1)),
    );
    const rows: string[][] = [];
    for (const file of opened) {
      // A file may exceed the limit only when its single packet does not fit on its own.
      assert.ok(
        statSync(file).size <= maxBytes || packetsPerFile.get(file) === 1,
        `${file}: ${statSync(file).size} bytes`,
      );
      const info = execFileSync('capinfos', ['-c', '-M', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      assert.match(info, new RegExp(`Number of packets:\\s+${packetsPerFile.get(file)}\\n`));
      rows.push(...tsharkFields(file, ['frame.time_epoch', 'frame.len', 'tcp.seq_raw']));
    }
    assert.deepEqual(rows, tsharkFields(original, ['frame.time_epoch', 'frame.len', 'tcp.seq_raw']));
  });

  test('--rotate-count: only the newest N files remain, and they hold the end of the capture', () => {
    const dir = join(tmp.dir, 'ring');
    mkdirSync(dir);
    const { opened, packetsPerFile } = runSink(join(dir, 'web.pcapng'), 64 * 1024, 2);
    assert.ok(opened.length > 2);
    const kept = opened.slice(-2);
    assert.deepEqual(
      readdirSync(dir).sort(),
      kept.map((p) => p.slice(dir.length + 1)),
    );
    assert.ok(opened.slice(0, -2).every((p) => !existsSync(p)));
    const rows = kept.flatMap((f) => tsharkFields(f, ['frame.time_epoch', 'tcp.seq_raw']));
    const all = tsharkFields(original, ['frame.time_epoch', 'tcp.seq_raw']);
    const keptPackets = kept.reduce((n, f) => n + (packetsPerFile.get(f) ?? 0), 0);
    assert.deepEqual(rows, all.slice(all.length - keptPackets));
  });
});
