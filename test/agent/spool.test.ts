// The node-side spool (capture --spool, read, spools, spool-tar, spool-rm): real tcpdump writing a
// real ring of files for a real network namespace, fed by a counted UDP source (each datagram
// carries its sequence number), read back through the client's SpoolDemux and checked with tshark.
// A slow client is a reader whose stdout nobody drains; a broken stream is a SIGKILLed reader.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PassThrough, Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { readPcap } from '../helpers/pcap/reader.ts';
import {
  captureArgv,
  parseTcpdumpStats,
  readArgv,
  spoolRmArgv,
  spoolsArgv,
  spoolTarArgv,
  stopArgv,
  type CaptureOptions,
} from '../../src/node/agent.ts';
import { SpoolDemux, type SpoolEnd, type SpoolGap } from '../../src/node/spool-stream.ts';
import { SpoolFollower } from '../../src/node/spool-follow.ts';
import { spoolTarToStream } from '../../src/node/spool-tar.ts';
import type { AgentExec } from '../../src/node/agent-ops.ts';
import { ExitCode, UserError } from '../../src/errors.ts';
import { spawn } from 'node:child_process';
import {
  cleanupAll,
  createNetns,
  onCleanup,
  prerequisiteSkip,
  rand,
  runAgent,
  shells,
  startAgent,
  tempFile,
  tool,
  track,
  type RunningAgent,
  type Shell,
  type TestNetns,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'tcpdump', 'tshark', 'busybox', 'dash']);
const PORT = 9555;
/** Ethernet + IPv4 (no options) + UDP: where our sequence number starts in a captured frame. */
const SEQ_AT = 14 + 20 + 8;

