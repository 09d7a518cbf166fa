// Where capture bytes go: a file (written under a private temporary name and moved into place when
// complete, so a reader never sees half a capture and nothing is clobbered), a named pipe that
// exists already (Wireshark's extcap FIFO, or one made with mkfifo: written in place, as it is
// read while it is written), or stdout (refused when it is a terminal). Each sink tells apart a
// consumer that went away (EPIPE, `| head`: a normal end) from an output that failed (ENOSPC,
// EIO: the capture must stop and say so).
import { createWriteStream, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { ExitCode, UserError } from '../errors.ts';
import { isWindowsPipe, openPipeWriter } from './fifo.ts';

export interface CaptureSink {
  /** Where bytes are written. */
  readonly stream: Writable;
  /** For the summary line: "web.pcap", "stdout", "Wireshark". */
  readonly description: string;
  /** Resolves when the consumer stops reading (reader exited, Wireshark closed). */
  readonly gone: Promise<void>;
  /** Resolves with the error when writing fails for another reason (disk full, I/O error). */
  readonly failed: Promise<NodeJS.ErrnoException>;
  /**
   * Ends the output. Once every write has settled, KEEP is told how many bytes the output really
   * holds and answers how many to keep (a record boundary); sinks that can truncate do so.
   */
  finish(keep: (written: number) => number): Promise<void>;
  /** Ends the output after a failure before any packet: no file is left behind. */
  discard(): Promise<void>;
}

/** Private to the user: captures hold other people's traffic. */
const FILE_MODE = 0o600;
/** How much a file sink buffers before it asks the exec stream to wait. */
const FILE_HIGH_WATER = 1 << 20;

/** Errors that mean "the reader went away", not "the output broke". */
function readerGone(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';
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

/** Splits a stream's errors into "gone" (EPIPE; also a close, for a pipe) and "failed" (anything else). */
export function watchErrors(stream: NodeJS.EventEmitter, goneOnClose: boolean): Pick<CaptureSink, 'gone' | 'failed'> {
  let onGone: () => void = () => {};
  let onFailed: (e: NodeJS.ErrnoException) => void = () => {};
  const gone = new Promise<void>((resolve) => (onGone = resolve));
  const failed = new Promise<NodeJS.ErrnoException>((resolve) => (onFailed = resolve));
  stream.on('error', (err: NodeJS.ErrnoException) => (readerGone(err) ? onGone() : onFailed(err)));
  if (goneOnClose) stream.on('close', () => onGone());
  return { gone, failed };
}

/**
 * Makes `-o DIR/` ready before anything starts: created if missing (private, as the files it will
 * hold), and writable; a clear error otherwise.
 */
export async function prepareDirectory(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.access(dir, fs.constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`cannot write into directory ${dir}: ${e.code ?? e.message}`, {
      exitCode: ExitCode.output,
      hint:
        e.code === 'ENOTDIR' || e.code === 'EEXIST'
          ? `${dir} is a file; give a directory, or -w FILE`
          : 'check the permissions, or give another -w',
      cause: err,
    });
  }
}

/** Capture bytes to stdout (the caller has checked it is not a terminal). */
export function stdoutSink(out: NodeJS.WriteStream = process.stdout): CaptureSink {
  const { gone, failed } = watchErrors(out, true);
  return {
    stream: out,
    description: 'stdout',
    gone,
    failed,
    finish: () =>
      new Promise<void>((resolve) => (out.writableNeedDrain ? out.once('drain', () => resolve()) : resolve())),
    discard: () => Promise.resolve(),
  };
}

/** Refuses to start a capture that would replace FILE, unless the user said so; checked before any pod exists. */
export async function assertWritable(path: string, overwrite: boolean): Promise<void> {
  const st = await fs.stat(path).catch(() => undefined);
  if (st?.isDirectory()) {
    throw new UserError(`${path} is a directory`, {
      exitCode: ExitCode.output,
      hint: 'give a file name, e.g. -o capture.pcap',
    });
  }
  if (st && !overwrite) {
    throw new UserError(`${path} already exists`, {
      exitCode: ExitCode.output,
      hint: 'choose another name with -o, or pass --overwrite to replace it',
    });
  }
  const dir = dirname(path);
  try {
    await fs.access(dir, fs.constants.W_OK);
  } catch (err) {
    throw new UserError(`cannot write ${path}: directory ${dir} is missing or not writable`, {
      exitCode: ExitCode.output,
      cause: err,
    });
  }
}

/** Moves the finished file into place; without OVERWRITE never replaces a file that appeared meanwhile. */
async function moveIntoPlace(tmp: string, path: string, overwrite: boolean): Promise<void> {
  if (overwrite) return fs.rename(tmp, path);
  try {
    // link() fails with EEXIST instead of replacing: the no-clobber rename POSIX offers.
    await fs.link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Filesystems without hard links (some network and FUSE mounts): check, then rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    if (await fs.stat(path).catch(() => undefined))
      throw Object.assign(new Error(`${path} exists`), { code: 'EEXIST' });
    return fs.rename(tmp, path);
  }
  await fs.unlink(tmp);
}

/**
 * Capture bytes into the named pipe PATH, written in place once something reads it (until SIGNAL
 * aborts the wait). Its reader closing it is the consumer going away, as with `| head`.
 */
export async function pipeSink(path: string, signal?: AbortSignal): Promise<CaptureSink> {
  let socket;
  try {
    socket = await openPipeWriter(path, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`cannot write to the pipe ${path}: ${e.code ?? e.message}`, {
      exitCode: ExitCode.output,
      cause: err,
    });
  }
  let finishing = false;
  const errors = watchErrors(socket, false);
  // A pipe that closes while we still write to it was closed by its reader (a Windows named pipe
  // may say so with a close rather than an EPIPE).
  const gone = Promise.race([
    errors.gone,
    new Promise<void>((resolve) => socket.once('close', () => !finishing && resolve())),
  ]);
  const end = () =>
    new Promise<void>((resolve) => {
      finishing = true;
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.end();
    });
  return {
    stream: socket,
    description: path,
    gone,
    failed: errors.failed,
    // A pipe cannot be cut back to a record boundary: its reader has every byte already.
    finish: () => end(),
    discard: () => end(),
  };
}

/** Is PATH a named pipe that exists (a FIFO, or a Windows named pipe)? */
async function isPipe(path: string): Promise<boolean> {
  if (isWindowsPipe(path)) return true;
  const st = await fs.stat(path).catch(() => undefined);
  return st?.isFIFO() === true;
}

/**
 * Capture bytes to FILE, via a private temporary file in FILE's directory so the final move is
 * atomic; a FILE that is a named pipe is written in place (see pipeSink).
 */
export async function fileSink(
  path: string,
  opts: { overwrite?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<CaptureSink> {
  if (await isPipe(path)) return pipeSink(path, opts.signal);
  const overwrite = opts.overwrite === true;
  await assertWritable(path, overwrite);
  const tmp = join(dirname(path), `.${basename(path)}.kubectl-netns-${process.pid}.partial`);
  // 1 MiB before write() says "wait": with the default 16 KiB nearly every websocket frame filled
  // it, and each wait paused and resumed the exec socket; queued chunks now go out in one writev.
  // 10 s saturated on the local cluster: 550 and 608 MB of pcap against 475 and 487, with 4.3-5.1 s
  // of client CPU against 5.6-6.0 s.
  const stream = createWriteStream(tmp, { flags: 'wx', mode: FILE_MODE, highWaterMark: FILE_HIGH_WATER });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) =>
      reject(new UserError(`cannot write ${path}: ${err.message}`, { exitCode: ExitCode.output, cause: err })),
    );
  });
  const errors = watchErrors(stream, false);
  const closed = () => new Promise<void>((resolve) => (stream.closed ? resolve() : stream.end(() => resolve())));
  return {
    stream,
    description: path,
    ...errors,
    async finish(keep) {
      await closed();
      // An interrupted or failed stream may end inside a record: cut it so every reader accepts the file.
      const size = (await fs.stat(tmp)).size;
      const keepBytes = keep(size);
      if (keepBytes < size) await fs.truncate(tmp, keepBytes);
      try {
        await moveIntoPlace(tmp, path, overwrite);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new UserError(
          `cannot move the finished capture to ${path}: ${e.code ?? e.message}; it is kept in ${tmp}`,
          {
            exitCode: ExitCode.output,
            hint:
              e.code === 'EEXIST'
                ? `${path} was created while capturing; rename ${tmp} yourself`
                : 'check the permissions of the directory',
            cause: err,
          },
        );
      }
    },
    async discard() {
      await closed();
      await fs.rm(tmp, { force: true });
    },
  };
}

/** What people read when writing the output failed: the errno, what was kept, and what to do. */
export function outputFailure(err: NodeJS.ErrnoException, where: string, keptPackets: number | undefined): UserError {
  const code = err.code ?? 'EIO';
  const hints: Record<string, string> = {
    ENOSPC: 'the filesystem is full: free space, or write elsewhere with -o',
    EDQUOT: 'your disk quota is used up: free space, or write elsewhere with -o',
    EIO: 'the device reported an I/O error: check the disk, or write elsewhere with -o',
    EACCES: 'permission denied: check the permissions of the file and its directory',
    EFBIG: 'the file is larger than this filesystem allows: write elsewhere with -o',
  };
  const kept = keptPackets === undefined ? '' : `; kept the ${keptPackets} complete packets written before it`;
  return new UserError(`writing ${where} failed: ${code} (${err.message.replace(/^[A-Z]+: /, '')})${kept}`, {
    exitCode: ExitCode.output,
    hint: hints[code] ?? 'write elsewhere with -o',
    cause: err,
  });
}
