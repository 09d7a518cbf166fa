// Benchmark: how fast PcapStreamParser keeps up with a capture stream, next to naive parsers
// measured in the same run so the ratios mean something on any machine. Prints figures only;
// timings are never asserted.
//
//   node scripts/bench/pcap-parse.ts [--mib 256] [--chunk 65536] [--rounds 3] [--whole-mib 32]
//
// Baselines:
//   tail-concat  `pending = Buffer.concat([pending, chunk])`, dropping parsed bytes: copies every
//                byte once more than needed.
//   whole-concat `all = Buffer.concat([all, chunk])` keeping the whole stream: quadratic, so it runs
//                on a --whole-mib prefix only, against our parser on the same prefix.
// Every measured run receives each 64 KiB chunk as a fresh copy, as a socket read delivers it (the
// kernel has just written it, so it is in cache). Parsing views of one huge pre-generated buffer
// instead would measure cache misses on cold memory, not the parsers. The "socket copy only" row is
// that delivery alone: the floor under every other row.

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { PcapStreamParser } from '../../src/pcap/stream-reader.ts';
import { pcapGlobalHeader, writePcapRecordHeader } from '../../src/pcap/writer.ts';
import { LinkType, PCAP_GLOBAL_HEADER_LEN, PCAP_RECORD_HEADER_LEN } from '../../src/pcap/format.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    chunk: { type: 'string', default: '65536' },
    rounds: { type: 'string', default: '3' },
    'whole-mib': { type: 'string', default: '32' },
  },
});
const totalBytes = Number(values.mib) * 1024 * 1024;
const chunkSize = Number(values.chunk);
const rounds = Number(values.rounds);
const wholeBytes = Math.min(totalBytes, Number(values['whole-mib']) * 1024 * 1024);

type SizeMix = 'mixed' | 'mtu';

// Deterministic sizes shaped like pod traffic: bare ACKs, full-MTU frames, a spread in between,
// and (mixed only) 64 KiB GSO/GRO super-frames as tcpdump sees them inside a pod.
function sizeSource(mix: SizeMix): () => number {
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  return () => {
    const r = rand();
    if (r < 0.4) return 64 + Math.floor(rand() * 40);
    if (r < 0.7) return 1514;
    if (r < 0.95 || mix === 'mtu') return 100 + Math.floor(rand() * 1414);
    return 65535 + Math.floor(rand() * 14);
  };
}

// Lays records out directly in one buffer with the writer's header function (no second copy).
function generate(mix: SizeMix): Buffer {
  const stream = Buffer.allocUnsafe(totalBytes);
  pcapGlobalHeader({ linkType: LinkType.EN10MB }).copy(stream, 0);
  const next = sizeSource(mix);
  let off = PCAP_GLOBAL_HEADER_LEN;
  let records = 0;
  let usec = 0;
  for (;;) {
    const len = next();
    if (off + PCAP_RECORD_HEADER_LEN + len > totalBytes) break;
    writePcapRecordHeader(stream, off, 1_700_000_000 + Math.floor(usec / 1e6), usec % 1e6, len, len);
    stream.fill(records & 0xff, off + PCAP_RECORD_HEADER_LEN, off + PCAP_RECORD_HEADER_LEN + len);
    off += PCAP_RECORD_HEADER_LEN + len;
    usec += 7;
    records++;
  }
  return stream.subarray(0, off);
}

function chunksOf(stream: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let off = 0; off < stream.length; off += chunkSize) chunks.push(stream.subarray(off, off + chunkSize));
  return chunks;
}

function u32le(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
}

// Parses complete records of buf from off; returns [newOffset, packets].
function parseFrom(buf: Buffer, off: number, onRecord?: (data: Buffer) => void): [number, number] {
  let packets = 0;
  while (buf.length - off >= PCAP_RECORD_HEADER_LEN) {
    const end = off + PCAP_RECORD_HEADER_LEN + u32le(buf, off + 8);
    if (end > buf.length) break;
    onRecord?.(buf.subarray(off + PCAP_RECORD_HEADER_LEN, end));
    packets++;
    off = end;
  }
  return [off, packets];
}

// What a socket read hands to the 'data' handler: a new buffer holding a copy of the bytes.
const deliver = (chunk: Buffer): Buffer => Buffer.from(chunk);

function copyOnly(chunks: readonly Buffer[]): number {
  let bytes = 0;
  for (const chunk of chunks) bytes += deliver(chunk).length;
  return bytes;
}

function tailConcat(chunks: readonly Buffer[], onRecord?: (data: Buffer) => void): number {
  let pending = Buffer.alloc(0);
  let headerDone = false;
  let packets = 0;
  for (const chunk of chunks) {
    pending = Buffer.concat([pending, deliver(chunk)]);
    if (!headerDone) {
      if (pending.length < PCAP_GLOBAL_HEADER_LEN) continue;
      pending = pending.subarray(PCAP_GLOBAL_HEADER_LEN);
      headerDone = true;
    }
    const [off, n] = parseFrom(pending, 0, onRecord);
    packets += n;
    pending = pending.subarray(off);
  }
  return packets;
}

