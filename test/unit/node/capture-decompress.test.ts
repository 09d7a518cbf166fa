// The client end of `capture --compress`: zstd frames and gzip members as the real tools write
// them (zstd and gzip CLIs, as the agent runs them), fed in pieces as a websocket delivers them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { CaptureDecompressor, zstdFrameLength } from '../../../src/node/capture-decompress.ts';

const cli = (tool: string, input: Buffer) => execFileSync(tool, ['-1', '-c'], { input, maxBuffer: 64 << 20 });

/** Chunks as the agent makes them: text, incompressible bytes (raw blocks) and zeros (RLE blocks). */
const CHUNKS = [
  Buffer.from('a pcap header and some text '.repeat(100)),
  randomBytes(200_000),
  Buffer.alloc(300_000),
  Buffer.from('x'),
];
const PLAIN = Buffer.concat(CHUNKS);

/** Runs BYTES through a decompressor in pieces of SIZE; resolves with its output and failures. */
async function inflate(bytes: Buffer, size: number): Promise<{ out: Buffer; failures: Error[] }> {
  const failures: Error[] = [];
  const d = new CaptureDecompressor((e) => failures.push(e));
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (b: Buffer) => parts.push(b));
  d.pipe(sink);
  for (let i = 0; i < bytes.length; i += size) {
    if (!d.write(bytes.subarray(i, i + size))) await new Promise((r) => d.once('drain', r));
  }
  d.end();
  await new Promise((r) => sink.on('end', r));
  return { out: Buffer.concat(parts), failures };
}

for (const tool of ['zstd', 'gzip']) {
  const stream = Buffer.concat(CHUNKS.map((c) => cli(tool, c)));
  for (const size of [1, 7, 4096, 65536]) {
    test(`${tool}: one frame or member per chunk, fed ${size} bytes at a time, comes back whole`, async () => {
      const { out, failures } = await inflate(size === 1 ? stream.subarray(0, 40_000) : stream, size);
      assert.deepEqual(failures, []);
      if (size === 1) assert.ok(PLAIN.subarray(0, out.length).equals(out) && out.length > 0);
      else assert.ok(out.equals(PLAIN), `${out.length} bytes, expected ${PLAIN.length}`);
    });
  }

  test(`${tool}: a stream cut inside its last frame keeps every frame before it, without a failure`, async () => {
    const whole = Buffer.concat(CHUNKS.slice(0, 2).map((c) => cli(tool, c)));
    const cut = Buffer.concat([whole, cli(tool, CHUNKS[2]!).subarray(0, 20)]);
    const { out, failures } = await inflate(cut, 1000);
    assert.deepEqual(failures, []);
    assert.ok(out.subarray(0, CHUNKS[0]!.length + CHUNKS[1]!.length).equals(Buffer.concat(CHUNKS.slice(0, 2))));
  });
}

test('zstdFrameLength: undefined until the frame is complete, then its exact length (checksum included)', () => {
  const frame = cli('zstd', CHUNKS[0]!);
  for (const n of [0, 4, 8, frame.length - 1]) assert.equal(zstdFrameLength(frame.subarray(0, n)), undefined);
  assert.equal(zstdFrameLength(frame), frame.length);
  assert.equal(zstdFrameLength(Buffer.concat([frame, frame])), frame.length);
  assert.throws(() => zstdFrameLength(Buffer.from('d4c3b2a1020004000000', 'hex')), /not a zstd frame/);
});

test('a stream that is neither zstd nor gzip (plain pcap) is reported once, and nothing comes out', async () => {
  const pcap = Buffer.concat([
    Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex'),
    randomBytes(5000),
  ]);
  const { out, failures } = await inflate(pcap, 100);
  assert.equal(failures.length, 1);
  assert.match(failures[0]!.message, /neither zstd nor gzip \(it starts with d4c3b2a1\)/);
  assert.equal(out.length, 0);
});

test('corrupt gzip data in the middle is reported once; the writer is never left waiting', async () => {
  const good = cli('gzip', randomBytes(300_000));
  // 0xff opens a deflate block of the reserved type 3: always "invalid block type" (random bytes
  // gave zlib's other messages now and then).
  const bad = Buffer.concat([good, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(100_000, 0xff)]);
  // inflate() itself waits for every drain and for the end: it returning at all is the point.
  const { failures } = await inflate(bad, 4096);
  assert.equal(failures.length, 1);
  assert.match(failures[0]!.message, /invalid block type/);
});
