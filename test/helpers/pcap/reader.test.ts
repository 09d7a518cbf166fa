// pcapng and format sniffing: real pcapng from dumpcap (two interfaces), editcap, tshark and
// mergecap conversions of real tcpdump captures, plus hand-built blocks for what no tool here
// writes (SPB, obsolete PB, big-endian sections, 2^-n resolution, if_tsoffset), each one read by
// tshark too so the expected values come from Wireshark, not from us.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PcapFormatError } from '../../../src/pcap/error.ts';
import { LinkType, PcapngBlockType, type ByteOrder } from '../../../src/pcap/format.ts';
import { readCapture, readPcap, readPcapng, sniffFormat, type Capture, type PcapngPacket } from './reader.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../src/pcap/writer.ts';
import { captureToFile, httpGet, httpServer, requireCaptureTools, tempDir, tsharkFields } from './fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark', 'dumpcap', 'editcap', 'mergecap']);

// tshark's frame fields, from our packets (classic pcap has no interface id: tshark leaves it empty).
function rows(
  packets: readonly { interfaceId: number; origLen: number; capLen: number; tsSec: number; tsNanos: number }[],
  pcapng = true,
): string[][] {
  return packets.map((p) => [
    pcapng ? String(p.interfaceId) : '',
    String(p.origLen),
    String(p.capLen),
    `${p.tsSec}.${String(p.tsNanos).padStart(9, '0')}`,
  ]);
}
const FIELDS = ['frame.interface_id', 'frame.len', 'frame.cap_len', 'frame.time_epoch'];

// ---- a minimal pcapng block builder, only for the blocks no tool on this machine writes ----
interface Opt {
  code: number;
  value: Buffer;
}
function block(type: number, body: Buffer, bo: ByteOrder): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const total = 12 + padded.length;
  const head = Buffer.alloc(8);
  const tail = Buffer.alloc(4);
  if (bo === 'le') {
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(total, 4);
    tail.writeUInt32LE(total, 0);
  } else {
    head.writeUInt32BE(type, 0);
    head.writeUInt32BE(total, 4);
    tail.writeUInt32BE(total, 0);
  }
  return Buffer.concat([head, padded, tail]);
}
function options(opts: readonly Opt[], bo: ByteOrder): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const parts = opts.map((o) => {
    const h = Buffer.alloc(4);
    if (bo === 'le') {
      h.writeUInt16LE(o.code, 0);
      h.writeUInt16LE(o.value.length, 2);
    } else {
      h.writeUInt16BE(o.code, 0);
      h.writeUInt16BE(o.value.length, 2);
    }
    return Buffer.concat([h, o.value, Buffer.alloc((4 - (o.value.length % 4)) % 4)]);
  });
  return Buffer.concat([...parts, Buffer.alloc(4)]); // opt_endofopt
}
function u32s(bo: ByteOrder, ...vals: number[]): Buffer {
  const b = Buffer.alloc(4 * vals.length);
  vals.forEach((v, i) => (bo === 'le' ? b.writeUInt32LE(v, i * 4) : b.writeUInt32BE(v, i * 4)));
  return b;
}
const shb = (bo: ByteOrder) => {
  const body = Buffer.alloc(16);
  if (bo === 'le') {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
  } else {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
  }
  body.writeBigInt64LE(-1n, 8);
  return block(PcapngBlockType.SHB, body, bo);
};
const idb = (bo: ByteOrder, linkType: number, snaplen: number, opts: Opt[] = []) => {
  const fixed = Buffer.alloc(8);
  if (bo === 'le') {
    fixed.writeUInt16LE(linkType, 0);
    fixed.writeUInt32LE(snaplen, 4);
  } else {
    fixed.writeUInt16BE(linkType, 0);
    fixed.writeUInt32BE(snaplen, 4);
  }
  return block(PcapngBlockType.IDB, Buffer.concat([fixed, options(opts, bo)]), bo);
};
const epb = (bo: ByteOrder, ifId: number, ticks: bigint, data: Buffer, origLen = data.length) =>
  block(
    PcapngBlockType.EPB,
    Buffer.concat([u32s(bo, ifId, Number(ticks >> 32n), Number(ticks & 0xffffffffn), data.length, origLen), data]),
    bo,
  );