function wholeConcat(chunks: readonly Buffer[], onRecord?: (data: Buffer) => void): number {
  let all = Buffer.alloc(0);
  let off = PCAP_GLOBAL_HEADER_LEN;
  let packets = 0;
  for (const chunk of chunks) {
    all = Buffer.concat([all, deliver(chunk)]);
    if (all.length < off) continue;
    const [next, n] = parseFrom(all, off, onRecord);
    packets += n;
    off = next;
  }
  return packets;
}

function ours(chunks: readonly Buffer[], onRecord?: (data: Buffer) => void): number {
  const p = new PcapStreamParser(onRecord ? { onRecord: (r) => onRecord(r.data) } : {});
  for (const c of chunks) p.push(deliver(c));
  return p.packets;
}

let sink = 0; // consumed by the callbacks so the work cannot be optimised away
const consume = (d: Buffer) => {
  sink += d.length;
};

interface Row {
  name: string;
  seconds: number;
  packets: number | undefined;
  bytes: number;
  peakRss: number;
}

function measure(name: string, bytes: number, run: () => number, counts = true): Row {
  let best = Infinity;
  let packets = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    packets = run();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return { name, seconds: best, packets: counts ? packets : undefined, bytes, peakRss: process.resourceUsage().maxRSS * 1024 };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const out = (s: string) => process.stdout.write(`${s}\n`);

function report(title: string, rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  out(title);
  for (const r of rows) {
    const recs = r.packets === undefined ? '' : `${fmt(r.packets / r.seconds).padStart(11)} records/s`;
    out(
      `  ${r.name.padEnd(width)}  ${fmt(r.bytes / 1e6 / r.seconds).padStart(7)} MB/s  ${recs.padEnd(21)}  ${fmt(r.seconds * 1000, 1).padStart(8)} ms` +
        `  peak RSS so far ${fmt(r.peakRss / 1048576)} MiB`,
    );
  }
  const counts = new Set(rows.flatMap((r) => (r.packets === undefined ? [] : [r.packets])));
  if (counts.size !== 1) throw new Error(`parsers disagree on the record count: ${[...counts].join(', ')}`);
}

const ratio = (slow: Row, fast: Row) => `${fmt(slow.seconds / fast.seconds, 1)}x`;
const mixes = { mixed: '64..1514 B frames plus 5% 64 KiB GSO frames', mtu: '64..1514 B frames only' } as const;

out(`pcap stream parsing, ${fmt(totalBytes / 1048576)} MiB per mix, chunks of ${chunkSize} B, best of ${rounds} rounds`);
// whole-concat leaves gigabytes of garbage behind, so it runs last, on copies of short prefixes.
const prefixes: [SizeMix, Buffer[]][] = [];
for (const mix of ['mixed', 'mtu'] as const) {
  const stream = generate(mix);
  const chunks = chunksOf(stream);
  const records = ours(chunks);
  out(`\n== ${mixes[mix]}: ${fmt(stream.length / 1e6, 1)} MB, ${fmt(records)} records (mean ${fmt(stream.length / records)} B)`);
  const b = stream.length;
  const rows = [
    measure('socket copy only (floor)', b, () => copyOnly(chunks), false),
    measure('ours, counters only', b, () => ours(chunks)),
    measure('ours, onRecord', b, () => ours(chunks, consume)),
    measure('tail-concat, count only', b, () => tailConcat(chunks)),
    measure('tail-concat, per record', b, () => tailConcat(chunks, consume)),
  ];
  report('full stream:', rows);
  const [floor, oc, or, tc, tr] = rows as [Row, Row, Row, Row, Row];
  out(`  ours vs tail-concat: ${ratio(tc, oc)} faster counting, ${ratio(tr, or)} per record`);
  out(`  parsing beyond the socket copy: ours ${fmt((oc.seconds - floor.seconds) * 1e9 / records, 1)} ns/record counting, ${fmt((or.seconds - floor.seconds) * 1e9 / records, 1)} ns/record with onRecord`);
  prefixes.push([mix, chunks.slice(0, Math.ceil(wholeBytes / chunkSize)).map((c) => Buffer.from(c))]);
}

for (const [mix, prefix] of prefixes) {
  const pb = prefix.reduce((n, c) => n + c.length, 0);
  const rows = [measure('ours, onRecord', pb, () => ours(prefix, consume)), measure('whole-concat, per record', pb, () => wholeConcat(prefix, consume))];
  report(`\n== ${mixes[mix]}, first ${fmt(pb / 1048576)} MiB only (whole-concat is quadratic):`, rows);
  out(`  ours vs whole-concat: ${ratio(rows[1] as Row, rows[0] as Row)} faster, and the gap grows with the stream`);
}
out(`\npeak RSS ${fmt(process.resourceUsage().maxRSS / 1024)} MiB${sink < 0 ? '!' : ''}`);
