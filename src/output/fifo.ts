// Opening a named pipe (a FIFO, or a Windows named pipe such as Wireshark's `\\.\pipe\...`) as a
// stream. A FIFO's open() blocks until the other end opens it too; done through fs it would hold
// one of libuv's four worker threads (which also resolve the API server's name) for as long as
// that takes. So the write end is opened non-blocking, retried until a reader is there, and both
// ends are handed to libuv as pipes: writes then honour backpressure, and a reader that goes away
// is an EPIPE on the next write, as with any pipe.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** How often to look for a reader. */
const RETRY_MS = 50;

/** Is PATH a Windows named pipe (\\.\pipe\NAME)? */
export function isWindowsPipe(path: string): boolean {
  return /^[\\/]{2}[.?][\\/]pipe[\\/]/i.test(path);
}

/** Connects to a Windows named pipe that a server (Wireshark) created. */
function connectWindowsPipe(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** What the write end of a FIFO must be, checked on the open descriptor (so a swap after a check cannot fool it). */
export interface PipeCheck {
  /** The FIFO's owner must be this user id (a FIFO someone else made may be theirs to read). */
  owner?: number | undefined;
}

/** Opening PATH as a FIFO found something else there: ENOTFIFO (not a FIFO) or EOWNER (not ours). */
export interface PipeRefusal extends NodeJS.ErrnoException {
  code: 'ENOTFIFO' | 'EOWNER';
  /** What is there: "a regular file", "a named pipe owned by uid 65534". */
  found: string;
}

/** What kind of file ST is, in words. */
export function fileKind(st: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'a special file';
}

/** Closes FD unless it is a FIFO that passes CHECK; returns FD. */
function checkedPipe(fd: number, path: string, check: PipeCheck): number {
  const st = fstatSync(fd);
  let refusal: PipeRefusal | undefined;
  if (!st.isFIFO()) {
    refusal = Object.assign(new Error(`${path} is ${fileKind(st)}, not a named pipe`), {
      code: 'ENOTFIFO' as const,
      found: fileKind(st),
    });
  } else if (check.owner !== undefined && st.uid !== check.owner) {
    refusal = Object.assign(new Error(`${path} is a named pipe owned by another user (uid ${st.uid})`), {
      code: 'EOWNER' as const,
      found: `a named pipe owned by another user (uid ${st.uid})`,
    });
  }
  if (refusal) {
    closeSync(fd);
    throw refusal;
  }
  return fd;
}

/** Write ends opened ahead of use (see preopenPipeWriter), by path. */
const preopened = new Map<string, Socket>();

/**
 * Opens PATH for writing now, for the next openPipeWriter(PATH) of this process to take over. For
 * a reader that must not wait in vain: Wireshark's dumpcap blocks opening the extcap FIFO until a
 * writer comes (and on Windows gives up if none connects within 30 s), so the extcap opens it
 * first thing and a capture that fails before opening its output still ends the reader's wait.
 * The returned release() closes the pipe unless the capture took it.
 */
export async function preopenPipeWriter(path: string, signal?: AbortSignal): Promise<{ release(): void }> {
  const socket = await openPipeWriter(path, signal);
  socket.on('error', () => {});
  preopened.set(path, socket);
  return {
    release() {
      if (preopened.get(path) !== socket) return;
      preopened.delete(path);
      socket.destroy();
    },
  };
}

/**
 * Opens PATH for writing once something reads it (until SIGNAL aborts). The returned socket's
 * writes fail with EPIPE once the reader has gone. Anything but a FIFO (a regular file, a symbolic
 * link), or a FIFO that fails CHECK, is refused with a PipeRefusal before a byte is written.
 */
export async function openPipeWriter(path: string, signal?: AbortSignal, check: PipeCheck = {}): Promise<Socket> {
  const early = preopened.get(path);
  if (early) {
    preopened.delete(path);
    return early;
  }
  if (isWindowsPipe(path)) return connectWindowsPipe(path);
  for (;;) {
    signal?.throwIfAborted();
    try {
      // No O_NOFOLLOW on Windows, where FIFOs are named pipes (above).
      const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
      return new Socket({ fd: checkedPipe(fd, path, check), readable: false, writable: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // O_NOFOLLOW on a symbolic link.
      if (code === 'ELOOP') {
        throw Object.assign(new Error(`${path} is a symbolic link, not a named pipe`), {
          code: 'ENOTFIFO',
          found: 'a symbolic link',
        });
      }
      // ENXIO: nobody has the FIFO open for reading yet.
      if (code !== 'ENXIO') throw err;
    }
    // Aborted: the abort's reason (e.g. Ctrl-C), not a generic AbortError.
    await delay(RETRY_MS, undefined, { signal }).catch((err: unknown) => {
      throw signal?.aborted ? signal.reason : err;
    });
  }
}

/**
 * Opens PATH for reading without waiting for a writer. On a FIFO it is opened read-write, so it
 * never reads as ended while no writer is attached (and a writer's blocking open finds a reader
 * at once); Linux and macOS allow that on FIFOs.
 */
export async function openPipeReader(path: string): Promise<Socket> {
  if (isWindowsPipe(path)) return connectWindowsPipe(path);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  return new Socket({ fd, readable: true, writable: false });
}
