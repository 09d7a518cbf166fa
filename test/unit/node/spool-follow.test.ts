// SpoolFollower's resume logic against scripted execs that replay spool streams as the agent's
// reader sends them (FakeSpoolExec: the transport is fake, the streams are shaped like the real
// one; test/agent/spool.test.ts and the e2e tests drive the real agent and a real API server).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { readArgv } from '../../../src/node/agent.ts';
import type { AgentExec } from '../../../src/node/agent-ops.ts';
import { SpoolFollower, type SpoolFollowHooks } from '../../../src/node/spool-follow.ts';
import { SPOOL_MARK } from '../../../src/node/spool-stream.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../src/pcap/writer.ts';
import { readPcap } from '../../helpers/pcap/reader.ts';

const HEADER = pcapGlobalHeader({ linkType: 1, snaplen: 262144 });
const DIR = '/var/lib/knetns-spool/abcd1234';
const mark = (text: string) => Buffer.concat([SPOOL_MARK, Buffer.from(`${text}\n`)]);
const rec = (n: number) => {
  const data = Buffer.alloc(100, 0x61);
  data.writeUInt32BE(n, 0);
  return pcapRecord({ tsSec: 1_700_000_000, tsFrac: n, data });
};
const ringFile = (from: number, to: number) =>
  Buffer.concat([HEADER, ...Array.from({ length: to - from }, (_, i) => rec(from + i))]);

/** One scripted exec: what it writes, and how it ends (a lost connection, or an exit status). */
interface Step {
  stdout: Buffer;
  stderr?: string;
  end: 'broken' | number;
}

/** Replays STEPS, one per exec, recording each exec's argv and what the client wrote on its stdin. */
class FakeSpoolExec implements AgentExec {
  readonly argvs: string[][] = [];
  readonly stdins: string[] = [];
  readonly #steps: Step[];

  constructor(steps: Step[]) {
    this.#steps = steps;
  }

  async exec(command: string[], io: Parameters<AgentExec['exec']>[1]) {
    this.argvs.push(command);
    const step = this.#steps.shift();
    if (!step) throw new Error('no more scripted execs');
    let written = '';
    io.stdin?.on('data', (b: Buffer) => (written += b.toString()));
    this.stdins.push('');
    const index = this.stdins.length - 1;
    io.stdin?.on('data', () => (this.stdins[index] = written));
    if (step.stderr) io.stderr?.write(step.stderr);
    // In small pieces, as frames arrive: the break can fall inside a record.
    for (let i = 0; i < step.stdout.length; i += 37) {
      await new Promise<void>((resolve) => io.stdout.write(step.stdout.subarray(i, i + 37), () => resolve()));
    }
    await new Promise((r) => setImmediate(r));
    if (step.end === 'broken') {
      throw new UserError('lost the connection to the API server', { exitCode: ExitCode.connection });
    }
    return { exitCode: step.end, stdoutBytes: step.stdout.length };
  }
}

function sink(): { out: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    out: new Writable({
      write: (c: Buffer, _e, cb) => {
        parts.push(Buffer.from(c));
        cb();
      },
    }),
    bytes: () => Buffer.concat(parts),
  };
}

const numbers = (pcap: Buffer) => readPcap(pcap).records.map((r) => r.data.readUInt32BE(0));

