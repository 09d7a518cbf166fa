// The packet decoder and summary against tshark's dissection of real loopback traffic: HTTP over
// IPv4 and IPv6, UDP to a closed port and the ICMP/ICMPv6 errors the kernel sends back, captured
// as Ethernet (lo), Linux cooked v1 and v2 (any). Other link layers are made by re-wrapping those
// real IP packets with our writer, and tshark decodes those files too.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LinkType, type PcapRecord } from '../../../src/pcap/format.ts';
import {
  decodePacket,
  formatEndpoint,
  formatIPv6,
  payloadOf,
  summarize,
  tcpFlagsString,
  type DecodedPacket,
} from './packets.ts';
import { readPcap } from './reader.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../src/pcap/writer.ts';
import {
  captureToFile,
  freeUdpPort,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
  udpToClosedPort,
} from './fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark']);

const TSHARK_FIELDS = [
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.len',
  'tcp.seq_raw',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'icmp.type',
  'icmp.code',
  'icmpv6.type',
  'icmpv6.code',
];

// One comparable row: [src, dst, protocol, srcPort, dstPort, tcpFlags, payloadLen, tcpSeq, icmpType, icmpCode].
type Row = (string | number | undefined)[];

function ourRow(p: DecodedPacket): Row {
  const l4 = p.protocol === 'tcp' || p.protocol === 'udp';
  return [
    p.src,
    p.dst,
    p.protocol,
    l4 ? p.srcPort : undefined,
    l4 ? p.dstPort : undefined,
    p.tcpFlags,
    l4 ? p.payloadLength : undefined,
    p.tcpSeq,
    p.icmpType,
    p.icmpCode,
  ];
}

// tshark repeats ip.src for the packet quoted inside an ICMP error ("a,b"): the first one is the outer header.
function tsharkRow(f: string[]): Row {
  const [ipSrc, ipDst, ip6Src, ip6Dst, tSrc, tDst, tFlags, tLen, tSeq, uSrc, uDst, uLen, iType, iCode, i6Type, i6Code] =
    f.map((v) => (v === '' ? undefined : v.split(',')[0]));
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const protocol =
    iType !== undefined
      ? 'icmp'
      : i6Type !== undefined
        ? 'icmpv6'
        : tSrc !== undefined
          ? 'tcp'
          : uSrc !== undefined
            ? 'udp'
            : undefined;
  const isTcp = protocol === 'tcp';
  const isUdp = protocol === 'udp';
  return [
    ipSrc ?? ip6Src,
    ipDst ?? ip6Dst,
    protocol,
    num(isTcp ? tSrc : isUdp ? uSrc : undefined),
    num(isTcp ? tDst : isUdp ? uDst : undefined),
    isTcp && tFlags !== undefined ? Number(tFlags) & 0xff : undefined, // tshark includes the AE/reserved bits
    isTcp ? num(tLen) : isUdp && uLen !== undefined ? Number(uLen) - 8 : undefined,
    isTcp ? num(tSeq) : undefined,
    num(iType ?? i6Type),
    num(iCode ?? i6Code),
  ];
}

function assertDecodesLikeTshark(file: string, records: readonly PcapRecord[], linkType: number): void {
  const expected = tsharkFields(file, TSHARK_FIELDS).map(tsharkRow);
  assert.equal(records.length, expected.length);
  records.forEach((r, i) =>
    assert.deepEqual(ourRow(decodePacket(linkType, r.data)), expected[i], `${file} packet ${i + 1}`),
  );
}

