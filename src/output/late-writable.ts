// A Writable whose destination is chosen after writing may already have begun: an armed capture's
// exec is open before anyone knows which pod (and so which output) it will serve.
import { Writable } from 'node:stream';

/** What a late writable forwards to: a Writable that counts the packets it has received. */
export type CountingWritable = Writable & { readonly packets: number };

/** Forwards every chunk to the destination given later by `to()`; chunks wait for it, in order. */
export class LateWritable extends Writable {
  #dest: CountingWritable | undefined;
  #ready: Promise<CountingWritable>;
  #resolve!: (dest: CountingWritable) => void;

  constructor() {
    super({ highWaterMark: 1 << 16 });
    this.#ready = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Sets the destination (once); what was written before goes there first. */
  to(dest: CountingWritable): void {
    if (this.#dest) throw new Error('LateWritable: destination already set');
    this.#dest = dest;
    dest.once('error', (err) => this.destroy(err));
    this.#resolve(dest);
  }

  /** The destination's packet count (0 before there is one). */
  get packets(): number {
    return this.#dest?.packets ?? 0;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    void this.#ready.then((dest) => {
      if (dest.write(chunk)) cb();
      else dest.once('drain', () => cb());
    });
  }
}
