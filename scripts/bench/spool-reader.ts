// The spool reader's own delay, at agent level (no cluster): a real tcpdump writes a real ring for
// a real network namespace, the agent's `read` streams it, and each packet's arrival here is
// compared with tcpdump's timestamp (one machine, one clock). Both shells the agent runs under
// (busybox ash with image-like tools, dash), with and without --spool, at a trickle (200
// datagrams/s) and a steadier rate. Run as root under /work/coord/with-host (or CI):
//   node scripts/bench/spool-reader.ts [SECONDS]
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { captureArgv, stopArgv } from '../../src/node/agent.ts';
import { SpoolDemux } from '../../src/node/spool-stream.ts';
import { cleanupAll, createNetns, rand, runAgent, shells, startAgent, type Shell } from '../../test/helpers/netns.ts';


const PORT = 9556;
const seconds = Number(process.argv[2] ?? 3);

/** Wall clock in microseconds, as tcpdump stamps packets. */
function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Arrival delays (ms) of the pcap records in a byte stream, fed chunk by chunk. */
class Delays {
  private buf = Buffer.alloc(0);
  private header = false;
  readonly ms: number[] = [];
  feed(chunk: Buffer): void {
    const t = nowUs();
    this.buf = Buffer.concat([this.buf, chunk]);
    if (!this.header) {
      if (this.buf.length < 24) return;
      this.buf = this.buf.subarray(24);
      this.header = true;
    }
    while (this.buf.length >= 16) {
      const len = this.buf.readUInt32LE(8);
      if (this.buf.length < 16 + len) break;
      const ts = this.buf.readUInt32LE(0) * 1e6 + this.buf.readUInt32LE(4);
      this.ms.push((t - ts) / 1000);
      this.buf = this.buf.subarray(16 + len);
    }
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

/** Sends PER_MS datagrams every EVERY_MS milliseconds for SECONDS. */
async function send(addr: string, everyMs: number, per: number, size: number): Promise<number> {
  const sock = createSocket('udp4');
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    for (let i = 0; i < per; i++) {
      sock.send(Buffer.alloc(size, 0x61), PORT, addr);
      n++;
    }
    await delay(everyMs);
  }
  await delay(50);
  sock.close();
  return n;
}

async function one(shell: Shell, nsPid: number, addr: string, spool: boolean, everyMs: number, per: number, size: number) {
  const root = mkdtempSync(join(tmpdir(), 'knt-spoolbench-'));
  const id = rand(4);
  const d = new Delays();
  try {
    const agent = startAgent(
      shell,
      captureArgv({
        pid: nsPid,
        id,
        filter: ['udp', 'port', String(PORT)],
        snaplen: 1600,
        ...(spool ? { spool: { dir: join(root, id), ringFiles: 4, fileMB: 8, meta: [] } } : {}),
      }),
      { stdin: 'pipe', timeoutMs: 60_000 },
    );
    if (spool) {
      const demux = new SpoolDemux({ onGap: () => {}, onFileDone: () => {}, onEnd: () => agent.child.stdin?.write('done\n') });
      demux.on('data', (b: Buffer) => d.feed(b));
      agent.child.stdout!.on('data', (b: Buffer) => demux.write(b));
    } else {
      agent.child.stdout!.on('data', (b: Buffer) => d.feed(b));
    }
    await agent.waitForStderr(/^tcpdump: listening on /m, 10_000);
    await delay(300);
    const sent = await send(addr, everyMs, per, size);
    await delay(300);
    await runAgent(shell, stopArgv(id));
    agent.child.stdin?.end();
    await agent.done;
    return { sent, got: d.ms.length, p50: pct(d.ms, 0.5), p99: pct(d.ms, 0.99) };
  } finally {
    rmSync(root, { recursive: true, force: true });
    for (const f of ['pid', 'stop']) rmSync(`/tmp/kubectl-netns-capture-${id}.${f}`, { force: true });
  }
}

const ns = await createNetns();
try {
  const scenarios = [
    { name: '200/s x 200 B', everyMs: 5, per: 1, size: 200 },
    { name: '~100 Mbit/s (10 x 1200 B per ms)', everyMs: 1, per: 10, size: 1200 },
  ];
  for (const shell of shells().filter((s) => !process.env.SHELL_NAME || s.name.startsWith(process.env.SHELL_NAME))) {
    for (const sc of scenarios.filter((s) => !process.env.SCENARIO || s.name.startsWith(process.env.SCENARIO))) {
      for (const spool of [false, true, false, true]) {
        const r = await one(shell, ns.pid, ns.nsAddr, spool, sc.everyMs, sc.per, sc.size);
        console.log(
          `${shell.name.padEnd(10)} ${sc.name.padEnd(32)} ${spool ? '--spool ' : 'live    '} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.got}/${r.sent})`,
        );
      }
    }
  }
} finally {
  cleanupAll();
}
