// The Writable the exec stream writes pcap bytes into: it counts packets as they pass (for the
// live status line and the summary) and forwards the bytes to the sink, passing the sink's
// backpressure back to the exec socket. When the sink goes away (`| head` exits, Wireshark is
// closed) the bytes are dropped instead: a write waiting for a 'drain' that never comes would
// leave the socket paused, and a paused socket does not even keep the process alive.
import { Writable } from 'node:stream';
import { PcapStreamParser } from '../pcap/stream-reader.ts';

export class CaptureWriter extends Writable {
  readonly parser = new PcapStreamParser();
  private readonly sink: Writable;
  private sinkGone = false;
  private waiting: (() => void) | undefined;

  constructor(sink: Writable) {
    super({ highWaterMark: 1 << 20 });
    this.sink = sink;
    const gone = () => {
      this.sinkGone = true;
      const cb = this.waiting;
      this.waiting = undefined;
      cb?.();
    };
    sink.on('error', gone);
    sink.on('close', gone);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // A corrupt stream is worth saying, but the bytes still go to the sink: the user may want them.
    try {
      this.parser.push(chunk);
    } catch {
      // counted as unparsed; completeOffset stays at the last good record
    }
    if (this.sinkGone) {
      cb();
      return;
    }
    if (this.sink.write(chunk)) {
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
