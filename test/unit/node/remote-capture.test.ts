// The capture protocol against what the real agent printed (fixtures recorded by
// scripts/fixtures/record-agent-capture.ts from busybox sh, tcpdump and a real network namespace).
// The exec is a replay: the cluster is not needed to check the protocol's order and its waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { RemoteCapture, type Listening } from '../../../src/node/remote-capture.ts';
import { PcapStreamParser } from '../../../src/pcap/stream-reader.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/capture/${name}`, import.meta.url));
const OK_STDERR = fixture('ok.stderr.txt').toString('utf8').split('\n');
const OK_PCAP = fixture('ok.stdout.pcap');
const BAD_STDERR = fixture('bad-filter.stderr.txt').toString('utf8');
const BAD_EXIT = Number(fixture('bad-filter.exit.txt').toString('utf8'));

const nextTick = () => new Promise((r) => setImmediate(r));

/**
 * Replays the recorded agent for the capture op, and answers stats/stop/ack as the agent does:
 * counts on the capture's stderr after stats; final counts and "capture finished" after stop; the
 * capture's exec ends only after ack. Records the ops in the order they were called.
 */
class ReplayingAgentExec {
  readonly ops: string[] = [];
  private stderr: Writable | undefined;
  private release: ((code: number) => void) | undefined;
  private stopped = false;
  private readonly mode: 'ok' | 'bad-filter' | 'stdout-first';
  /** With --compress: the pcap as the agent sends it then, in frames of this CLI (zstd or gzip). */
  private readonly compressWith: string | undefined;

  constructor(mode: 'ok' | 'bad-filter' | 'stdout-first', compressWith?: string) {
    this.mode = mode;
    this.compressWith = compressWith;
  }

  exec(
    argv: string[],
    io: { stdout: Writable; stderr?: Writable | undefined },
  ): Promise<{ exitCode: number; stdoutBytes: number }> {
    const op = argv[2]!;
    this.ops.push(op);
    if (op === 'capture') return this.capture(io.stdout, io.stderr!, argv.includes('--stats-every'));
    const line = (l: string) => this.stderr?.write(`${l}\n`);
    if (op === 'stats') line(OK_STDERR.find((l) => /^tcpdump: \d+ packets captured, /.test(l))!);
    if (op === 'stop' && !this.stopped) {
      this.stopped = true;
      const from = OK_STDERR.findIndex((l) => /^\d+ packets captured$/.test(l));
      for (const l of OK_STDERR.slice(from).filter(Boolean)) line(l);
    }
    if (op === 'ack') setImmediate(() => this.release?.(0));
    return Promise.resolve({ exitCode: 0, stdoutBytes: 0 });
  }

  private async capture(
    stdout: Writable,
    stderr: Writable,
    statsEvery = false,
  ): Promise<{ exitCode: number; stdoutBytes: number }> {
    this.stderr = stderr;
    if (this.mode === 'bad-filter') {
      stderr.write(BAD_STDERR);
      return { exitCode: BAD_EXIT, stdoutBytes: 0 };
    }
    const startLines = OK_STDERR.slice(0, OK_STDERR.findIndex((x) => x.startsWith('tcpdump: listening on')) + 1);
    if (this.mode === 'stdout-first') {
      // The exec's stdout channel overtook its stderr channel (the kubelet copies each on its own).
      stdout.write(OK_PCAP);
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const l of startLines) stderr.write(`${l}\n`);
      const exitCode = await new Promise<number>((resolve) => (this.release = resolve));
      return { exitCode, stdoutBytes: OK_PCAP.length };
    }
    for (const l of startLines) stderr.write(`${l}\n`);
    // --stats-every: the agent's SIGUSR1 makes tcpdump print its counters on this same stderr.
    if (statsEvery) stderr.write(`${OK_STDERR.find((l) => /^tcpdump: \d+ packets captured, /.test(l))!}\n`);
    if (this.compressWith) {
      // One frame per chunk of what tcpdump wrote, as the agent's compressor loop makes them,
      // arriving in websocket-sized pieces that cut across frames.
      const frames = Buffer.concat(
        [OK_PCAP.subarray(0, 24), OK_PCAP.subarray(24, 200), OK_PCAP.subarray(200)].map((c) =>
          execFileSync(this.compressWith!, ['-1', '-c'], { input: c }),
        ),
      );
      for (let i = 0; i < frames.length; i += 13) stdout.write(frames.subarray(i, i + 13));
    } else stdout.write(OK_PCAP);
    const exitCode = await new Promise<number>((resolve) => (this.release = resolve));
    return { exitCode, stdoutBytes: OK_PCAP.length };
  }
}

/** A stdout that counts packets the way the capture writer does. */
function counter(): { out: PassThrough; parser: PcapStreamParser } {
  const parser = new PcapStreamParser();
  const out = new PassThrough();
  out.on('data', (c: Buffer) => parser.push(c));
  return { out, parser };
}

