// The pcapng writer, block by block against the layouts of draft-ietf-opsawg-pcapng, and then as
// files the real tools read: real tcpdump captures converted to pcapng must decode in tshark exactly
// like Wireshark's own conversion (editcap), and a file with two pods' interfaces must show their
// names, descriptions, filters, NRB names and ISBs in tshark, capinfos and tcpdump.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { epochString, LinkType, type PcapRecord } from '../../../src/pcap/format.ts';
import {
  commentOptions,
  encodeOptions,
  enhancedPacketBlock,
  enhancedPacketBlockFromRecord,
  interfaceDescriptionBlock,
  interfaceFromPcapHeader,
  interfaceStatisticsBlock,
  nameResolutionBlock,
  sectionHeaderBlock,
  stringOption,
  timestampFromMillis,
  timestampOption,
  u64Option,
} from '../../../src/pcap/pcapng-writer.ts';
import { readPcap, readPcapng, type PcapFile } from '../../helpers/pcap/reader.ts';
import {
  captureToFile,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../helpers/pcap/fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark', 'capinfos', 'editcap']);

const hex = (s: string) => s.replace(/\s+/g, '');
const ascii = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describe('pcapng block layouts (draft-ietf-opsawg-pcapng)', () => {
  test('SHB without options: magic, version 1.0, section length -1, 28 bytes', () => {
    assert.equal(
      sectionHeaderBlock().toString('hex'),
      hex('0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000'),
    );
  });

  test('SHB options: comment, shb_hardware, shb_os, shb_userappl, each padded, then opt_endofopt', () => {
    const b = sectionHeaderBlock({ comments: ['c'], hardware: 'x86_64', os: 'Linux', userAppl: 'kubectl-netns 0.1.0' });
    assert.equal(
      b.toString('hex'),
      hex(`0a0d0d0a 58000000 4d3c2b1a 0100 0000 ffffffffffffffff
        0100 0100 ${ascii('c')}000000
        0200 0600 ${ascii('x86_64')}0000
        0300 0500 ${ascii('Linux')}000000
        0400 1300 ${ascii('kubectl-netns 0.1.0')}00
        0000 0000
        58000000`),
    );
  });

  test('IDB: link type, reserved, snaplen, if_name, if_description, if_tsresol, if_filter with its libpcap-string byte, if_os, if_hardware', () => {
    const b = interfaceDescriptionBlock({
      linkType: LinkType.LINUX_SLL2,
      snaplen: 262144,
      precision: 'nsec',
      name: 'eth0',
      description: 'pod',
      filter: 'tcp',
      os: 'Linux',
      hardware: 'veth',
    });
    assert.equal(
      b.toString('hex'),
      hex(`01000000 4c000000 1401 0000 00000400
        0200 0400 ${ascii('eth0')}
        0300 0300 ${ascii('pod')}00
        0900 0100 09000000
        0b00 0400 00${ascii('tcp')}
        0c00 0500 ${ascii('Linux')}000000
        0f00 0400 ${ascii('veth')}
        0000 0000
        4c000000`),
    );
    // Microsecond interfaces say so explicitly (6) rather than rely on the default.
    assert.equal(
      interfaceDescriptionBlock({ linkType: LinkType.EN10MB, snaplen: 0, precision: 'usec' }).toString('hex'),
      hex('01000000 20000000 0100 0000 00000000 0900 0100 06000000 0000 0000 20000000'),
    );
  });

  test('interfaceFromPcapHeader copies link type, snaplen and precision from the stream header', () => {
    const header = readPcap(Buffer.from(hex('4d3cb2a1 0200 0400 00000000 00000000 ffff0000 71000000'), 'hex')).header;
    assert.deepEqual(interfaceFromPcapHeader(header, { name: 'a/b/eth0' }), {
      name: 'a/b/eth0',
      linkType: LinkType.LINUX_SLL,
      snaplen: 65535,
      precision: 'nsec',
    });
  });

  test('EPB: interface id, 64-bit tick count as high then low u32, caplen, origlen, data zero-padded to 4', () => {
    const b = enhancedPacketBlock(
      { interfaceId: 1, tsSec: 1, tsFrac: 2, data: Buffer.from('abcde'), origLen: 60 },
      'usec',
    );
    // 1 s + 2 us = 1000002 ticks = 0x000f4242
    assert.equal(
      b.toString('hex'),
      hex(`06000000 28000000 01000000 00000000 42420f00 05000000 3c000000 ${ascii('abcde')}000000 28000000`),
    );
    const withComment = enhancedPacketBlock(
      { interfaceId: 0, tsSec: 0, tsFrac: 0, data: Buffer.alloc(4, 0xaa), comments: ['hi'] },
      'nsec',
    );
    assert.equal(
      withComment.toString('hex'),
      hex(
        `06000000 30000000 00000000 00000000 00000000 04000000 04000000 aaaaaaaa 0100 0200 ${ascii('hi')}0000 0000 0000 30000000`,
      ),
    );
  });

  test('EPB timestamps equal an independent BigInt computation for edge and random values', () => {
    const cases: [number, number, 'usec' | 'nsec'][] = [
      [0, 0, 'usec'],
      [0xffffffff, 999_999, 'usec'],
      [0xffffffff, 999_999_999, 'nsec'],
      [65535, 999_999_999, 'nsec'],
      [65536, 0, 'nsec'],
      [1_796_125_725, 123_456_789, 'nsec'],
      [2 ** 33, 5, 'nsec'], // past u32 seconds: the BigInt path
    ];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 500; i++) {
      const nsec = i % 2 === 0;
      cases.push([rand(2 ** 31) * 2 + rand(2), rand(nsec ? 1e9 : 1e6), nsec ? 'nsec' : 'usec']);
    }
    for (const [sec, frac, precision] of cases) {
      const b = enhancedPacketBlock({ interfaceId: 0, tsSec: sec, tsFrac: frac, data: Buffer.alloc(0) }, precision);
      const ticks = (BigInt(b.readUInt32LE(12)) << 32n) | BigInt(b.readUInt32LE(16));
      assert.equal(
        ticks,
        BigInt(sec) * (precision === 'nsec' ? 1_000_000_000n : 1_000_000n) + BigInt(frac),
        `${sec}.${frac} ${precision}`,
      );
    }
    assert.throws(
      () => enhancedPacketBlock({ interfaceId: 0, tsSec: -1, tsFrac: 0, data: Buffer.alloc(0) }, 'usec'),
      RangeError,
    );
    assert.throws(
      () => enhancedPacketBlock({ interfaceId: 0, tsSec: 1.5, tsFrac: 0, data: Buffer.alloc(0) }, 'usec'),
      RangeError,
    );
    assert.throws(
      () => enhancedPacketBlock({ interfaceId: 0, tsSec: 2 ** 53, tsFrac: 0, data: Buffer.alloc(0) }, 'nsec'),
      RangeError,
    );
  });

  test("enhancedPacketBlockFromRecord keeps the record's lengths and bytes", () => {
    const record: PcapRecord = { tsSec: 10, tsFrac: 20, capLen: 3, origLen: 1500, data: Buffer.from('xyz') };
    assert.equal(
      enhancedPacketBlockFromRecord(7, record, 'nsec').toString('hex'),
      // 10 s + 20 ns = 10000000020 ticks = 0x2_540be414
      hex(`06000000 24000000 07000000 02000000 14e40b54 03000000 dc050000 ${ascii('xyz')}00 24000000`),
    );
  });

  test('NRB: ipv4 and ipv6 records, each name zero-terminated, records padded, nrb_record_end, then options', () => {
    const b = nameResolutionBlock(
      [
        { address: '10.1.2.3', names: ['web'] },
        { address: '::1', names: ['a', 'bc'] },
      ],
      { dnsName: 'k8s' },
    );
    assert.equal(
      b.toString('hex'),
      hex(`04000000 44000000
        0100 0800 0a010203 ${ascii('web')}00
        0200 1500 00000000000000000000000000000001 ${ascii('a')}00 ${ascii('bc')}00 000000
        0000 0000
        0200 0300 ${ascii('k8s')}00
        0000 0000
        44000000`),
    );
    // No records at all is valid: just the end record.
    assert.equal(nameResolutionBlock([]).toString('hex'), hex('04000000 10000000 0000 0000 10000000'));
    assert.throws(() => nameResolutionBlock([{ address: '10.0.0.1', names: [] }]), RangeError);
    assert.throws(() => nameResolutionBlock([{ address: '10.0.0.1', names: [''] }]), RangeError);
    assert.throws(() => nameResolutionBlock([{ address: 'web', names: ['x'] }]), RangeError);
    assert.throws(() => nameResolutionBlock([{ address: 'fe80::1%eth0', names: ['x'] }]), RangeError);
  });

  test('ISB: interface id, timestamp, then each counter as a u64 option', () => {
    const b = interfaceStatisticsBlock({
      interfaceId: 2,
      precision: 'usec',
      time: { tsSec: 1, tsFrac: 0 },
      ifDrop: 7,
      usrDeliv: 2n ** 40n,
    });
    assert.equal(
      b.toString('hex'),
      hex(`05000000 34000000 02000000 00000000 40420f00
        0500 0800 0700000000000000
        0800 0800 0000000000010000
        0000 0000
        34000000`),
    );
    assert.equal(
      interfaceStatisticsBlock({ interfaceId: 0, precision: 'nsec', time: { tsSec: 0, tsFrac: 0 } }).length,
      24,
    );
  });

  test("isb_starttime/isb_endtime encode the spec's own examples (2012-06-29 06:17:00.834163 and 07:28:25.298858 UTC)", () => {
    const start = { tsSec: Date.parse('2012-06-29T06:17:00Z') / 1000, tsFrac: 834163 };
    const end = { tsSec: Date.parse('2012-06-29T07:28:25Z') / 1000, tsFrac: 298858 };
    assert.equal(Buffer.from(timestampOption(2, start, 'usec').value).toString('hex'), hex('96 c3 04 00 73 89 6a 65'));
    assert.equal(Buffer.from(timestampOption(3, end, 'usec').value).toString('hex'), hex('97 c3 04 00 aa 47 ca 64'));
  });

  test('option values are padded to 4 bytes with zeros; no options means no opt_endofopt either', () => {
    for (let n = 0; n <= 9; n++) {
      const enc = encodeOptions([{ code: 1, value: Buffer.alloc(n, 0x41) }]);
      assert.equal(enc.length, 4 + Math.ceil(n / 4) * 4 + 4, `value of ${n} bytes`);
      assert.equal(enc.readUInt16LE(2), n);
      assert.ok(
        enc.subarray(4 + n).every((x) => x === 0),
        'padding and terminator are zeros',
      );
    }
    assert.equal(encodeOptions([]).length, 0);
    assert.deepEqual(
      commentOptions(['a', 'b']).map((o) => Buffer.from(o.value).toString()),
      ['a', 'b'],
    );
  });

  test('values that cannot be written are refused, not truncated', () => {
    assert.throws(() => encodeOptions([stringOption(1, 'x'.repeat(65536))]), /at most 65535/);
    assert.doesNotThrow(() => encodeOptions([stringOption(1, 'x'.repeat(65535))]));
    assert.throws(() => stringOption(1, 'a\0b'), /NUL/);
    assert.throws(() => u64Option(4, -1), RangeError);
    assert.throws(() => u64Option(4, 2n ** 64n), RangeError);
    assert.throws(() => interfaceDescriptionBlock({ linkType: 70000, snaplen: 0, precision: 'usec' }), RangeError);
    assert.throws(() => interfaceDescriptionBlock({ linkType: 1, snaplen: -1, precision: 'usec' }), RangeError);
  });

  test('timestampFromMillis splits a wall-clock time into seconds and a fraction of the precision', () => {
    assert.deepEqual(timestampFromMillis(1_796_125_725_123, 'usec'), { tsSec: 1_796_125_725, tsFrac: 123_000 });
    assert.deepEqual(timestampFromMillis(1_796_125_725_123.5, 'nsec'), { tsSec: 1_796_125_725, tsFrac: 123_500_000 });
  });
});

