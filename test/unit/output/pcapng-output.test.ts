// The merged output of a whole-workload capture, from two real tcpdump streams (loopback, two
// servers), checked with tshark and capinfos: one interface per pod named NAMESPACE/POD/IFACE,
// packets in time order, names from the NRB, one ISB per interface; rotation into complete files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapngOutput } from '../../../src/output/pcapng-output.ts';
import { fileSink } from '../../../src/output/sink.ts';
import { RotationPolicy, rotatedFileName } from '../../../src/pcap/rotation.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { readPcap, readPcapng } from '../../helpers/pcap/reader.ts';
import {
  captureToFile,
  httpGet,
  httpServer,
  requireCaptureTools,
  tempDir,
  tsharkFields,
} from '../../helpers/pcap/fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark', 'capinfos']);

/**
 * Feeds STREAMS (one pcap byte stream per source) into OUT in small interleaved chunks, as exec
 * frames arrive; returns what each source's `packets` said had arrived (what a capture's ack waits for).
 */
async function feed(
  out: PcapngOutput,
  streams: Record<string, Buffer>,
  stats = () => ({ receivedByFilter: 50, droppedByKernel: 3 }),
): Promise<Record<string, number>> {
  const writers = Object.fromEntries(
    Object.keys(streams).map((k) => [
      k,
      out.source(k, { name: () => `shop/${k}/eth0`, description: `pod shop/${k} on node n1`, stats }),
    ]),
  );
  const offsets = Object.fromEntries(Object.keys(streams).map((k) => [k, 0]));
  for (let more = true; more;) {
    more = false;
    for (const [k, buf] of Object.entries(streams)) {
      const at = offsets[k]!;
      if (at >= buf.length) continue;
      more = true;
      const chunk = buf.subarray(at, at + 700);
      offsets[k] = at + chunk.length;
      await new Promise<void>((resolve) => writers[k]!.write(chunk, () => resolve()));
    }
  }
  const arrived = Object.fromEntries(Object.entries(writers).map(([k, w]) => [k, w.packets]));
  for (const [k, w] of Object.entries(writers)) {
    await new Promise<void>((resolve) => w.end(() => resolve()));
    out.endSource(k);
  }
  return arrived;
}

