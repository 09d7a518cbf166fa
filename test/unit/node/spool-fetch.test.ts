// SpoolFetch against an agent that answers spool-tar with a tar-stream packed the way the agent's
// tar lays a spool out (a fake agent, named so: the real op is in test/agent/spool.test.ts and the
// whole path in test/e2e/detach.test.ts): whole records only from the file still being written,
// tcpdump's counts once it has ended, the agent's error when there is no spool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { SpoolFetch } from '../../../src/node/spool-fetch.ts';
import type { AgentExec } from '../../../src/node/agent-ops.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../src/pcap/writer.ts';
import { readPcap } from '../../helpers/pcap/reader.ts';

const HEADER = pcapGlobalHeader({ linkType: 1, snaplen: 262144 });
const rec = (n: number) => {
  const data = Buffer.alloc(60, 0x61);
  data.writeUInt32BE(n, 0);
  return pcapRecord({ tsSec: 1_700_000_000 + n, tsFrac: 0, data });
};

async function tarOf(entries: Array<[string, Buffer | string]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of entries) pack.entry({ name, mode: 0o600 }, body);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack as unknown as Readable) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A fake agent: spool-tar answers BYTES (or fails with EXIT and an error line). */
function fakeAgent(bytes: Buffer, exit = 0, argvSeen: string[][] = []): AgentExec {
  return {
    exec: (argv, io) => {
      argvSeen.push(argv);
      if (exit !== 0) io.stderr?.write(`kubectl-netns-agent: error: NO_CAPTURE: no spool at ${argv.at(-1)}\n`);
      else io.stdout?.write(bytes);
      return Promise.resolve({ exitCode: exit });
    },
  } as AgentExec;
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

test('a running capture: whole records of every file, the one still written cut at its last whole record; no end', async () => {
  const writing = Buffer.concat([HEADER, rec(3), rec(4)]);
  const bytes = await tarOf([
    ['meta', 'id c1\nstarted 1700000000\n'],
    ['log', 'tcpdump: listening on eth0\n'],
    ['lost', ''],
    ['ring.pcap', Buffer.concat([HEADER, rec(0), rec(1), rec(2)])],
    ['ring.pcap1', writing.subarray(0, writing.length - 7)],
  ]);
  const argv: string[][] = [];
  const f = new SpoolFetch(fakeAgent(bytes, 0, argv), { dir: '/spool/c1', follow: false, reconnectMs: 0 });
  const s = sink();
  const outcome = await f.run(s.out);
  assert.deepEqual(
    readPcap(s.bytes()).records.map((r) => r.data.readUInt32BE(0)),
    [0, 1, 2, 3],
  );
  assert.equal(f.end, undefined, 'still running: no end');
  assert.equal(outcome.stats, undefined);
  assert.deepEqual(argv[0]!.slice(-2), ['spool-tar', '/spool/c1'], 'the spool directory is one argv word');
});

test("an ended capture: every record and tcpdump's own counts", async () => {
  const bytes = await tarOf([
    ['meta', 'id c1\n'],
    ['log', '2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n'],
    ['lost', ''],
    ['end', '0\n'],
    ['ring.pcap', Buffer.concat([HEADER, rec(0), rec(1)])],
  ]);
  const f = new SpoolFetch(fakeAgent(bytes), { dir: '/spool/c1', follow: false, reconnectMs: 0 });
  const s = sink();
  const outcome = await f.run(s.out);
  assert.equal(readPcap(s.bytes()).records.length, 2);
  assert.equal(f.end?.rc, 0);
  assert.deepEqual(outcome.stats, { captured: 2, receivedByFilter: 2, droppedByKernel: 0 });
});

test("no spool there: the agent's error, as the user's error with its exit code", async () => {
  const f = new SpoolFetch(fakeAgent(Buffer.alloc(0), 74), { dir: '/spool/c1', follow: false, reconnectMs: 0 });
  await assert.rejects(f.run(sink().out), (err: Error & { exitCode?: number }) => {
    assert.match(err.message, /no spool at \/spool\/c1/);
    assert.equal(err.exitCode, 9);
    return true;
  });
});