/** A spool root that goes away with the test, and the capture id the agent files pid/stop under. */
function spoolPlace(): { root: string; id: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'knt-spool-'));
  const id = rand(4);
  onCleanup(() => rmSync(root, { recursive: true, force: true }));
  for (const f of ['pid', 'stop']) onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.${f}`, { force: true }));
  return { root, id, dir: join(root, id) };
}

/** Sends COUNT datagrams of SIZE bytes to ADDR, numbered from FIRST, in bursts the kernel keeps up with. */
async function sendNumbered(addr: string, first: number, count: number, size = 1000): Promise<void> {
  const sock = createSocket('udp4');
  try {
    for (let i = 0; i < count; i++) {
      const b = Buffer.alloc(size, 0x61);
      b.writeUInt32BE(first + i, 0);
      await new Promise<void>((resolve, reject) => sock.send(b, PORT, addr, (err) => (err ? reject(err) : resolve())));
      if (i % 200 === 199) await delay(5);
    }
  } finally {
    sock.close();
  }
}

/** The sequence numbers our datagrams carry, in capture order. */
function sequenceNumbers(pcap: Buffer): number[] {
  return readPcap(pcap).records.map((r) => r.data.readUInt32BE(SEQ_AT));
}

/** A reader's stream through the client's demultiplexer: pcap out, gaps and end recorded. */
class Client {
  readonly demux: SpoolDemux;
  readonly gaps: SpoolGap[] = [];
  readonly acks: number[] = [];
  end: SpoolEnd | undefined;
  readonly out: Buffer[] = [];
  agent: RunningAgent | undefined;

  constructor() {
    this.demux = new SpoolDemux({
      onGap: (g) => this.gaps.push(g),
      onFileDone: (seq) => {
        this.acks.push(seq);
        this.agent?.child.stdin?.write(`ack ${seq}\n`);
      },
      onEnd: (e) => {
        this.end = e;
        this.agent?.child.stdin?.write('done\n');
      },
    });
    this.demux.pipe(
      new Writable({
        write: (c: Buffer, _e, cb) => {
          this.out.push(c);
          cb();
        },
      }),
    );
  }

  /** Feeds AGENT's stdout (a new reader's stream) into the demultiplexer. */
  attach(agent: RunningAgent): void {
    this.agent = agent;
    this.demux.restart();
    agent.child.stdout!.on('data', (b: Buffer) => this.demux.write(b));
  }

  pcap(): Buffer {
    return Buffer.concat(this.out);
  }

  async ended(timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.end) {
      if (Date.now() > end) throw new Error(`no end marker; stderr:\n${this.agent?.stderr() ?? ''}`);
      await delay(20);
    }
  }
}

/**
 * The agent run here as the exec API runs it, over a connection that breaks: exec number N stops
 * delivering after BREAKS[N] bytes of stdout, its stdin ends (as when the stream goes) and it fails
 * as a lost connection does. Later execs run whole.
 */
function breakingExec(shell: Shell, breaks: number[]): AgentExec & { readonly runs: number } {
  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    exec(command, io) {
      const limit = breaks[runs++];
      const [cmd, ...pre] = shell.argv as [string, ...string[]];
      const child = track(
        spawn(cmd, [...pre, ...command.slice(1)], { env: shell.env, stdio: ['pipe', 'pipe', 'pipe'] }),
      );
      io.stdin?.pipe(child.stdin!);
      let sent = 0;
      return new Promise((resolve, reject) => {
        let broken = false;
        child.stdout!.on('data', (b: Buffer) => {
          if (broken) return;
          if (limit !== undefined && sent + b.length > limit) {
            broken = true;
            io.stdout.write(b.subarray(0, limit - sent));
            io.stdin?.unpipe(child.stdin!);
            child.stdin!.end();
            reject(new UserError('lost the connection to the API server', { exitCode: ExitCode.connection }));
            return;
          }
          sent += b.length;
          if (!io.stdout.write(b)) {
            child.stdout!.pause();
            io.stdout.once('drain', () => child.stdout!.resume());
          }
        });
        child.stderr!.on('data', (b: Buffer) => {
          if (!broken) io.stderr?.write(b);
        });
        child.once('close', (code) => {
          if (!broken) resolve({ exitCode: code ?? 1, stdoutBytes: sent });
        });
      });
    },
  };
}

describe('agent spool', { skip, concurrency: false }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  for (const shell of shells()) {
    describe(shell.name, () => {
      function spooled(place: { id: string; dir: string }, o: Partial<CaptureOptions> = {}, ringFiles = 8) {
        return startAgent(
          shell,
          captureArgv({
            pid: ns.pid,
            id: place.id,
            filter: ['udp', 'port', String(PORT)],
            // Whole packets still; in immediate mode every packet takes a snaplen-sized slot of the
            // kernel buffer, so a small snaplen keeps a loaded test machine from dropping a burst.
            snaplen: 1200,
            spool: { dir: place.dir, ringFiles, fileMB: 1, meta: ['target shop/web-1', 'by tester'] },
            ...o,
          }),
          { stdin: 'pipe', timeoutMs: 60_000 },
        );
      }

      test('streams live from the ring: every packet once, in order, and the end marker carries the counts', async () => {
        const place = spoolPlace();
        const client = new Client();
        const agent = spooled(place);
        client.attach(agent);
        await agent.waitForStderr(/^tcpdump: listening on /);
        await sendNumbered(ns.nsAddr, 0, 300);
        await delay(300);
        // Live: the packets are here before the capture ends.
        assert.equal(readPcap(client.pcap()).records.length, 300, agent.stderr());
        assert.equal((await runAgent(shell, stopArgv(place.id))).code, 0);
        await client.ended();
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        // The marker carries tcpdump's own final counts. "Received by filter" is the kernel's count
        // of matching packets, which also takes in any that arrive after tcpdump was told to stop
        // (libpcap documents this), so it is at least what was captured, not exactly (301 seen in CI).
        assert.deepEqual(client.end, { rc: 0, ...parseTcpdumpStats(r.stderr) });
        assert.equal(client.end?.captured, 300);
        assert.equal(client.end?.droppedByKernel, 0);
        assert.ok((client.end?.receivedByFilter ?? 0) >= 300, JSON.stringify(client.end));
        assert.deepEqual(
          sequenceNumbers(client.pcap()),
          Array.from({ length: 300 }, (_, i) => i),
        );
        assert.equal(client.gaps.length, 0);
        const file = tempFile('live.pcap');
        writeFileSync(file, client.pcap());
        assert.equal(tool('capinfos', ['-M', '-c', '-r', file]).match(/Number of packets:\s+(\d+)/)?.[1], '300');
        // The log lines (tcpdump's) came on the reader's stderr.
        assert.match(r.stderr, /^300 packets captured$/m);
      });

      test('a reader that cannot send falls behind into the ring and loses nothing', async () => {
        const place = spoolPlace();
        const client = new Client();
        const agent = spooled(place);
        client.attach(agent);
        await agent.waitForStderr(/^tcpdump: listening on /);
        agent.child.stdout!.pause();
        // ~5 MB into 1 MB files: several rotations while the stream is stopped.
        await sendNumbered(ns.nsAddr, 0, 5000);
        await delay(500);
        const files = readdirSync(place.dir).filter((f) => f.startsWith('ring.pcap'));
        assert.ok(files.length >= 5, `the ring holds the backlog: ${files.join(' ')}`);
        agent.child.stdout!.resume();
        await runAgent(shell, stopArgv(place.id));
        await client.ended();
        assert.equal((await agent.done).code, 0);
        const seqs = sequenceNumbers(client.pcap());
        assert.equal(seqs.length, 5000);
        assert.deepEqual(
          seqs,
          Array.from({ length: 5000 }, (_, i) => i),
        );
        assert.equal(client.end?.captured, 5000);
        assert.equal(client.gaps.length, 0);
        assert.ok(client.acks.length >= 4, `acked ${client.acks.join(',')}`);
      });

      test('when the ring wraps before the reader got there, the gap says exactly what was lost', async () => {
        const place = spoolPlace();
        const client = new Client();
        const agent = spooled(place, {}, 2);
        client.attach(agent);
        await agent.waitForStderr(/^tcpdump: listening on /);
        await sendNumbered(ns.nsAddr, 0, 50);
        await delay(200);
        agent.child.stdout!.pause();
        await sendNumbered(ns.nsAddr, 50, 6000);
        // The ring's deletions run at the lowest priority: give them a moment.
        await delay(1000);
        agent.child.stdout!.resume();
        await runAgent(shell, stopArgv(place.id));
        await client.ended();
        assert.equal((await agent.done).code, 0);
        const seqs = sequenceNumbers(client.pcap());
        const captured = client.end!.captured!;
        assert.equal(captured, 6050);
        assert.ok(client.gaps.length >= 1, 'a gap was reported');
        const lost = client.gaps.reduce((n, g) => n + g.packets!, 0);
        assert.ok(lost > 0);
        assert.equal(
          seqs.length + lost,
          captured,
          `delivered ${seqs.length} + lost ${lost} = captured; gaps ${JSON.stringify(client.gaps)}; ${agent.stderr()}`,
        );
        // What did arrive is in order with no duplicate, and the gap sits where the numbers jump.
        assert.equal(new Set(seqs).size, seqs.length);
        const g = client.gaps[0]!;
        assert.equal(seqs[g.afterPackets]! - seqs[g.afterPackets - 1]! - 1, g.packets);
        assert.ok(g.bytes! > g.packets! * 1000);
        const listed = await runAgent(shell, spoolsArgv(place.root));
        const line = listed.stdout
          .toString()
          .split('\n')
          .find((l) => l.startsWith('spool\t'))!;
        const [, id, state, , , , , lostFiles, lostPackets] = line.split('\t');
        assert.equal(id, place.id);
        assert.equal(state, 'ended:0');
        assert.ok(Number(lostFiles) >= 1);
        assert.ok(Number(lostPackets) >= lost, `${lostPackets} >= ${lost}`);
      });

      test('a new reader resumes at the last complete record: no gap, no duplicate', async () => {
        const place = spoolPlace();
        const client = new Client();
        const first = spooled(place);
        client.attach(first);
        await first.waitForStderr(/^tcpdump: listening on /);
        await sendNumbered(ns.nsAddr, 0, 1500);
        await delay(300);
        // The stream breaks mid-capture; the node side runs on.
        first.child.stdout!.removeAllListeners('data');
        first.child.kill('SIGKILL');
        await first.done;
        await sendNumbered(ns.nsAddr, 1500, 1500);
        const pos = client.demux.position!;
        // The log picks up where the first reader's last "log OFFSET" left it: nothing twice.
        const logOffset = Number([...first.stderr().matchAll(/^kubectl-netns-spool: log ([0-9]+)$/gm)].at(-1)![1]);
        const second = startAgent(shell, readArgv({ dir: place.dir, from: pos, logOffset }), {
          stdin: 'pipe',
          timeoutMs: 30_000,
        });
        client.attach(second);
        await delay(300);
        await runAgent(shell, stopArgv(place.id));
        await client.ended();
        assert.equal((await second.done).code, 0, second.stderr());
        assert.deepEqual(
          sequenceNumbers(client.pcap()),
          Array.from({ length: 3000 }, (_, i) => i),
        );
        assert.equal(client.end?.captured, 3000);
        assert.doesNotMatch(second.stderr(), /listening on/);
        assert.match(second.stderr(), /^3000 packets captured$/m);
        const file = tempFile('resumed.pcap');
        writeFileSync(file, client.pcap());
        assert.equal(
          tool('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length,
          3000,
        );
      });

      test('a spool that cannot be made is SPOOL_FAILED (78) before tcpdump starts; a bad directory is USAGE', async () => {
        const place = spoolPlace();
        const blocked = tempFile('not-a-dir');
        writeFileSync(blocked, '');
        const r = await runAgent(
          shell,
          captureArgv({
            pid: ns.pid,
            id: place.id,
            filter: [],
            spool: { dir: `${blocked}/x`, ringFiles: 2, fileMB: 1 },
          }),
        );
        assert.equal(r.code, 78, r.stderr);
        assert.match(r.stderr, /^kubectl-netns-agent: error: SPOOL_FAILED: cannot create the spool directory /m);
        const argv = captureArgv({
          pid: ns.pid,
          id: place.id,
          filter: [],
          spool: { dir: place.dir, ringFiles: 2, fileMB: 1 },
        });
        const bad = argv.map((w) => (w === place.dir ? `${place.root}/../etc` : w));
        const u = await runAgent(shell, bad);
        assert.equal(u.code, 64, u.stderr);
        assert.match(u.stderr, /bad spool directory/);
      });

      test('SpoolFollower over the real agent: two broken streams, each resumed, every packet once', async () => {
        const place = spoolPlace();
        const exec = breakingExec(shell, [300_000, 700_000]);
        const parts: Buffer[] = [];
        const out = new Writable({
          write: (c: Buffer, _e, cb) => {
            parts.push(Buffer.from(c));
            cb();
          },
        });
        const lines: string[] = [];
        let resumed = 0;
        const follower = new SpoolFollower(exec, {
          dir: place.dir,
          reconnectMs: 20_000,
          hooks: { onLine: (l) => lines.push(l), onResumed: () => resumed++ },
        });
        const running = follower.run(
          captureArgv({
            pid: ns.pid,
            id: place.id,
            filter: ['udp', 'port', String(PORT)],
            snaplen: 1200,
            spool: { dir: place.dir, ringFiles: 8, fileMB: 1 },
          }),
          out,
        );
        const start = Date.now();
        while (!lines.some((l) => /listening on/.test(l)) && Date.now() - start < 10_000) await delay(20);
        await sendNumbered(ns.nsAddr, 0, 3000);
        await delay(500);
        await runAgent(shell, stopArgv(place.id));
        const outcome = await running;
        assert.equal(outcome.exitCode, 0);
        assert.equal(exec.runs, 3);
        assert.equal(resumed, 2);
        assert.equal(outcome.end?.captured, 3000);
        assert.deepEqual(
          sequenceNumbers(Buffer.concat(parts)),
          Array.from({ length: 3000 }, (_, i) => i),
        );
        // The capture's log lines came once each, across the three readers.
        assert.equal(lines.filter((l) => /listening on/.test(l)).length, 1);
        assert.equal(lines.filter((l) => /^3000 packets captured$/.test(l)).length, 1);
      });

      test('spools lists a capture, spool-tar hands over its files, spool-rm removes it only once ended', async () => {
        const place = spoolPlace();
        const client = new Client();
        const agent = spooled(place);
        client.attach(agent);
        await agent.waitForStderr(/^tcpdump: listening on /);
        await sendNumbered(ns.nsAddr, 0, 2500);
        await delay(300);
        const listed = (await runAgent(shell, spoolsArgv(place.root))).stdout.toString();
        assert.match(listed, new RegExp(`^spool\\t${place.id}\\trunning\\t[0-9]+\\t[3-9]\\t0\\t`, 'm'));
        assert.match(listed, new RegExp(`^meta\\t${place.id}\\ttarget\\tshop/web-1$`, 'm'));
        assert.match(listed, new RegExp(`^meta\\t${place.id}\\tby\\ttester$`, 'm'));
        const refused = await runAgent(shell, spoolRmArgv(place.dir));
        assert.equal(refused.code, 64);
        await runAgent(shell, stopArgv(place.id));
        await client.ended();
        await agent.done;
        const tarred = await runAgent(shell, spoolTarArgv(place.dir));
        assert.equal(tarred.code, 0, tarred.stderr);
        const names: string[] = [];
        const parts: Buffer[] = [];
        const extract = tar.extract();
        extract.on('entry', (h, stream, next) => {
          names.push(h.name);
          const chunks: Buffer[] = [];
          stream.on('data', (c: unknown) => {
            chunks.push(c as Buffer);
          });
          stream.on('end', () => {
            if (h.name.startsWith('ring.pcap')) parts.push(Buffer.concat(chunks));
            next();
          });
        });
        await new Promise<void>((resolve, reject) => {
          extract.on('finish', resolve);
          extract.on('error', reject);
          extract.end(tarred.stdout);
        });
        assert.deepEqual(names.slice(0, 4), ['meta', 'log', 'lost', 'end']);
        assert.deepEqual(
          names.slice(4),
          parts.map((_, i) => (i === 0 ? 'ring.pcap' : `ring.pcap${i}`)),
        );
        const seqs = parts.flatMap((p) => sequenceNumbers(p));
        assert.deepEqual(
          seqs,
          Array.from({ length: 2500 }, (_, i) => i),
        );
        // The client's reading of it: one pcap, and the end with tcpdump's counts.
        const fetched = new Client();
        const stream = new PassThrough();
        stream.pipe(fetched.demux);
        const info = await spoolTarToStream(Readable.from([tarred.stdout]), stream);
        stream.end();
        await fetched.ended();
        assert.equal(info.meta.target, 'shop/web-1');
        assert.equal(info.exitStatus, 0);
        assert.deepEqual(
          sequenceNumbers(fetched.pcap()),
          Array.from({ length: 2500 }, (_, i) => i),
        );
        assert.equal(fetched.end?.captured, 2500);
        assert.equal((await runAgent(shell, spoolRmArgv(place.dir))).code, 0);
        assert.equal(existsSync(place.dir), false);
      });
    });
  }
});
