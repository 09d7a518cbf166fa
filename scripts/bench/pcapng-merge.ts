// Benchmark: the client-side cost of whole-workload capture per packet: PacketMerger ordering N
// sources, EPB encoding, and both together, next to the floor of copying each packet once (what
// any encoder must do). Prints figures only; timings are never asserted.
//
//   node scripts/bench/pcapng-merge.ts [--packets 1000000] [--rounds 3]
//
// Sources deliver in bursts of 32 records (as exec-stream chunks do), round-robin, each with its
// own monotonic kernel timestamps; the merger drains after every burst, as the capture loop will.

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { PacketMerger } from '../../src/pcap/merge.ts';
import { enhancedPacketBlockFromRecord } from '../../src/pcap/pcapng-writer.ts';
import type { PcapRecord } from '../../src/pcap/format.ts';

const { values } = parseArgs({ options: { packets: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } } });
const total = Number(values.packets);
const rounds = Number(values.rounds);

// Deterministic pod-like sizes: ACKs, MTU frames, a spread in between.
function records(sources: number): PcapRecord[][] {
  let seed = 0x2545f491;
  const rand = () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), (seed >>> 0) / 2 ** 32);
  const per = Math.ceil(total / sources);
  return Array.from({ length: sources }, (_, s) => {
    let usec = s * 3;
    return Array.from({ length: per }, () => {
      const r = rand();
      const len = r < 0.4 ? 66 : r < 0.7 ? 1514 : 100 + Math.floor(rand() * 1414);
      usec += 1 + Math.floor(rand() * 20);
      return { tsSec: 1_700_000_000 + Math.floor(usec / 1e6), tsFrac: usec % 1e6, capLen: len, origLen: len, data: Buffer.alloc(len, s) };
    });
  });
}

function best(fn: () => number): { ms: number; out: number } {
  let ms = Infinity;
  let out = 0;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    out = fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, out };
}

function row(name: string, packets: number, bytes: number, ms: number): void {
  const mpps = packets / ms / 1000;
  const mbps = bytes / ms / 1000;
  process.stdout.write(`  ${name.padEnd(34)} ${mpps.toFixed(2).padStart(6)} Mpkt/s ${mbps.toFixed(0).padStart(6)} MB/s of packet data\n`);
}

process.stdout.write(`pcapng-merge: ${total} packets, best of ${rounds}\n`);
for (const n of [2, 8, 64]) {
  const srcs = records(n);
  const bytes = srcs.reduce((a, s) => a + s.reduce((b, r) => b + r.capLen, 0), 0);
  const packets = srcs.reduce((a, s) => a + s.length, 0);
  // Visits every record in arrival order: bursts of 32 per source, round-robin.
  const arrive = (visit: (s: number, r: PcapRecord) => void, burstDone: () => void) => {
    for (let i = 0; i < srcs[0]!.length; i += 32) {
      for (let s = 0; s < n; s++) {
        const src = srcs[s]!;
        for (let j = i; j < Math.min(i + 32, src.length); j++) visit(s, src[j]!);
        burstDone();
      }
    }
  };
  const merge = (encode: boolean) => () => {
    const m = new PacketMerger<PcapRecord>({ windowMs: 2000, maxBufferedBytes: 256 * 1024 * 1024, now: () => 0 });
    for (let s = 0; s < n; s++) m.addSource(String(s));
    let out = 0;
    const take = () => {
      for (let r = m.next(); r; r = m.next()) out += encode ? enhancedPacketBlockFromRecord(Number(r.source), r.value, 'usec').length : 1;
    };
    arrive((s, r) => m.push(String(s), r.tsSec, r.tsFrac * 1000, r.capLen + 16, r), take);
    for (let s = 0; s < n; s++) m.endSource(String(s));
    take();
    return out;
  };
  const each = (work: (s: number, r: PcapRecord) => number) => () => {
    let x = 0;
    arrive((s, r) => (x += work(s, r)), () => {});
    return x;
  };
  process.stdout.write(`${n} sources:\n`);
  row('copy each packet once (floor)', packets, bytes, best(each((_, r) => Buffer.from(r.data).length)).ms);
  row('EPB encode only', packets, bytes, best(each((s, r) => enhancedPacketBlockFromRecord(s, r, 'usec').length)).ms);
  row('merge only (push + next)', packets, bytes, best(merge(false)).ms);
  row('merge + EPB encode', packets, bytes, best(merge(true)).ms);
}
