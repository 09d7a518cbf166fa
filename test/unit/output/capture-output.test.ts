// How a capture's output ends when the disk fills up: on a real 64 KiB tmpfs, 200 records of real
// packets do not fit. The capture must stop with the errno, keep only complete records, and leave
// a file that tcpdump and tshark read without complaint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ExitCode, UserError } from '../../../src/errors.ts';
import { RemoteCapture } from '../../../src/node/remote-capture.ts';
import { CaptureOutput } from '../../../src/output/capture-output.ts';
import { fileSink } from '../../../src/output/sink.ts';
import { pcapGlobalHeader, pcapRecord } from '../../../src/pcap/writer.ts';
import { LinkType } from '../../../src/pcap/format.ts';
import { readPcap } from '../../helpers/pcap/reader.ts';
import { requireCaptureTools } from '../../helpers/pcap/fixtures.ts';

const skip = requireCaptureTools(['tcpdump', 'tshark']);

/** 200 Ethernet/IPv4/UDP packets of 600 bytes, as tcpdump would stream them. */
function pcapStream(records: number): Buffer {
  const parts = [pcapGlobalHeader({ linkType: LinkType.EN10MB })];
  for (let i = 0; i < records; i++) {
    const frame = Buffer.alloc(600);
    frame.writeUInt16BE(0x0800, 12); // IPv4
    frame[14] = 0x45;
    frame.writeUInt16BE(600 - 14, 16);
    frame[23] = 17; // UDP
    frame.writeUInt32BE(0x0a000001, 26);
    frame.writeUInt32BE(0x0a000002, 30);
    frame.writeUInt16BE(9999, 34);
    frame.writeUInt16BE(i, 36);
    frame.writeUInt16BE(600 - 34, 38);
    parts.push(pcapRecord({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: frame }));
  }
  return Buffer.concat(parts);
}

/** Stands in for the agent's exec: streams BYTES to stdout in 4 KiB chunks, honouring backpressure. */
const streamingAgentExecFake = (bytes: Buffer) => ({
  async exec(_argv: string[], io: { stdout: Writable }) {
    for (let o = 0; o < bytes.length; o += 4096) {
      if (!io.stdout.write(bytes.subarray(o, o + 4096))) await new Promise((r) => io.stdout.once('drain', r));
    }
    return { exitCode: 0, stdoutBytes: bytes.length };
  },
});

describe('capture output on a full disk', { skip }, () => {
  let mnt = '';
  before(() => {
    mnt = mkdtempSync(join(tmpdir(), 'knetns-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  });
  after(() => {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  test('ENOSPC stops the capture, says so, and keeps a file of complete records only', async () => {
    const path = join(mnt, 'full.pcap');
    const output = new CaptureOutput(await fileSink(path), false);
    const remote = new RemoteCapture(streamingAgentExecFake(pcapStream(200)), { pid: 1, filter: [] });
    await output.pump(remote, new AbortController().signal);
    await output.finish();
    let err: unknown;
    try {
      output.throwIfFailed();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof UserError, 'a failed write is an error, not a quiet success');
    assert.equal(err.exitCode, ExitCode.output);
    assert.match(err.message, /ENOSPC/);
    const kept = Number(/kept the (\d+) complete packets/.exec(err.message)?.[1]);
    assert.ok(kept > 0 && kept < 200, `kept ${kept} of 200`);

    const file = readFileSync(path);
    const pcap = readPcap(file);
    assert.equal(pcap.records.length, kept, 'the file holds exactly the packets the message names');
    assert.equal(pcap.truncatedBytes, 0, 'no partial record at the end');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    // The real tools agree: tcpdump -r exits 0 (it fails on a cut record), tshark counts the same.
    const tcpdump = spawnSync('tcpdump', ['-r', path, '-nn'], { encoding: 'utf8' });
    assert.equal(tcpdump.status, 0, tcpdump.stderr);
    const tshark = execFileSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.number'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.equal(tshark.trim().split('\n').length, kept);
    assert.deepEqual(
      readdirSync(mnt).filter((f) => f.endsWith('.partial')),
      [],
      'no temporary left behind',
    );
  });
});