// capinfos -M prints one "Key: value" or "Key = value" per line; this keeps them in order.
function capinfos(file: string): string[] {
  return execFileSync('capinfos', ['-M', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '');
}

const FRAME_FIELDS = [
  'frame.len',
  'frame.cap_len',
  'frame.time_epoch',
  'ip.src',
  'ipv6.src',
  'tcp.srcport',
  'tcp.seq_raw',
  'tcp.len',
];

describe('pcapng writer against tshark, capinfos and tcpdump', { skip }, () => {
  const tmp = tempDir();
  const f = {
    v4: join(tmp.dir, 'v4.pcap'),
    v6nano: join(tmp.dir, 'v6-nano.pcap'),
    editcap: join(tmp.dir, 'editcap.pcapng'),
    ours: join(tmp.dir, 'ours.pcapng'),
    pods: join(tmp.dir, 'pods.pcapng'),
  };
  let v4: PcapFile;
  let v6: PcapFile;
  let ports: { v4: number; v6: number };

  before(async () => {
    // Two "pods": an HTTP server on 127.0.0.2 (microsecond capture) and one on ::1 (nanosecond).
    // 127.0.0.2 is in no hosts file here, so any name tshark shows for it came from our NRB.
    const s4 = await httpServer('127.0.0.2', 20_000);
    const s6 = await httpServer('::1', 20_000);
    ports = { v4: s4.port, v6: s6.port };
    await captureToFile(
      { filter: `tcp port ${s4.port}` },
      f.v4,
      async () => void (await httpGet('127.0.0.2', s4.port, '/v4')),
    );
    await captureToFile(
      { filter: `tcp port ${s6.port}`, args: ['--time-stamp-precision', 'nano'] },
      f.v6nano,
      async () => void (await httpGet('::1', s6.port, '/v6')),
    );
    await s4.close();
    await s6.close();
    v4 = readPcap(readFileSync(f.v4));
    v6 = readPcap(readFileSync(f.v6nano));
  });
  after(() => tmp.cleanup());

  test("a real capture converted record by record decodes exactly like editcap's own pcapng conversion", () => {
    execFileSync('editcap', ['-F', 'pcapng', f.v4, f.editcap]);
    for (const [src, file] of [
      [v4, f.ours],
      [v6, join(tmp.dir, 'ours-nano.pcapng')],
    ] as const) {
      writeFileSync(
        file,
        Buffer.concat([
          sectionHeaderBlock({ userAppl: 'kubectl-netns test' }),
          interfaceDescriptionBlock(interfaceFromPcapHeader(src.header)),
          ...src.records.map((r) => enhancedPacketBlockFromRecord(0, r, src.header.precision)),
        ]),
      );
      const original = src === v4 ? f.v4 : f.v6nano;
      assert.deepEqual(tsharkFields(file, FRAME_FIELDS), tsharkFields(original, FRAME_FIELDS), file);
    }
    assert.deepEqual(tsharkFields(f.ours, FRAME_FIELDS), tsharkFields(f.editcap, FRAME_FIELDS));
    assert.ok(tsharkFields(f.ours, ['frame.len']).length >= 6, 'a whole HTTP exchange');
  });

  // Two pods in one file, written the way whole-workload capture will: SHB, an IDB per pod, an NRB,
  // the packets, one ISB per interface at the end.
  function writePodsFile(): void {
    const start4 = v4.records[0] as PcapRecord;
    writeFileSync(
      f.pods,
      Buffer.concat([
        sectionHeaderBlock({
          hardware: 'x86_64',
          os: 'Linux',
          userAppl: 'kubectl-netns 0.1.0',
          comments: ['capture -l app=web'],
        }),
        interfaceDescriptionBlock(
          interfaceFromPcapHeader(v4.header, {
            name: 'shop/web-7d9/eth0',
            description: 'pod shop/web-7d9 on node n1, container app, IP 127.0.0.2',
            filter: `tcp port ${ports.v4}`,
            os: 'Linux 6.1.0',
          }),
        ),
        interfaceDescriptionBlock(
          interfaceFromPcapHeader(v6.header, {
            name: 'shop/web-x2q/eth0',
            description: 'pod shop/web-x2q on node n2, IP ::1',
            comments: ['second pod'],
          }),
        ),
        nameResolutionBlock([
          { address: '127.0.0.2', names: ['web-7d9.shop'] },
          { address: '::1', names: ['web-x2q.shop'] },
        ]),
        ...v4.records.map((r) => enhancedPacketBlockFromRecord(0, r, 'usec')),
        ...v6.records.map((r, i) =>
          i === 0
            ? enhancedPacketBlock({ ...r, interfaceId: 1, comments: ['first v6 packet'] }, 'nsec')
            : enhancedPacketBlockFromRecord(1, r, 'nsec'),
        ),
        interfaceStatisticsBlock({
          interfaceId: 0,
          precision: 'usec',
          time: { tsSec: start4.tsSec + 5, tsFrac: 0 },
          startTime: start4,
          endTime: { tsSec: start4.tsSec + 5, tsFrac: 0 },
          ifRecv: 120,
          ifDrop: 7,
          filterAccept: 110,
          osDrop: 3,
          usrDeliv: 100,
          comments: ['counters from tcpdump'],
        }),
        interfaceStatisticsBlock({
          interfaceId: 1,
          precision: 'nsec',
          time: { tsSec: start4.tsSec + 5, tsFrac: 1 },
          ifDrop: 0,
        }),
      ]),
    );
  }

  test("tshark shows each packet on its pod's interface: id, name, description, time and TCP fields", () => {
    writePodsFile();
    const rows = tsharkFields(f.pods, [
      'frame.interface_id',
      'frame.interface_name',
      'frame.interface_description',
      ...FRAME_FIELDS,
      'frame.comment',
    ]);
    const expectRows = (src: PcapFile, file: string, id: string, name: string, description: string) =>
      tsharkFields(file, FRAME_FIELDS).map((r, i) => [
        id,
        name,
        description,
        ...r,
        src === v6 && i === 0 ? 'first v6 packet' : '',
      ]);
    assert.deepEqual(rows, [
      ...expectRows(v4, f.v4, '0', 'shop/web-7d9/eth0', 'pod shop/web-7d9 on node n1, container app, IP 127.0.0.2'),
      ...expectRows(v6, f.v6nano, '1', 'shop/web-x2q/eth0', 'pod shop/web-x2q on node n2, IP ::1'),
    ]);
    // Times keep each interface's own precision: microseconds end in 000, nanoseconds are exact.
    assert.deepEqual(
      rows.map((r) => r[5]),
      [
        ...v4.records.map((r) => epochString(r.tsSec, r.tsFrac, 'usec')),
        ...v6.records.map((r) => epochString(r.tsSec, r.tsFrac, 'nsec')),
      ],
    );
  });

  test('tshark -N n (external resolvers off) names the pods from the NRB', () => {
    writePodsFile();
    // -N n: network names from the file and hosts files only; external resolvers (N) stay off.
    const rows = tsharkFields(
      f.pods,
      ['ip.src', 'ip.src_host', 'ip.dst_host', 'ipv6.src_host', 'ipv6.dst_host'],
      ['-N', 'n'],
    );
    const v4Rows = rows.filter((r) => r[0] !== '');
    const v6Rows = rows.filter((r) => r[0] === '');
    assert.ok(v4Rows.length > 0 && v6Rows.length > 0);
    for (const r of v4Rows)
      assert.ok(r[1] === 'web-7d9.shop' || r[2] === 'web-7d9.shop', `127.0.0.2 named in ${r.join(' ')}`);
    for (const r of v6Rows) assert.deepEqual(r.slice(3), ['web-x2q.shop', 'web-x2q.shop']);
    // Without name resolution the same fields are plain addresses: the names come from the file.
    const plain = tsharkFields(f.pods, ['ip.src_host', 'ip.dst_host', 'ipv6.src_host'], ['-n']);
    assert.ok(plain.flat().every((v) => !v.includes('web-')));
  });

  test('with several names for one address, Wireshark 4.0 shows the last one', () => {
    const file = join(tmp.dir, 'two-names.pcapng');
    writeFileSync(
      file,
      Buffer.concat([
        sectionHeaderBlock(),
        interfaceDescriptionBlock(interfaceFromPcapHeader(v4.header)),
        nameResolutionBlock([{ address: '127.0.0.2', names: ['first.shop', 'last.shop'] }]),
        ...v4.records.map((r) => enhancedPacketBlockFromRecord(0, r, 'usec')),
      ]),
    );
    const hosts = new Set(tsharkFields(file, ['ip.src_host', 'ip.dst_host'], ['-N', 'n']).flat());
    assert.ok(hosts.has('last.shop') && !hosts.has('first.shop'), [...hosts].join(' '));
  });

  test('capinfos reads the SHB, both IDBs with their options, one ISB per interface and the NRB', () => {
    writePodsFile();
    const info = capinfos(f.pods);
    const has = (line: string) => assert.ok(info.includes(line), `capinfos says "${line}" in:\n${info.join('\n')}`);
    has(`Number of packets: ${v4.records.length + v6.records.length}`);
    has('Capture hardware: x86_64');
    has('Capture oper-sys: Linux');
    has('Capture application: kubectl-netns 0.1.0');
    has('Capture comment: capture -l app=web');
    has('Number of interfaces in file: 2');
    has('Name = shop/web-7d9/eth0');
    has('Description = pod shop/web-7d9 on node n1, container app, IP 127.0.0.2');
    has(`Filter string = tcp port ${ports.v4}`);
    has('Operating system = Linux 6.1.0');
    has('Time precision = microseconds (6)');
    has('Name = shop/web-x2q/eth0');
    has('Time precision = nanoseconds (9)');
    has('Comment = second pod');
    assert.deepEqual(
      info.filter((l) => l.startsWith('Number of stat entries')),
      ['Number of stat entries = 1', 'Number of stat entries = 1'],
    );
    has('Number of resolved IPv4 addresses in file: 1');
    has('Number of resolved IPv6 addresses in file: 1');
  });

  test('our reader finds the same ISB counters and times, and the NRB records', () => {
    writePodsFile();
    const ng = readPcapng(readFileSync(f.pods));
    const start4 = v4.records[0] as PcapRecord;
    assert.deepEqual(
      ng.statistics.map((s) => [
        s.interfaceId,
        s.tsSec,
        s.startTime,
        s.endTime,
        s.ifRecv,
        s.ifDrop,
        s.filterAccept,
        s.osDrop,
        s.usrDeliv,
      ]),
      [
        [
          0,
          start4.tsSec + 5,
          { tsSec: start4.tsSec, tsNanos: start4.tsFrac * 1000 },
          { tsSec: start4.tsSec + 5, tsNanos: 0 },
          120n,
          7n,
          110n,
          3n,
          100n,
        ],
        [1, start4.tsSec + 5, undefined, undefined, undefined, 0n, undefined, undefined, undefined],
      ],
    );
    assert.deepEqual(ng.names, [
      { address: '127.0.0.2', names: ['web-7d9.shop'] },
      { address: '::1', names: ['web-x2q.shop'] },
    ]);
  });

  test("tcpdump (libpcap) reads the two-interface file when link type and snaplen agree, with each interface's precision", () => {
    writePodsFile();
    assert.equal(v4.header.snaplen, v6.header.snaplen);
    const lines = execFileSync('tcpdump', ['-r', f.pods, '-nn', '-tt', '--time-stamp-precision', 'nano'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter((l) => /^\d+\.\d{9} /.test(l))
      .map((l) => l.split(' ')[0]);
    assert.deepEqual(lines, [
      ...v4.records.map((r) => epochString(r.tsSec, r.tsFrac, 'usec')),
      ...v6.records.map((r) => epochString(r.tsSec, r.tsFrac, 'nsec')),
    ]);
  });
});