describe('decodePacket and summarize on real loopback traffic', { skip }, () => {
  const tmp = tempDir();
  const files = { lo: join(tmp.dir, 'lo.pcap'), any: join(tmp.dir, 'any.pcap'), sll1: join(tmp.dir, 'sll1.pcap') };
  const ports = { http4: 0, http6: 0, udp4: 0, udp6: 0 };

  before(async () => {
    const s4 = await httpServer('127.0.0.1', 2000);
    const s6 = await httpServer('::1', 2000);
    ports.http4 = s4.port;
    ports.http6 = s6.port;
    ports.udp4 = await freeUdpPort('udp4');
    ports.udp6 = await freeUdpPort('udp6');
    // Only the ICMP errors our own UDP packets cause (the quoted UDP header names our port), not
    // whatever else pings on lo while the test runs.
    const icmpOurs = `(icmp and icmp[0] == 3 and icmp[30:2] == ${ports.udp4}) or (icmp6 and ip6[40] == 1 and ip6[90:2] == ${ports.udp6})`;
    const filter = `tcp port ${s4.port} or tcp port ${s6.port} or udp port ${ports.udp4} or udp port ${ports.udp6} or ${icmpOurs}`;
    const traffic = async () => {
      await httpGet('127.0.0.1', s4.port, '/index.html');
      await httpGet('::1', s6.port, '/v6/path?q=1');
      await udpToClosedPort('127.0.0.1', ports.udp4, 'hello');
      await udpToClosedPort('::1', ports.udp6, 'hello6');
    };
    await captureToFile({ iface: 'lo', filter }, files.lo, traffic);
    await captureToFile({ iface: 'any', filter }, files.any, traffic);
    await captureToFile({ iface: 'any', filter, args: ['-y', 'LINUX_SLL'] }, files.sll1, traffic);
    await s4.close();
    await s6.close();
  });
  after(() => tmp.cleanup());

  test('every packet decodes to the addresses, ports, flags, lengths and ICMP types tshark shows', () => {
    for (const [name, file] of Object.entries(files)) {
      const f = readPcap(readFileSync(file));
      assert.equal(
        f.header.linkType,
        { lo: LinkType.EN10MB, any: LinkType.LINUX_SLL2, sll1: LinkType.LINUX_SLL }[name],
      );
      assertDecodesLikeTshark(file, f.records, f.header.linkType);
    }
  });

  test('summarize finds the SYNs, the conversations and the GET lines', () => {
    for (const file of Object.values(files)) {
      const f = readPcap(readFileSync(file));
      const s = summarize(f.records, f.header.linkType);
      assert.equal(s.packets, f.records.length);
      assert.equal(
        s.bytes,
        f.records.reduce((n, r) => n + r.origLen, 0),
      );
      assert.equal(s.tcpSyns, 2, 'one SYN per connection (IPv4 and IPv6)');
      assert.equal(s.protocols.udp, 2);
      assert.equal(s.protocols.icmp, 1);
      assert.equal(s.protocols.icmpv6, 1);
      assert.equal(s.protocols.tcp, f.records.length - 4);

      const http4 = s.conversations.find((c) => c.protocol === 'tcp' && c.dstPort === ports.http4);
      const http6 = s.conversations.find((c) => c.protocol === 'tcp' && c.dstPort === ports.http6);
      assert.ok(http4 && http6, 'both HTTP conversations, oriented client → server');
      assert.equal(http4.src, '127.0.0.1');
      assert.equal(http6.src, '::1');
      // Packet counts per conversation, as tshark filters them.
      const count = (display: string) => tsharkFields(file, ['frame.number'], ['-Y', display]).length;
      assert.equal(http4.packets, count(`tcp.port == ${ports.http4}`));
      assert.equal(http6.packets, count(`tcp.port == ${ports.http6}`));
      assert.ok(s.conversations.some((c) => c.protocol === 'udp' && c.dstPort === ports.udp4 && c.packets === 1));
      assert.ok(s.conversations.some((c) => c.protocol === 'icmpv6' && c.src === '::1' && c.srcPort === undefined));
      assert.equal(s.conversations[0], http4.bytes >= http6.bytes ? http4 : http6, 'biggest first');

      assert.deepEqual(
        s.httpRequests.map((r) => [formatEndpoint(r.dst, r.dstPort), r.line]),
        [
          [`127.0.0.1:${ports.http4}`, 'GET /index.html HTTP/1.1'],
          [`[::1]:${ports.http6}`, 'GET /v6/path?q=1 HTTP/1.1'],
        ],
      );
      // tshark's HTTP dissector finds the same requests from the same client ports.
      const tsharkRequests = tsharkFields(
        file,
        ['tcp.srcport', 'http.request.method', 'http.request.uri', 'http.request.version'],
        ['-Y', 'http.request'],
      );
      assert.deepEqual(
        s.httpRequests.map((r) => [String(r.srcPort), ...r.line.split(' ')]),
        tsharkRequests,
      );
      assert.equal(s.httpRequestCount, 2);
    }
  });

  test('other link layers (VLAN, QinQ, NULL, LOOP, RAW, IPV4/IPV6) decode like tshark decodes them', () => {
    const lo = readPcap(readFileSync(files.lo));
    // The network-layer bytes of each real packet (Ethernet header stripped).
    const l3 = lo.records.map((r) => ({ ...r, data: r.data.subarray(14) }));
    const isV6 = (d: Buffer) => (d[0] as number) >> 4 === 6;
    const u32 = (v: number, le: boolean) => {
      const b = Buffer.alloc(4);
      if (le) b.writeUInt32LE(v);
      else b.writeUInt32BE(v);
      return b;
    };
    const eth = (d: Buffer, tags: number[]) => {
      const tagBytes = tags.map((tpid, i) => Buffer.from([tpid >> 8, tpid & 0xff, 0x00, 10 + i]));
      return Buffer.concat([
        Buffer.alloc(12, 0x02),
        ...tagBytes,
        Buffer.from(isV6(d) ? [0x86, 0xdd] : [0x08, 0x00]),
        d,
      ]);
    };
    const variants: { name: string; linkType: number; wrap: (d: Buffer) => Buffer; only?: 4 | 6 }[] = [
      { name: 'vlan', linkType: LinkType.EN10MB, wrap: (d) => eth(d, [0x8100]) },
      { name: 'qinq', linkType: LinkType.EN10MB, wrap: (d) => eth(d, [0x88a8, 0x8100]) },
      // DLT_NULL is in the writer's byte order; 24 is the BSD AF_INET6 tshark knows.
      { name: 'null-le', linkType: LinkType.NULL, wrap: (d) => Buffer.concat([u32(isV6(d) ? 24 : 2, true), d]) },
      { name: 'null-be', linkType: LinkType.NULL, wrap: (d) => Buffer.concat([u32(isV6(d) ? 24 : 2, false), d]) },
      { name: 'loop', linkType: LinkType.LOOP, wrap: (d) => Buffer.concat([u32(isV6(d) ? 24 : 2, false), d]) },
      { name: 'raw', linkType: LinkType.RAW, wrap: (d) => d },
      { name: 'ipv4', linkType: LinkType.IPV4, wrap: (d) => d, only: 4 },
      { name: 'ipv6', linkType: LinkType.IPV6, wrap: (d) => d, only: 6 },
    ];
    for (const v of variants) {
      const picked = l3.filter((r) => v.only === undefined || (v.only === 6) === isV6(r.data));
      const file = join(tmp.dir, `${v.name}.pcap`);
      const records = picked.map((r) => ({ ...r, data: v.wrap(r.data) }));
      writeFileSync(
        file,
        Buffer.concat([
          pcapGlobalHeader({ linkType: v.linkType }),
          ...records.map((r) => pcapRecord({ tsSec: r.tsSec, tsFrac: r.tsFrac, data: r.data })),
        ]),
      );
      const back = readPcap(readFileSync(file));
      assertDecodesLikeTshark(file, back.records, v.linkType);
    }
  });

  test('cut-short packets (any snaplen) decode partially and never throw', () => {
    const f = readPcap(readFileSync(files.any));
    for (const r of f.records) {
      const full = decodePacket(f.header.linkType, r.data);
      for (let len = 0; len <= r.data.length; len++) {
        const cut = r.data.subarray(0, len);
        const p = decodePacket(f.header.linkType, cut);
        if (p.src !== undefined) assert.equal(p.src, full.src);
        if (p.srcPort !== undefined) assert.equal(p.srcPort, full.srcPort);
        assert.ok(payloadOf(p, cut).length <= Math.max(0, len - (p.payloadOffset ?? 0)));
      }
    }
  });
});