test('a normal capture: listening is announced, stop brings the final counts, ack comes after every packet', async () => {
  const agent = new ReplayingAgentExec('ok');
  const seen: Listening[] = [];
  const remote = new RemoteCapture(agent, { pid: 4242, filter: ['icmp'] }, { onListening: (l) => seen.push(l) });
  const { out, parser } = counter();
  const running = remote.run(out, () => parser.packets);
  await nextTick();
  assert.deepEqual(seen, [{ iface: 'eth0', linkType: 'link-type EN10MB' }]);
  remote.stop('test');
  remote.stop('twice');
  const outcome = await running;
  assert.deepEqual(outcome.stats, { captured: 6, receivedByFilter: 6, droppedByKernel: 0 });
  assert.equal(outcome.iface, 'eth0');
  assert.equal(parser.packets, 6);
  assert.deepEqual(agent.ops, ['capture', 'stop', 'ack'], 'one stop, then the ack that lets the agent exit');
});

test('pcap bytes that arrive before the agent names the interface wait for it (the file names it)', async () => {
  const agent = new ReplayingAgentExec('stdout-first');
  let iface: string | undefined;
  const order: string[] = [];
  const remote = new RemoteCapture(agent, { pid: 4242, filter: [] }, { onInterface: (i) => (iface = i) });
  const { out, parser } = counter();
  out.on('data', () => order.push(iface ?? 'unknown'));
  const running = remote.run(out, () => parser.packets);
  await new Promise((resolve) => setTimeout(resolve, 50));
  remote.stop('test');
  await running;
  assert.equal(parser.packets, 6, 'every packet still arrives, in order');
  assert.ok(order.length > 0 && order.every((i) => i === 'eth0'), JSON.stringify(order));
});

test("with statsEverySeconds the counters arrive through onStats on the capture's own stream: no stats exec", async () => {
  const agent = new ReplayingAgentExec('ok');
  const stats: unknown[] = [];
  const remote = new RemoteCapture(
    agent,
    { pid: 4242, filter: [], statsEverySeconds: 2 },
    { onStats: (s) => stats.push({ ...s }) },
  );
  const { out, parser } = counter();
  const running = remote.run(out, () => parser.packets);
  await nextTick();
  assert.deepEqual(stats[0], { captured: 6, receivedByFilter: 6, droppedByKernel: 0 });
  remote.stop('test');
  await running;
  assert.deepEqual(agent.ops, ['capture', 'stop', 'ack']);
});

test('the ack waits until the client has every packet tcpdump counted', async () => {
  const agent = new ReplayingAgentExec('ok');
  const remote = new RemoteCapture(agent, { pid: 4242, filter: [] });
  let delivered = 0;
  const running = remote.run(new PassThrough().resume(), () => delivered);
  await nextTick();
  remote.stop('test');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(agent.ops, ['capture', 'stop'], 'no ack while 6 packets are still on their way');
  delivered = 6;
  await running;
  assert.deepEqual(agent.ops, ['capture', 'stop', 'ack']);
});

test('abandoned (the reader went away): the ack does not wait for packets nobody reads', async () => {
  const agent = new ReplayingAgentExec('ok');
  const remote = new RemoteCapture(agent, { pid: 4242, filter: [] });
  const running = remote.run(new PassThrough().resume(), () => 0);
  await nextTick();
  remote.abandon('reader gone');
  await running;
  assert.deepEqual(agent.ops, ['capture', 'stop', 'ack']);
});

test('abandoned with an output that never drains (a reader gone, its pipe still held): the capture still ends', async () => {
  for (const compress of [undefined, 'auto'] as const) {
    const agent = new ReplayingAgentExec('ok', compress ? 'gzip' : undefined);
    const remote = new RemoteCapture(agent, { pid: 4242, filter: [], compress });
    // Accepts a few bytes, then nothing more: what a Wireshark that quit leaves when its dumpcap
    // lives on, holding the pipe without reading it.
    const stuck = new Writable({ highWaterMark: 16, write: () => {} });
    const running = remote.run(stuck, () => 0);
    await nextTick();
    remote.abandon('reader gone');
    const outcome = await Promise.race([running, new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    assert.notEqual(outcome, 'hung', `compress ${compress}: run() waited for an output nobody reads`);
    assert.deepEqual(agent.ops, ['capture', 'stop', 'ack']);
  }
});

test('an agent failure becomes the error people see, with its hint and exit code', async () => {
  const remote = new RemoteCapture(new ReplayingAgentExec('bad-filter'), {
    pid: 4242,
    filter: ['tcp', 'port', 'http-nope'],
  });
  await assert.rejects(
    remote.run(new PassThrough(), () => 0),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.exitCode, ExitCode.agent);
      assert.match(e.message, /unknown port 'http-nope'/);
      assert.match(e.hint ?? '', /filter/);
      return true;
    },
  );
});

for (const tool of ['zstd', 'gzip']) {
  test(`--compress: ${tool} frames from the agent come out as the same pcap, and the ack still waits for every packet`, async () => {
    const agent = new ReplayingAgentExec('ok', tool);
    const remote = new RemoteCapture(agent, { pid: 4242, filter: [], compress: 'auto' });
    const chunks: Buffer[] = [];
    const parser = new PcapStreamParser();
    const out = new PassThrough();
    out.on('data', (c: Buffer) => {
      chunks.push(c);
      parser.push(c);
    });
    const running = remote.run(out, () => parser.packets);
    await nextTick();
    remote.stop('test');
    await running;
    assert.ok(Buffer.concat(chunks).equals(OK_PCAP));
    assert.equal(parser.packets, 6);
    assert.deepEqual(agent.ops, ['capture', 'stop', 'ack']);
  });
}
