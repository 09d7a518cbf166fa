// The client end of `capture --compress`: the agent sends the pcap as a series of zstd frames or
// gzip members (one per chunk it read from tcpdump), recognised by their magic bytes. This
// Transform turns them back into the pcap stream, passing its reader's backpressure on.
//
// zlib's gunzip reads member after member by itself. Node's zstd decompressor stops at the end of
// the FIRST frame and drops the rest, so zstd frames are cut out here (RFC 8878 framing: header,
// blocks up to the one marked last, optional checksum) and each is decompressed on its own.
import { Transform, type TransformCallback } from 'node:stream';
import { constants, createGunzip, zstdDecompressSync, type Gunzip } from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = 0xfd2fb528;
/** 0x184D2A50..5F: frames a zstd reader must skip (their size follows the magic). */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/**
 * Length of the zstd frame at the start of BUF, or undefined while it is not complete. Throws on
 * bytes that are not a zstd frame.
 */
export function zstdFrameLength(buf: Buffer): number | undefined {
  if (buf.length < 8) return undefined;
  const magic = buf.readUInt32LE(0);
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
    const total = 8 + buf.readUInt32LE(4);
    return buf.length >= total ? total : undefined;
  }
  if (magic !== ZSTD_MAGIC) throw new Error(`not a zstd frame (starts with ${buf.subarray(0, 4).toString('hex')})`);
  const fhd = buf[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const didSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  let pos = 5 + (singleSegment ? 0 : 1) + didSize + fcsSize;
  for (;;) {
    if (buf.length < pos + 3) return undefined;
    const header = buf.readUIntLE(pos, 3);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new Error('corrupt zstd frame (reserved block type)');
    pos += 3 + (type === 1 ? 1 : size);
    if (last) break;
  }
  pos += checksum ? 4 : 0;
  return buf.length >= pos ? pos : undefined;
}

/**
 * Decompresses the agent's compressed capture stream (zstd frames or gzip members) back into pcap.
 * Unreadable input is reported once to ONFAILURE and everything after it is dropped: the stream
 * itself never errors, so the exec feeding it is never left waiting for a 'drain' that cannot come.
 */
export class CaptureDecompressor extends Transform {
  readonly #onFailure: (err: Error) => void;
  #failed = false;
  #kind: 'gzip' | 'zstd' | undefined;
  #pending: Buffer = Buffer.alloc(0);
  #gunzip: Gunzip | undefined;
  #flushing = false;
  /** A write waiting for gunzip's 'drain'. */
  #waiting: TransformCallback | undefined;

  constructor(onFailure: (err: Error) => void) {
    super();
    this.#onFailure = onFailure;
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#pending = Buffer.alloc(0);
    this.#onFailure(err);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#failed) return cb();
    try {
      if (this.#kind === undefined) {
        this.#pending = Buffer.concat([this.#pending, chunk]);
        if (this.#pending.length < 4) return cb();
        chunk = this.#pending;
        this.#pending = Buffer.alloc(0);
        this.#kind = this.#sniff(chunk);
      }
      if (this.#kind === 'zstd') {
        this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
        for (let n = zstdFrameLength(this.#pending); n !== undefined; n = zstdFrameLength(this.#pending)) {
          const frame = this.#pending.subarray(0, n);
          this.#pending = this.#pending.subarray(n);
          if (frame.readUInt32LE(0) === ZSTD_MAGIC) this.push(zstdDecompressSync(frame));
        }
        return cb();
      }
      const gz = this.#gunzip!;
      if (gz.write(chunk) || this.#failed) return cb();
      this.#waiting = cb;
      gz.once('drain', () => this.#release());
    } catch (err) {
      this.#fail(err as Error);
      cb();
    }
  }

  #release(): void {
    const cb = this.#waiting;
    this.#waiting = undefined;
    cb?.();
  }

  override _read(size: number): void {
    this.#gunzip?.resume();
    super._read(size);
  }

  override _flush(cb: TransformCallback): void {
    // A stream cut inside a frame (a lost connection) loses only that frame: what came before is
    // complete, and the pcap reader keeps whole records only.
    const gz = this.#gunzip;
    if (!gz || this.#failed) return cb();
    this.#flushing = true;
    gz.once('end', () => cb());
    gz.once('error', () => cb());
    gz.end();
  }

  #sniff(head: Buffer): 'gzip' | 'zstd' {
    if (head.readUInt32LE(0) === ZSTD_MAGIC) return 'zstd';
    if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
      // SYNC_FLUSH at the end: a stream cut inside a member still yields every member before it
      // (with the default Z_FINISH, zlib reports the cut and drops output it already had).
      const gz = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
      gz.on('data', (d: Buffer) => {
        if (!this.push(d)) gz.pause();
      });
      gz.on('error', (err) => {
        if (this.#flushing) return;
        this.#fail(err);
        // Nothing more goes into gunzip, so its drain will not come.
        this.#release();
      });
      this.#gunzip = gz;
      return 'gzip';
    }
    throw new Error(
      `the compressed capture stream is neither zstd nor gzip (it starts with ${head.subarray(0, 4).toString('hex')})`,
    );
  }
}