describe('packet helpers (no capture needed)', () => {
  test('IPv6 addresses are printed in RFC 5952 form', () => {
    const v6 = (hex: string) => formatIPv6(Buffer.from(hex, 'hex'), 0);
    assert.equal(v6('00000000000000000000000000000001'), '::1');
    assert.equal(v6('00000000000000000000000000000000'), '::');
    assert.equal(v6('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
    assert.equal(v6('20010db8000000010000000000000001'), '2001:db8:0:1::1');
    assert.equal(v6('20010db8000100010001000100010001'), '2001:db8:1:1:1:1:1:1');
    assert.equal(
      v6('20010db8000100000001000100010001'),
      '2001:db8:1:0:1:1:1:1',
      'a single zero group is not shortened',
    );
    assert.equal(v6('fe800000000000000000000000000001'), 'fe80::1');
    assert.equal(v6('00000000000000000000ffff0a000001'), '::ffff:10.0.0.1');
  });

  test('tcpFlagsString uses tcpdump letters', () => {
    assert.equal(tcpFlagsString(0x02), 'S');
    assert.equal(tcpFlagsString(0x12), 'S.');
    assert.equal(tcpFlagsString(0x18), 'P.');
    assert.equal(tcpFlagsString(0x11), 'F.');
    assert.equal(tcpFlagsString(0x04), 'R');
    assert.equal(tcpFlagsString(0), 'none');
  });

  test('unknown link types and non-IP frames are counted, not decoded', () => {
    const arp = Buffer.concat([Buffer.alloc(12, 0xff), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    assert.equal(decodePacket(LinkType.EN10MB, arp).protocol, 'arp');
    assert.equal(decodePacket(9999, Buffer.alloc(64)).protocol, 'other');
    const s = summarize(
      [
        { data: arp, origLen: 60 },
        { data: Buffer.alloc(3), origLen: 3 },
      ],
      LinkType.EN10MB,
    );
    assert.deepEqual(s.protocols, { arp: 1, other: 1 });
    assert.equal(s.conversations.length, 0);
    // Per-interface link types (pcapng) pick the right decoder.
    const raw = Buffer.from('4500001400000000400600007f0000017f000002', 'hex');
    const multi = summarize([{ data: raw, origLen: 20, interfaceId: 1 }], [LinkType.EN10MB, LinkType.RAW]);
    assert.equal(multi.conversations[0]?.dst, '127.0.0.2');
  });
});
