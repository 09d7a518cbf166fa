// The Writable the exec stream writes pcap bytes into: it counts packets as they pass (for the
// live status line and the summary) and forwards the bytes to the sink, passing the sink's
// backpressure back to the exec socket. It also remembers, for each chunk handed to the sink, the
// last whole record inside it, so a sink that fails midway (disk full) still leaves a file of
// complete packets: whatever made it to disk is cut back to a record boundary it contains. When the sink goes away or fails, later bytes are dropped:
// a write waiting for a 'drain' that never comes would leave the socket paused, and a paused
// socket does not even keep the process alive.
import { Writable } from 'node:stream';
import { PcapStreamParser } from '../pcap/stream-reader.ts';

/** A point in the stream that ends on a record boundary, and how many packets lie before it. */
export interface RecordMark {
  offset: number;
  packets: number;
}

/** A chunk handed to the sink: where it ends, and the last record boundary at or before that. */
interface ChunkMark extends RecordMark {
  end: number;
}

export class CaptureWriter extends Writable {
  readonly parser = new PcapStreamParser();
  private readonly sink: Writable;
  private sinkDone = false;
  private waiting: (() => void) | undefined;
  private confirmed: RecordMark = { offset: 0, packets: 0 };
  /** Chunks the sink has not confirmed yet, oldest first. */
  private unconfirmed: ChunkMark[] = [];

  constructor(sink: Writable) {
    super({ highWaterMark: 1 << 20 });
    this.sink = sink;
    const done = () => {
      this.sinkDone = true;
      const cb = this.waiting;
      this.waiting = undefined;
      cb?.();
    };
    sink.on('error', done);
    sink.on('close', done);
  }

  /**
   * The last record boundary wholly inside the first SIZE bytes the sink wrote: everything the
   * sink confirmed, and any unconfirmed chunk that still fits (a failed batch may have written part).
   */
  completeWithin(size: number): RecordMark {
    let best = this.confirmed;
    for (const c of this.unconfirmed) if (c.end <= size && c.offset > best.offset) best = c;
    return best;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.sinkDone) {
      cb();
      return;
    }
    // A corrupt stream is worth saying, but the bytes still go to the sink: the user may want them.
    try {
      this.parser.push(chunk);
    } catch {
      // counted as unparsed; completeOffset stays at the last good record
    }
    const mark: ChunkMark = {
      end: this.parser.streamBytes,
      offset: this.parser.completeOffset,
      packets: this.parser.packets,
    };
    this.unconfirmed.push(mark);
    const ok = this.sink.write(chunk, (err) => {
      if (err) return;
      if (mark.offset > this.confirmed.offset) this.confirmed = mark;
      // Callbacks arrive in order: every chunk up to this one is on disk.
      this.unconfirmed = this.unconfirmed.filter((c) => c.end > mark.end);
    });
    if (ok) {
      cb();
      return;
    }
    this.waiting = () => cb();
    this.sink.once('drain', () => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.();
    });
  }
}
