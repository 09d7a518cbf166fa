// Benchmark: client memory of a whole-workload capture's merged pcapng output, for 1 GB of packets
// from 5 pods, into a file and into a deliberately slow reader. Prints peak RSS and throughput;
// nothing is asserted. Memory must stay flat: the reorder window and the exec streams' backpressure
// bound what is held, whatever the capture's size.
//
//   node scripts/bench/merged-memory.ts [--gigabytes 1] [--pods 5] [--slow-mbps 400] [--reorder-mib 32]
//
// The packets are real: one tcpdump capture of UDP traffic on loopback (made here, bounded), replayed
// by each "pod" with its timestamps moved forward, so the sources interleave as pods' captures do.
// Each mode runs in its own process, so each peak RSS is its own.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PcapngOutput } from '../../src/output/pcapng-output.ts';
import { fileSink, stdoutSink } from '../../src/output/sink.ts';

const { values } = parseArgs({
  options: {
    gigabytes: { type: 'string', default: '1' },
    pods: { type: 'string', default: '5' },
    'slow-mbps': { type: 'string', default: '400' },
    'reorder-mib': { type: 'string', default: '32' },
    mode: { type: 'string' },
    sample: { type: 'string' },
  },
});
const totalBytes = Number(values.gigabytes) * 1e9;
const pods = Number(values.pods);

/** A real pcap: tcpdump on lo while 3000 datagrams of 1200 bytes go to a closed port (bounded). */
async function makeSample(dir: string): Promise<string> {
  const file = join(dir, 'sample.pcap');
  const port = 40000 + Math.floor(Math.random() * 10000);
  const tcpdump = spawn('tcpdump', ['-i', 'lo', '-U', '-w', file, '-c', '3000', `udp dst port ${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve) => tcpdump.stderr.on('data', (b: Buffer) => /listening/.test(String(b)) && resolve()));
  const sock = createSocket('udp4');
  const payload = Buffer.alloc(1200, 0x5a);
  for (let i = 0; i < 3000 && tcpdump.exitCode === null; i++) {
    await new Promise<void>((resolve) => sock.send(payload, port, '127.0.0.1', () => resolve()));
    if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  sock.close();
  await new Promise((resolve) => (tcpdump.exitCode !== null ? resolve(null) : tcpdump.once('exit', resolve)));
  return file;
}

/** The sample's records re-stamped: pod P's copy N starts where copy N-1 ended, offset by P µs. */
function* podStream(sample: Buffer, pod: number, bytes: number): Generator<Buffer> {
  const header = sample.subarray(0, 24);
  yield header;
  const first = sample.readUInt32LE(24);
  let sent = 24;
  for (let copy = 0; sent < bytes; copy++) {
    const out = Buffer.from(sample.subarray(24));
    for (let at = 0; at + 16 <= out.length; ) {
      const sec = out.readUInt32LE(at);
      out.writeUInt32LE(sec - first + copy * 2 + 1_700_000_000, at);
      out.writeUInt32LE((out.readUInt32LE(at + 4) + pod) % 1_000_000, at + 4);
      at += 16 + out.readUInt32LE(at + 8);
    }
    for (let at = 0; at < out.length; at += 64 * 1024) yield out.subarray(at, at + 64 * 1024);
    sent += out.length;
  }
}

/** One mode in this process: feed every pod's stream into the merged output; print figures. */
async function runMode(mode: 'file' | 'slow', samplePath: string): Promise<void> {
  const sample = readFileSync(samplePath);
  const dir = mkdtempSync(join(tmpdir(), 'knetns-bench-'));
  let reader: ReturnType<typeof spawn> | undefined;
  let sink;
  if (mode === 'file') sink = await fileSink(join(dir, 'merged.pcapng'));
  else {
    // A reader that takes at most --slow-mbps: the output must wait for it, not buffer for it.
    const bps = (Number(values['slow-mbps']) * 1e6) / 8;
    reader = spawn(
      process.execPath,
      [
        '-e',
        `let n=0,t0=Date.now();process.stdin.on('data',b=>{n+=b.length;const ahead=n/${bps}*1000-(Date.now()-t0);if(ahead>5){process.stdin.pause();setTimeout(()=>process.stdin.resume(),ahead)}})`,
      ],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    sink = stdoutSink(reader.stdin as unknown as NodeJS.WriteStream);
  }
  const out = new PcapngOutput({
    sink,
    header: { userAppl: 'kubectl-netns bench' },
    names: [],
    windowMs: 1000,
    maxBufferedBytes: Number(values['reorder-mib']) * 1024 * 1024,
  });
  await out.start();
  const started = performance.now();
  let peakRss = 0;
  const peaks = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    for (const k of ['heapUsed', 'external', 'arrayBuffers'] as const) peaks[k] = Math.max(peaks[k], m[k]);
  }, 100);
  await Promise.all(
    Array.from({ length: pods }, async (_, p) => {
      const w = out.source(`pod${p}`, { name: () => `bench/pod${p}/eth0`, description: 'bench', stats: () => undefined });
      for (const chunk of podStream(sample, p, totalBytes / pods)) {
        if (!w.write(chunk)) await new Promise((r) => w.once('drain', r));
      }
      await new Promise<void>((resolve) => w.end(() => resolve()));
      out.endSource(`pod${p}`);
    }),
  );
  await out.finish();
  clearInterval(sampler);
  reader?.stdin?.end();
  if (reader) await new Promise((r) => reader.once('exit', r));
  const secs = (performance.now() - started) / 1000;
  const written = mode === 'file' ? statSync(join(dir, 'merged.pcapng')).size : totalBytes;
  rmSync(dir, { recursive: true, force: true });
  const maxRss = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${mode === 'file' ? 'to a file        ' : `to a ${values['slow-mbps']} Mbit/s reader`}  ${(written / 1e9).toFixed(2)} GB from ${pods} pods in ${secs.toFixed(1)} s` +
      ` (${(written / 1e6 / secs).toFixed(0)} MB/s), ${out.packets} packets, peak RSS ${Math.max(maxRss, peakRss / 1048576).toFixed(0)} MiB` +
      ` (of which JS heap ${(peaks.heapUsed / 1048576).toFixed(0)} MiB, buffers ${(peaks.arrayBuffers / 1048576).toFixed(0)} MiB)\n`,
  );
}

if (values.mode) await runMode(values.mode as 'file' | 'slow', values.sample!);
else {
  const dir = mkdtempSync(join(tmpdir(), 'knetns-bench-'));
  try {
    const sample = await makeSample(dir);
    process.stdout.write(`merged pcapng output, peak client RSS (sample: ${statSync(sample).size} B of real UDP packets)\n`);
    for (const mode of ['file', 'slow'])
      execFileSync(process.execPath, [process.argv[1]!, '--mode', mode, '--sample', sample, ...process.argv.slice(2)], {
        stdio: 'inherit',
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