const spb = (bo: ByteOrder, data: Buffer, origLen = data.length) =>
  block(PcapngBlockType.SPB, Buffer.concat([u32s(bo, origLen), data]), bo);
const obsoletePb = (bo: ByteOrder, ifId: number, ticks: bigint, data: Buffer) => {
  const idDrops = Buffer.alloc(4);
  if (bo === 'le') idDrops.writeUInt16LE(ifId, 0);
  else idDrops.writeUInt16BE(ifId, 0);
  return block(
    PcapngBlockType.PB,
    Buffer.concat([
      idDrops,
      u32s(bo, Number(ticks >> 32n), Number(ticks & 0xffffffffn), data.length, data.length),
      data,
    ]),
    bo,
  );
};
const isb = (bo: ByteOrder) => block(PcapngBlockType.ISB, u32s(bo, 0, 0, 0), bo);
const tsresol = (v: number): Opt => ({ code: 9, value: Buffer.from([v]) });
const tsoffset = (bo: ByteOrder, sec: bigint): Opt => {
  const b = Buffer.alloc(8);
  if (bo === 'le') b.writeBigInt64LE(sec);
  else b.writeBigInt64BE(sec);
  return { code: 14, value: b };
};

describe('pcapng reader against dumpcap, editcap, mergecap and tshark', { skip }, () => {
  const tmp = tempDir();
  const f = {
    dumpcap: join(tmp.dir, 'dumpcap.pcapng'),
    lo: join(tmp.dir, 'lo.pcap'),
    anyNano: join(tmp.dir, 'any-nano.pcap'),
    editcap: join(tmp.dir, 'editcap.pcapng'),
    tshark: join(tmp.dir, 'tshark.pcapng'),
    merged: join(tmp.dir, 'merged.pcapng'),
  };
  let ipPackets: Buffer[] = []; // IPv4 packets (link header stripped) for hand-built files

  before(async () => {
    const srv = await httpServer('127.0.0.1', 30_000);
    const get = async () => void (await httpGet('127.0.0.1', srv.port, '/ng'));
    const filter = `tcp port ${srv.port}`;
    // dumpcap writes pcapng natively: one IDB per interface, if_tsresol 9, if_name, if_filter.
    await captureToFile({ tool: 'dumpcap', iface: ['lo', 'any'], filter }, f.dumpcap, get);
    await captureToFile({ filter }, f.lo, get);
    await captureToFile({ iface: 'any', filter, args: ['--time-stamp-precision', 'nano'] }, f.anyNano, get);
    await srv.close();
    execFileSync('editcap', ['-F', 'pcapng', f.lo, f.editcap]);
    execFileSync('tshark', ['-r', f.anyNano, '-F', 'pcapng', '-w', f.tshark], { stdio: 'ignore' });
    execFileSync('mergecap', ['-F', 'pcapng', '-w', f.merged, f.lo, f.anyNano]);
    ipPackets = readPcap(readFileSync(f.lo)).records.map((r) => r.data.subarray(14));
  });
  after(() => tmp.cleanup());

  test('dumpcap on two interfaces: both IDBs, every packet agrees with tshark', () => {
    const buf = readFileSync(f.dumpcap);
    const ng = readPcapng(buf);
    assert.equal(ng.sections.length, 1);
    assert.equal(ng.sections[0]?.byteOrder, 'le');
    assert.deepEqual(
      ng.interfaces.map((i) => [i.name, i.linkType, i.ticksPerSecond]),
      [
        ['lo', LinkType.EN10MB, 1_000_000_000n],
        // dumpcap 4.0 picks cooked v1 for "any" (tcpdump 4.99 picks v2; the merged file covers that).
        ['any', LinkType.LINUX_SLL, 1_000_000_000n],
      ],
    );
    assert.equal(ng.truncatedBytes, 0);
    assert.ok(ng.packets.filter((p) => p.interfaceId === 0).length >= 8, 'lo saw the exchange');
    assert.ok(ng.packets.filter((p) => p.interfaceId === 1).length >= 8, 'any saw the exchange');
    assert.ok(ng.packets.every((p) => p.blockType === PcapngBlockType.EPB));
    assert.deepEqual(rows(ng.packets), tsharkFields(f.dumpcap, FIELDS));
  });

  test('editcap (usec), tshark (nsec) and mergecap (two link types) conversions agree with tshark', () => {
    for (const file of [f.editcap, f.tshark, f.merged]) {
      assert.deepEqual(rows(readPcapng(readFileSync(file)).packets), tsharkFields(file, FIELDS), file);
    }
    const merged = readPcapng(readFileSync(f.merged));
    assert.deepEqual(
      merged.interfaces.map((i) => i.linkType),
      [LinkType.EN10MB, LinkType.LINUX_SLL2],
    );
    assert.equal(readPcapng(readFileSync(f.tshark)).interfaces[0]?.ticksPerSecond, 1_000_000_000n);
  });

  test('readCapture gives the same packets for a pcap and its pcapng conversion', () => {
    const fromPcap = readCapture(readFileSync(f.lo));
    const fromNg = readCapture(readFileSync(f.editcap));
    assert.equal(fromPcap.format, 'pcap');
    assert.equal(fromNg.format, 'pcapng');
    const strip = (c: Capture) => ({
      linkTypes: c.interfaces.map((i) => i.linkType),
      packets: c.packets.map((p) => ({
        interfaceId: p.interfaceId,
        tsSec: p.tsSec,
        tsNanos: p.tsNanos,
        capLen: p.capLen,
        origLen: p.origLen,
        data: p.data,
      })),
    });
    assert.deepEqual(strip(fromNg), strip(fromPcap));
    const nano = readCapture(readFileSync(f.anyNano));
    assert.deepEqual(rows(nano.packets, false), tsharkFields(f.anyNano, FIELDS));
  });

  test('hand-built blocks no tool here writes (SPB, PB, big-endian, 2^-n, tsoffset, sections, ISB) read as tshark reads them', () => {
    const [p0, p1, p2, p3] = ipPackets as [Buffer, Buffer, Buffer, Buffer];
    const file = join(tmp.dir, 'hand.pcapng');
    const buf = Buffer.concat([
      // Section 1, little-endian: microsecond RAW interface, plus an SPB (no timestamp, snaplen cut).
      shb('le'),
      idb('le', LinkType.RAW, 40, [tsresol(6)]),
      epb('le', 0, 1_700_000_000_123_456n, p0.subarray(0, 40), p0.length),
      spb('le', p1.subarray(0, 40), p1.length),
      isb('le'),
      // Section 2, big-endian: a 2^-20 s interface with a 1000 s offset, then a nanosecond one.
      shb('be'),
      idb('be', LinkType.RAW, 0, [tsresol(0x80 | 20), tsoffset('be', 1000n)]),
      idb('be', LinkType.IPV4, 0, [tsresol(9)]),
      epb('be', 0, (1_700_000_000n << 20n) + 777n, p2),
      epb('be', 1, 1_700_000_001_999_999_999n, p3),
      obsoletePb('be', 1, 1_700_000_002_000_000_001n, p0),
    ]);
    writeFileSync(file, buf);
    const ng = readPcapng(buf);
    assert.deepEqual(
      ng.sections.map((s) => s.byteOrder),
      ['le', 'be'],
    );
    assert.deepEqual(
      ng.interfaces.map((i) => [i.section, i.linkType, i.snaplen, i.ticksPerSecond, i.tsOffset]),
      [
        [0, LinkType.RAW, 40, 1_000_000n, 0n],
        [1, LinkType.RAW, 0, 1n << 20n, 1000n],
        [1, LinkType.IPV4, 0, 1_000_000_000n, 0n],
      ],
    );
    assert.deepEqual(
      ng.packets.map((p) => p.blockType),
      [PcapngBlockType.EPB, PcapngBlockType.SPB, PcapngBlockType.EPB, PcapngBlockType.EPB, PcapngBlockType.PB],
    );
    assert.ok((ng.packets[2] as PcapngPacket).data.equals(p2));
    assert.equal((ng.packets[1] as PcapngPacket).capLen, 40, 'SPB data is cut at the interface snaplen');
    // tshark numbers interfaces within their section and shows no time for an SPB.
    const asTshark = rows(ng.packets).map(([id, ...rest], i) => {
      const p = ng.packets[i] as PcapngPacket;
      const local = Number(id) - ng.interfaces.findIndex((x) => x.section === ng.interfaces[p.interfaceId]?.section);
      return [String(local), rest[0], rest[1], p.blockType === PcapngBlockType.SPB ? '' : rest[2]];
    });
    assert.deepEqual(asTshark, tsharkFields(file, FIELDS));
    // And tshark decodes the same IP addresses from the bytes we hand out.
    assert.deepEqual(
      tsharkFields(file, ['ip.src']).map(([src]) => src),
      ng.packets.map((p) => `${p.data[12]}.${p.data[13]}.${p.data[14]}.${p.data[15]}`),
    );
  });

  test('a cut-off trailing block is reported, not thrown', () => {
    const buf = readFileSync(f.editcap);
    const full = readPcapng(buf);
    const cut = readPcapng(buf.subarray(0, buf.length - 10));
    assert.equal(cut.packets.length, full.packets.length - 1);
    assert.ok(cut.truncatedBytes > 0);
    assert.equal(cut.completeOffset + cut.truncatedBytes, buf.length - 10);
  });
});

