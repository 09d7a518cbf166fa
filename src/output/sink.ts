// Where capture bytes go: a file (written under a private temporary name and moved into place when
// complete, so a reader never sees half a capture and nothing is clobbered), a named pipe
// (Wireshark's extcap FIFO; or one of the user's own made with mkfifo and given with --overwrite:
// written in place, as it is read while it is written), or stdout (refused when it is a terminal).
// An existing output path is never written without --overwrite, and a named pipe someone else
// made, a device or a socket never at all: in a shared directory, whoever made the pipe would read
// the packets (the default file name is predictable). Each sink tells apart a
// consumer that went away (EPIPE, `| head`: a normal end) from an output that failed (ENOSPC,
// EIO: the capture must stop and say so).
import { createWriteStream, promises as fs, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { ExitCode, UserError } from '../errors.ts';
import { fileKind, isWindowsPipe, openPipeWriter, type PipeCheck, type PipeRefusal } from './fifo.ts';
import { partialPath } from './partial-files.ts';

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

/** This process's user id; undefined where there is none (Windows). */
const ourUid = process.geteuid?.();

/**
 * Refuses to start a capture that would write to PATH when something is there, unless the user
 * said so (--overwrite), and always when it is a directory, a device, a socket or another user's
 * named pipe; checked before any pod exists. Resolves with what is there (not following a link).
 */
export async function assertWritable(path: string, overwrite: boolean): Promise<Stats | undefined> {
  const st = await fs.lstat(path).catch(() => undefined);
  if (st?.isDirectory()) {
    throw new UserError(`${path} is a directory`, {
      exitCode: ExitCode.output,
      hint: 'give a file name, e.g. -o capture.pcap',
    });
  }
  if (st && !overwrite) {
    throw new UserError(`${path} already exists`, {
      exitCode: ExitCode.output,
      hint: `choose another name with -o, or pass --overwrite to ${st.isFIFO() ? 'write into your named pipe' : 'replace it'}`,
    });
  }
  if (st && (st.isCharacterDevice() || st.isBlockDevice() || st.isSocket())) {
    throw new UserError(`${path} is ${fileKind(st)}, not a capture file`, {
      exitCode: ExitCode.output,
      hint: 'give a file name, or -o - to write to stdout',
    });
  }
  if (st?.isFIFO() && ourUid !== undefined && st.uid !== ourUid) throw notOurPipe(path, st.uid);
  const dir = dirname(path);
  try {
    await fs.access(dir, fs.constants.W_OK);
  } catch (err) {
    throw new UserError(`cannot write ${path}: directory ${dir} is missing or not writable`, {
      exitCode: ExitCode.output,
      cause: err,
    });
  }
  return st;
}

/** Another user's named pipe at the output path: its owner would read the packets. */
function notOurPipe(path: string, uid: number): UserError {
  return new UserError(`${path} is a named pipe owned by another user (uid ${uid}): refusing to write into it`, {
    exitCode: ExitCode.output,
    hint: 'whoever made it would read the capture; write elsewhere with -o (a directory only you can write)',
  });
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
 * aborts the wait); CHECK says whose it must be. Its reader closing it is the consumer going away,
 * as with `| head`.
 */
export async function pipeSink(path: string, signal?: AbortSignal, check: PipeCheck = {}): Promise<CaptureSink> {
  let socket;
  try {
    socket = await openPipeWriter(path, signal, check);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw pipeFailure(path, err);
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

/** Opening the pipe PATH failed: what people read. */
export function pipeFailure(path: string, err: unknown): UserError {
  const e = err as Partial<Omit<PipeRefusal, 'code'>> & { code?: string };
  if (e.code === 'EOWNER') return notOurPipe(path, Number(/uid (\d+)/.exec(e.found ?? '')?.[1]));
  if (e.code === 'ENOTFIFO' || e.code === 'ENOENT') {
    return new UserError(
      `cannot write to ${path}: it is ${e.code === 'ENOENT' ? 'not there' : e.found}, not a named pipe`,
      {
        exitCode: ExitCode.output,
        cause: err,
      },
    );
  }
  return new UserError(`cannot write to the pipe ${path}: ${e.code ?? e.message}`, {
    exitCode: ExitCode.output,
    cause: err,
  });
}

/**
 * Capture bytes to FILE, via a private temporary file in FILE's directory so the final move is
 * atomic. With OVERWRITE, a FILE that is the user's own named pipe is written in place (see
 * pipeSink), and so is a Windows named pipe (\\.\pipe\NAME), whose owner cannot be checked.
 */
export async function fileSink(
  path: string,
  opts: { overwrite?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<CaptureSink> {
  const overwrite = opts.overwrite === true;
  if (isWindowsPipe(path)) {
    if (!overwrite) {
      throw new UserError(`${path} is a named pipe`, {
        exitCode: ExitCode.output,
        hint: 'pass --overwrite to write into it (make sure it is yours: whoever serves it reads the capture)',
      });
    }
    return pipeSink(path, opts.signal);
  }
  const there = await assertWritable(path, overwrite);
  // The owner is checked again on the opened pipe: a swap since the check above is refused too.
  if (there?.isFIFO()) return pipeSink(path, opts.signal, { owner: ourUid });
  const tmp = partialPath(path);
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