describe('SpoolFollower', () => {
  const f0 = ringFile(0, 4);
  const f1 = ringFile(4, 10);
  const cutRecord = 24 + 3 * rec(0).length; // file 1: records 4, 5, 6 whole, then 20 bytes of 7
  const firstStream = Buffer.concat([mark('file 0 0'), f0, mark('file 1 0'), f1.subarray(0, cutRecord + 20)]);
  const restStream = Buffer.concat([mark(`file 1 ${cutRecord}`), f1.subarray(cutRecord), mark('end 0 10 10 0')]);

  test('a broken stream is resumed by a reader at the last whole record: no gap, no duplicate, reported', async () => {
    const exec = new FakeSpoolExec([
      {
        stdout: firstStream,
        stderr: 'tcpdump: listening on eth0\nkubectl-netns-spool: log 120\nkubectl-netns-spool: written 5000\n',
        end: 'broken',
      },
      { stdout: restStream, stderr: '10 packets captured\nkubectl-netns-spool: log 160\n', end: 0 },
    ]);
    const events: string[] = [];
    const hooks: SpoolFollowHooks = {
      onLine: (l) => events.push(`line ${l}`),
      onReconnecting: (r) => events.push(`reconnecting ${r.attempt}`),
      onResumed: (r) => events.push(`resumed ${r.attempts} ${JSON.stringify(r.position)}`),
    };
    const f = new SpoolFollower(exec, { dir: DIR, reconnectMs: 5000, hooks });
    const s = sink();
    const outcome = await f.run(['first'], s.out);
    assert.deepEqual(numbers(s.bytes()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(outcome.end, { rc: 0, captured: 10, receivedByFilter: 10, droppedByKernel: 0 });
    assert.equal(outcome.exitCode, 0);
    // The second exec is a reader at file 1, just past record 6, with the log where the first left it.
    assert.deepEqual(exec.argvs[1], readArgv({ dir: DIR, from: { seq: 1, offset: cutRecord }, logOffset: 120 }));
    assert.deepEqual(events, [
      'line tcpdump: listening on eth0',
      'reconnecting 1',
      'line 10 packets captured',
      `resumed 1 {"seq":1,"offset":${cutRecord}}`,
    ]);
    // The readers were told what arrived: file 0 whole (the ring may drop it uncounted), then the end.
    assert.equal(exec.stdins[0], 'ack 0\n');
    assert.equal(exec.stdins[1], 'done\n');
  });

  test('a slow output has every packet by the time run() resolves (nothing left in the demultiplexer)', async () => {
    const big = ringFile(0, 400);
    const exec = new FakeSpoolExec([
      { stdout: Buffer.concat([mark('file 0 0'), big, mark('end 0 400 400 0')]), end: 0 },
    ]);
    const parts: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write: (c: Buffer, _e, cb) => {
        parts.push(Buffer.from(c));
        setTimeout(cb, 2);
      },
    });
    slow.on('error', () => {});
    await new SpoolFollower(exec, { dir: DIR, reconnectMs: 5000 }).run(['first'], slow);
    // The caller ends its output now: it must already have been handed everything.
    slow.end();
    await finished(slow).catch(() => {});
    assert.equal(readPcap(Buffer.concat(parts)).records.length, 400);
  });

  test('how far behind: what tcpdump wrote against what has been read', async () => {
    const exec = new FakeSpoolExec([
      {
        stdout: Buffer.concat([mark('file 0 0'), f0]),
        stderr: `kubectl-netns-spool: written ${f0.length + 5000}\n`,
        end: 'broken',
      },
      { stdout: Buffer.concat([mark(`file 0 ${f0.length}`), mark('end 0 4 4 0')]), end: 0 },
    ]);
    const f = new SpoolFollower(exec, { dir: DIR, reconnectMs: 5000 });
    await f.run(['first'], sink().out);
    assert.equal(f.behindBytes, 5000);
  });

  test('a connection that does not come back within the window is an error that says so', async () => {
    const steps: Step[] = [{ stdout: Buffer.concat([mark('file 0 0'), f0]), end: 'broken' }];
    for (let i = 0; i < 20; i++) steps.push({ stdout: Buffer.alloc(0), end: 'broken' });
    const exec = new FakeSpoolExec(steps);
    const f = new SpoolFollower(exec, { dir: DIR, reconnectMs: 900 });
    const s = sink();
    const started = Date.now();
    await assert.rejects(
      f.run(['first'], s.out),
      (e: unknown) =>
        e instanceof UserError && e.exitCode === ExitCode.connection && /did not come back within 1s/.test(e.message),
    );
    assert.ok(Date.now() - started < 3000);
    assert.ok(exec.argvs.length >= 3, `retried ${exec.argvs.length - 1} times`);
    // What arrived is kept.
    assert.deepEqual(numbers(s.bytes()), [0, 1, 2, 3]);
  });

  test("the agent's own failure and a refusal are not retried", async () => {
    const failing = new FakeSpoolExec([
      { stdout: Buffer.alloc(0), stderr: 'kubectl-netns-agent: error: BAD_FILTER: no\n', end: 69 },
    ]);
    const outcome = await new SpoolFollower(failing, { dir: DIR, reconnectMs: 5000 }).run(['first'], sink().out);
    assert.equal(outcome.exitCode, 69);
    assert.deepEqual(outcome.lines, ['kubectl-netns-agent: error: BAD_FILTER: no']);
    assert.equal(failing.argvs.length, 1);

    const forbidden: AgentExec = {
      exec: () => Promise.reject(new UserError('forbidden', { exitCode: ExitCode.forbidden })),
    };
    await assert.rejects(
      new SpoolFollower(forbidden, { dir: DIR, reconnectMs: 5000 }).run(['first'], sink().out),
      /forbidden/,
    );
  });

  test('a reader that comes before the first exec made the spool waits for it', async () => {
    const exec = new FakeSpoolExec([
      { stdout: Buffer.alloc(0), end: 'broken' },
      { stdout: Buffer.alloc(0), stderr: 'kubectl-netns-agent: error: NO_CAPTURE: no spool\n', end: 74 },
      { stdout: Buffer.concat([mark('file 0 0'), f0, mark('end 0 4 4 0')]), end: 0 },
    ]);
    const s = sink();
    const outcome = await new SpoolFollower(exec, { dir: DIR, reconnectMs: 5000 }).run(['first'], s.out);
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(numbers(s.bytes()), [0, 1, 2, 3]);
    assert.deepEqual(exec.argvs[2], readArgv({ dir: DIR, from: { seq: 0, offset: 0 } }));
  });
});
