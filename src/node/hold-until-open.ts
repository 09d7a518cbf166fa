// The agent's stdout and stderr travel as separate channels of one exec stream, and the kubelet
// copies each in its own goroutine: the first pcap bytes can arrive before the info line that says
// which interface they come from, although the agent printed that line first. A capture's stdout
// passes through this gate, which holds what arrives until the line has been read.
import { Transform, type TransformCallback } from 'node:stream';

/** Bytes held before the gate opens by itself (the line is a few ms away; this bounds a lost one). */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

/** Passes bytes through in order, holding them until open() (or MAX_HELD_BYTES, or the end). */
export class HoldUntilOpen extends Transform {
  #held: Buffer[] | undefined = [];
  #heldBytes = 0;

  /** Lets everything held so far, then everything after, through. Safe to call twice. */
  open(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    for (const chunk of held) this.push(chunk);
  }

  /** Whether open() has happened. */
  get isOpen(): boolean {
    return this.#held === undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.#held) {
      callback(null, chunk);
      return;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes >= MAX_HELD_BYTES) this.open();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.open();
    callback();
  }
}
