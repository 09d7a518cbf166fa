// Where pcap bytes go: a file (written under a temporary name and renamed when complete, so a
// reader never sees half a capture and a failed run does not clobber an existing file) or stdout
// (refused when it is a terminal). Each sink says when its consumer has gone away (EPIPE, `| head`)
// so the capture can stop instead of streaming into nothing.
import { createWriteStream, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { ExitCode, UserError } from '../errors.ts';

export interface CaptureSink {
  /** Where bytes are written. */
  readonly stream: Writable;
  /** For the summary line: "web.pcap", "stdout", "Wireshark". */
  readonly description: string;
  /** Resolves when the consumer stops reading (reader exited, Wireshark closed). */
  readonly gone: Promise<void>;
  /** Ends the output, keeping only the first `completeBytes` bytes when the sink can truncate. */
  finish(completeBytes: number): Promise<void>;
  /** Ends the output after a failure before any packet: no file is left behind. */
  discard(): Promise<void>;
}

/** Refuses binary output to a terminal; checked before any pod is created. */
export function assertNotTerminal(isTTY: boolean | undefined): void {
  if (isTTY) {
    throw new UserError('refusing to write pcap data to a terminal', {
      exitCode: ExitCode.output,
      hint: 'redirect it (-o - > file.pcap, -o - | wireshark -k -i -, -o - | tcpdump -r -) or write a file with -o FILE',
    });
  }
}

/** pcap bytes to stdout. */
export function stdoutSink(out: NodeJS.WriteStream = process.stdout): CaptureSink {
  assertNotTerminal(out.isTTY);
  const gone = new Promise<void>((resolve) => {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') resolve();
    });
    out.on('close', () => resolve());
  });
  return {
    stream: out,
    description: 'stdout',
    gone,
    finish: () =>
      new Promise<void>((resolve) => (out.writableNeedDrain ? out.once('drain', () => resolve()) : resolve())),
    discard: async () => {},
  };
}

/** pcap bytes to FILE, via FILE's directory so the final rename is atomic. */
export async function fileSink(path: string): Promise<CaptureSink> {
  const dir = dirname(path);
  try {
    const st = await fs.stat(path).catch(() => undefined);
    if (st?.isDirectory())
      throw new UserError(`${path} is a directory`, {
        exitCode: ExitCode.output,
        hint: 'give a file name, e.g. -o capture.pcap',
      });
    await fs.access(dir, fs.constants.W_OK);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot write ${path}: directory ${dir} is missing or not writable`, {
      exitCode: ExitCode.output,
      cause: err,
    });
  }
  const tmp = join(dir, `.${basename(path)}.kubectl-netns-${process.pid}.partial`);
  const stream = createWriteStream(tmp, { flags: 'wx' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) =>
      reject(new UserError(`cannot write ${path}: ${err.message}`, { exitCode: ExitCode.output, cause: err })),
    );
  });
  const closed = () => new Promise<void>((resolve) => (stream.closed ? resolve() : stream.end(() => resolve())));
  return {
    stream,
    description: path,
    // A local file never stops reading.
    gone: new Promise<void>(() => {}),
    async finish(completeBytes) {
      await closed();
      // An interrupted stream may end inside a record: cut it so every reader accepts the file.
      const size = (await fs.stat(tmp)).size;
      if (completeBytes < size) await fs.truncate(tmp, completeBytes);
      await fs.rename(tmp, path);
    },
    async discard() {
      await closed();
      await fs.rm(tmp, { force: true });
    },
  };
}