describe('format sniffing and malformed input (no tools needed)', () => {
  test('sniffFormat tells pcap (both orders, both precisions) from pcapng and from anything else', () => {
    assert.equal(sniffFormat(pcapGlobalHeader({ linkType: 1 })), 'pcap');
    assert.equal(sniffFormat(pcapGlobalHeader({ linkType: 1, nanos: true, byteOrder: 'be' })), 'pcap');
    assert.equal(sniffFormat(shb('le')), 'pcapng');
    assert.equal(sniffFormat(shb('be')), 'pcapng');
    assert.equal(sniffFormat(Buffer.from('error: no such pod')), undefined);
    assert.equal(sniffFormat(Buffer.alloc(2)), undefined);
  });

  test('readCapture rejects non-captures with a PcapFormatError', () => {
    assert.throws(
      () => readCapture(Buffer.from('<html>oops</html>')),
      (e: unknown) => e instanceof PcapFormatError && e.problem === 'bad-magic',
    );
    assert.throws(() => readCapture(Buffer.alloc(10, 0xd4)), PcapFormatError);
    assert.throws(
      () => readCapture(pcapGlobalHeader({ linkType: 1 }).subarray(0, 20)),
      (e: unknown) => e instanceof PcapFormatError && e.problem === 'truncated-header',
    );
    const ok = readCapture(
      Buffer.concat([
        pcapGlobalHeader({ linkType: 101 }),
        pcapRecord({ tsSec: 1, tsFrac: 2, data: Buffer.from([0x45]) }),
      ]),
    );
    assert.deepEqual(
      ok.packets.map((p) => [p.tsSec, p.tsNanos]),
      [[1, 2000]],
    );
  });

  test('pcapng blocks with inconsistent lengths or unknown interfaces are PcapFormatErrors', () => {
    const good = Buffer.concat([shb('le'), idb('le', 1, 0), epb('le', 0, 1n, Buffer.alloc(20))]);
    assert.equal(readPcapng(good).packets.length, 1);
    const badTrailer = Buffer.from(good);
    badTrailer.writeUInt32LE(999, badTrailer.length - 4);
    assert.throws(
      () => readPcapng(badTrailer),
      (e: unknown) => e instanceof PcapFormatError && e.problem === 'bad-block',
    );
    const noIdb = Buffer.concat([shb('le'), epb('le', 0, 1n, Buffer.alloc(20))]);
    assert.throws(() => readPcapng(noIdb), /interface 0/);
    const oddLength = Buffer.concat([shb('le'), idb('le', 1, 0)]);
    oddLength.writeUInt32LE(30, 28 + 4);
    assert.throws(() => readPcapng(oddLength), PcapFormatError);
    assert.throws(() => readPcapng(pcapGlobalHeader({ linkType: 1 })), /not a pcapng file/);
  });
});
