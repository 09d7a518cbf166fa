// The Writable the exec stream writes pcap bytes into: it counts packets as they pass (for the
// live status line and the summary) and forwards the bytes to the sink, passing the sink's
// backpressure back to the exec socket.
import { Writable } from 'node:stream';
import { PcapStreamParser } from '../pcap/stream-reader.ts';

export class CaptureWriter extends Writable {
  readonly parser = new PcapStreamParser();
  private readonly sink: Writable;
  private sinkFailed = false;

  constructor(sink: Writable) {
    super({ highWaterMark: 1 << 20 });
    this.sink = sink;
    sink.on('error', () => {
      this.sinkFailed = true;
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // A corrupt stream is worth saying, but the bytes still go to the sink: the user may want them.
    try {
      this.parser.push(chunk);
    } catch {
      // counted as unparsed; completeOffset stays at the last good record
    }
    if (this.sinkFailed) {
      cb();
      return;
    }
    if (this.sink.write(chunk)) cb();
    else this.sink.once('drain', () => cb());
  }
}