describe('merged pcapng output', { skip }, () => {
  const tmp = tempDir();
  const streams: Record<string, Buffer> = {};
  before(async () => {
    // Two pods' worth of traffic captured at the same time: their timestamps interleave.
    const [a, b] = await Promise.all([httpServer('127.0.0.1', 30_000), httpServer('127.0.0.1', 30_000)]);
    const fa = join(tmp.dir, 'a.pcap');
    const fb = join(tmp.dir, 'b.pcap');
    const traffic = async (port: number) => {
      for (let i = 0; i < 4; i++) await httpGet('127.0.0.1', port, `/p${i}`);
    };
    await Promise.all([
      captureToFile({ filter: `tcp port ${a.port}` }, fa, () => traffic(a.port)),
      captureToFile({ filter: `tcp port ${b.port}` }, fb, () => traffic(b.port)),
    ]);
    await Promise.all([a.close(), b.close()]);
    streams.web1 = readFileSync(fa);
    streams.web2 = readFileSync(fb);
  });
  after(() => tmp.cleanup());

  test('one file: an interface per pod, its packets on it, time order, names, one ISB each', async () => {
    const path = join(tmp.dir, 'web.pcapng');
    const out = new PcapngOutput({
      sink: await fileSink(path),
      header: { userAppl: 'kubectl-netns test' },
      names: [{ address: '127.0.0.1', names: ['shop/web1'] }],
      windowMs: 1000,
      maxBufferedBytes: 1 << 20,
    });
    await out.start();
    const arrived = await feed(out, streams);
    await out.finish();
    // Each source counts its packets as they arrive: the agent's ack waits for that count.
    assert.deepEqual(arrived, {
      web1: readPcap(streams.web1!).records.length,
      web2: readPcap(streams.web2!).records.length,
    });

    const want = readPcap(streams.web1!).records.length + readPcap(streams.web2!).records.length;
    const rows = tsharkFields(path, ['frame.interface_name', 'frame.interface_description', 'frame.time_epoch']);
    assert.equal(rows.length, want, 'every packet of both streams');
    assert.deepEqual([...new Set(rows.map((r) => r[0]))].sort(), ['shop/web1/eth0', 'shop/web2/eth0']);
    assert.match(rows[0]![1]!, /^pod shop\/web[12] on node n1$/);
    const times = rows.map((r) => Number(r[2]));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => x - y),
      'merged in timestamp order',
    );
    assert.equal(out.totals('web1')?.packets, readPcap(streams.web1!).records.length);
    // Name resolution from the file itself (no resolver is asked: -N n uses the NRB).
    const named = tsharkFields(path, ['ip.src_host'], ['-N', 'n']).map((r) => r[0]);
    assert.ok(named.includes('shop/web1'), named.slice(0, 5).join(' '));
    const info = execFileSync('capinfos', ['-M', path], { encoding: 'utf8' });
    assert.match(info, /Number of interfaces in file: 2/);
    assert.match(info, /Strict time order:\s+True/);
    // The counters travel in one ISB per interface (the CLI tools count ISBs but do not print them).
    const file = readPcapng(readFileSync(path));
    assert.deepEqual(file.statistics.map((s) => [s.interfaceId, s.ifRecv, s.ifDrop]).sort(), [
      [0, 50n, 3n],
      [1, 50n, 3n],
    ]);
  });

  test('a gap in a stream is a comment on the first packet after it, and one no packet followed is on the ISB', async () => {
    const path = join(tmp.dir, 'gap.pcapng');
    const out = new PcapngOutput({
      sink: await fileSink(path),
      header: { userAppl: 'kubectl-netns test' },
      names: [],
      windowMs: 1000,
      maxBufferedBytes: 1 << 20,
    });
    await out.start();
    const info = (k: string) => ({
      name: () => `shop/${k}/eth0`,
      description: `pod shop/${k}`,
      stats: () => undefined,
    });
    const web1 = out.source('web1', info('web1'));
    const web2 = out.source('web2', info('web2'));
    out.noteGap('web1', 3, '120 packets (150 kB) lost before this packet');
    out.noteGap('web2', readPcap(streams.web2!).records.length, 'lost at the end');
    await new Promise<void>((resolve) => web1.end(streams.web1!, () => resolve()));
    await new Promise<void>((resolve) => web2.end(streams.web2!, () => resolve()));
    out.endSource('web1');
    out.endSource('web2');
    await out.finish();
    const rows = tsharkFields(path, ['frame.interface_name', 'frame.comment']);
    assert.deepEqual(
      rows.filter((r) => r[1]),
      [['shop/web1/eth0', '120 packets (150 kB) lost before this packet']],
    );
    const web1Rows = rows.filter((r) => r[0] === 'shop/web1/eth0');
    assert.equal(
      web1Rows.findIndex((r) => r[1]),
      3,
      'on the 4th packet of web1',
    );
    // An interface with no packet after its gap keeps the comment on its statistics block.
    const file = readPcapng(readFileSync(path));
    assert.deepEqual(
      file.statistics.map((s) => [s.interfaceId, s.comments]),
      [
        [0, []],
        [1, ['lost at the end']],
      ],
    );
  });

  test('rotation: every file complete on its own; a ring of 3 keeps exactly the newest 3', async () => {
    const dir = join(tmp.dir, 'ring');
    execFileSync('mkdir', ['-p', dir]);
    const out = new PcapngOutput({
      sink: {
        rotation: new RotationPolicy(join(dir, 'web.pcapng'), { maxBytes: 20_000, keepFiles: 3 }),
        open: (p) => fileSink(p),
      },
      header: {},
      names: [{ address: '127.0.0.1', names: ['shop/web1'] }],
      windowMs: 1000,
      maxBufferedBytes: 1 << 20,
    });
    await out.start();
    await feed(out, streams);
    await out.finish();
    assert.ok(out.removedFiles > 0, `rotated into ${out.files.length + out.removedFiles} files`);
    const left = readdirSync(dir).sort();
    assert.equal(left.length, 3);
    // What the summary names is what is on disk, not the files the ring has already removed.
    assert.deepEqual(
      left,
      out.files.map((f) => f.slice(dir.length + 1)),
    );
    for (const f of left) {
      const path = join(dir, f);
      assert.match(f, /^web-\d{5}-\d{8}T\d{6}Z\.pcapng$/);
      const info = execFileSync('capinfos', ['-M', path], { encoding: 'utf8' });
      assert.match(info, /Number of interfaces in file: 2/, f);
      const file = readPcapng(readFileSync(path));
      // Within the size, unless its one packet alone is larger (loopback segments reach 64 KiB).
      assert.ok(readFileSync(path).length <= 20_000 || file.packets.length === 1, `${f} within the size`);
      assert.equal(file.names.length, 1, `${f} names its addresses`);
      assert.equal(file.statistics.length, 2, `${f} ends with one ISB per interface`);
      assert.ok(tsharkFields(path, ['frame.interface_name']).length > 0);
    }
  });

  /** A ring of 20 kB files whose second file cannot be opened (OPEN says how); resolves with what happened. */
  async function ringWithBadSecond(name: string, open: (path: string) => ReturnType<typeof fileSink>) {
    const dir = join(tmp.dir, name);
    execFileSync('mkdir', ['-p', dir]);
    const stopped: string[] = [];
    const out = new PcapngOutput({
      sink: { rotation: new RotationPolicy(join(dir, 'web.pcapng'), { maxBytes: 20_000 }), open },
      header: {},
      names: [],
      windowMs: 1000,
      maxBufferedBytes: 1 << 20,
      onStopped: (why) => stopped.push(why),
    });
    await out.start();
    await feed(out, streams);
    const error = await out.finish().then(
      () => undefined,
      (e: unknown) => e as UserError,
    );
    return { dir, out, stopped, error };
  }

  /** Every file in DIR but those in OTHERS within 20 kB (or a lone packet), each readable. */
  function assertFilesWithinSize(dir: string, others = new Set<string>()): void {
    for (const f of readdirSync(dir).filter((n) => !others.has(n))) {
      const bytes = readFileSync(join(dir, f));
      assert.ok(bytes.length <= 20_000 || readPcapng(bytes).packets.length === 1, `${f}: ${bytes.length} bytes`);
      execFileSync('capinfos', [join(dir, f)], { stdio: 'ignore' });
    }
  }

  test('rotation: a next file that exists already stops the capture with the write-failure code, naming it', async () => {
    const now = Date.now();
    // Whatever second the second file opens in, its name is taken (as by another run or a person).
    const taken = new Set<string>();
    for (let t = now - 2000; t < now + 120_000; t += 1000) taken.add(rotatedFileName('web.pcapng', 2, t));
    const dir = join(tmp.dir, 'ring-taken');
    execFileSync('mkdir', ['-p', dir]);
    for (const f of taken) writeFileSync(join(dir, f), 'not ours');
    const r = await ringWithBadSecond('ring-taken', (p) => fileSink(p));
    assert.ok(r.error instanceof UserError, 'finish() must fail');
    assert.equal(r.error.exitCode, ExitCode.output);
    assert.match(
      r.error.message,
      /cannot open the next capture file .*web-00002-\d{8}T\d{6}Z\.pcapng: it already exists; stopped there/,
    );
    assert.match(r.error.message, /kept \d+ complete packets in 1 file/);
    assert.equal(r.stopped.length, 1, 'the captures are told to stop');
    assert.deepEqual(
      r.out.files.map((f) => f.slice(r.dir.length + 1)).filter((f) => !taken.has(f)),
      [r.out.files[0]!.slice(r.dir.length + 1)],
    );
    for (const f of taken) assert.equal(readFileSync(join(r.dir, f), 'utf8'), 'not ours');
    assertFilesWithinSize(r.dir, taken);
  });

  test('rotation: a next file whose directory is gone stops the capture the same way; no packet goes into a later file', async () => {
    let opened = 0;
    const r = await ringWithBadSecond('ring-gone', (p) => {
      opened++;
      return fileSink(opened === 2 ? join(tmp.dir, 'ring-gone', 'gone', 'x.pcapng') : p);
    });
    assert.ok(r.error instanceof UserError, 'finish() must fail');
    assert.equal(r.error.exitCode, ExitCode.output);
    assert.match(r.error.message, /cannot open the next capture file .*web-00002-.*: .*missing or not writable/);
    assert.equal(opened, 2, 'no file opened after the one that failed');
    assert.equal(readdirSync(r.dir).length, 1);
    assertFilesWithinSize(r.dir);
  });
});
