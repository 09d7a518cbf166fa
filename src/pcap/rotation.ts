// Client-side rotation of capture files (--rotate-size, --rotate-every, --rotate-count) as a pure
// policy: it decides when the sink must start a new file, what the new file is called and which old
// file to delete. The sink does the file system work and tells the policy what it wrote.
//
// Decisions (documented for users in the command's help):
//   - Every file of a rotated capture is numbered, the first one too:
//     `web.pcapng` -> `web-00001-20261201T101500Z.pcapng`, `web-00002-...`: the base name without its
//     extension, a 5-digit sequence number from 1 (it just grows wider past 99999) and the UTC time
//     the file was opened (ISO 8601 basic format), then the base name's extension. The sequence keeps
//     names unique and sortable even when several files open within one second.
//   - --rotate-size: a new file starts before a packet would make the current one larger than the
//     limit, so files never exceed it, except a file whose first packet alone does not fit (a file
//     always gets at least one packet). tcpdump -C instead lets a file grow past the limit by one packet.
//   - --rotate-every: a new file starts with the first packet written at least SECONDS after the
//     current file was opened, as tcpdump -G does. Idle time creates no empty files; intervals are
//     counted from each file's opening, not aligned to the clock.
//   - --rotate-count N: at most N files of this run exist; opening file N+1 deletes the oldest. Only
//     files this policy named in this run are ever deleted, never older captures with the same base.
//   - Sizes: a bare number is bytes; k/K, M, G, T (optionally followed by B) are powers of 1000, as
//     tcpdump -C counts "millions of bytes" and Kubernetes quantities read 1G; Ki, Mi, Gi, Ti (with
//     or without B) are powers of 1024. Fractions are allowed and rounded down to whole bytes.

import { basename } from 'node:path';

/** The user's rotation settings; an empty object means no rotation (write one file as named). */
export interface RotationOptions {
  /** --rotate-size in bytes. */
  maxBytes?: number;
  /** --rotate-every in seconds. */
  everySeconds?: number;
  /** --rotate-count: how many files to keep. */
  keepFiles?: number;
}

/** Why the sink must start a new file. */
export type RotationReason = 'size' | 'time';

/** What the sink does to start the next file: delete `remove` (if still there), then create `path`. */
export interface RotationStep {
  readonly path: string;
  readonly sequence: number;
  readonly remove: readonly string[];
}

/** Whether any rotation option is set (otherwise the sink writes the plain output file). */
export function rotationEnabled(o: RotationOptions): boolean {
  return o.maxBytes !== undefined || o.everySeconds !== undefined || o.keepFiles !== undefined;
}

/** Checks rotation options; throws RangeError with a message fit for the user. */
export function validateRotationOptions(o: RotationOptions): void {
  if (o.maxBytes !== undefined && !(Number.isSafeInteger(o.maxBytes) && o.maxBytes >= 1)) {
    throw new RangeError(`--rotate-size must be at least 1 byte, got ${o.maxBytes}`);
  }
  if (o.everySeconds !== undefined && !(Number.isFinite(o.everySeconds) && o.everySeconds > 0)) {
    throw new RangeError(`--rotate-every must be a number of seconds above 0, got ${o.everySeconds}`);
  }
  if (o.keepFiles !== undefined) {
    if (!(Number.isSafeInteger(o.keepFiles) && o.keepFiles >= 1))
      throw new RangeError(`--rotate-count must be a whole number of files, at least 1, got ${o.keepFiles}`);
    if (o.maxBytes === undefined && o.everySeconds === undefined) {
      throw new RangeError(
        '--rotate-count needs --rotate-size or --rotate-every (otherwise there is only ever one file)',
      );
    }
  }
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Parses a size such as "100MB", "50MiB", "1G", "1.5k" or "4096" into bytes; throws RangeError. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[(m[2] as string).toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new RangeError(`not a size: ${JSON.stringify(text)} (use e.g. 500000, 100MB, 50MiB, 1G, 2GiB)`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`size too large: ${JSON.stringify(text)}`);
  return bytes;
}

/** UTC time as ISO 8601 basic format to the second: 20261201T101500Z. */
export function compactUtc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** The name of rotated file `sequence` for output `basePath`, opened at `openedAtMs` (see the file comment). */
export function rotatedFileName(basePath: string, sequence: number, openedAtMs: number): string {
  const file = basename(basePath);
  // The extension is the last ".xyz" of the file name, but a leading dot (".pcapng") is not one.
  const dot = file.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [file.slice(0, dot), file.slice(dot)] : [file, ''];
  const name = `${stem}-${String(sequence).padStart(5, '0')}-${compactUtc(openedAtMs)}${ext}`;
  // The directory part is kept exactly as given ("./", "/abs/", "out/").
  return basePath.slice(0, basePath.length - file.length) + name;
}

/** Decides when to start a new file, what to call it and which old file to delete (see the file comment). */
export class RotationPolicy {
  readonly #base: string;
  readonly #opts: RotationOptions;
  // Files of this run still on disk, oldest first (the current one last).
  readonly #files: string[] = [];
  #sequence = 0;
  #openedAt = 0;
  #bytes = 0;
  #packets = 0;

  constructor(basePath: string, options: RotationOptions) {
    if (basePath === '' || basePath.endsWith('/'))
      throw new RangeError(`the output must be a file name, got ${JSON.stringify(basePath)}`);
    validateRotationOptions(options);
    this.#base = basePath;
    this.#opts = { ...options };
  }

  /** The file being written, once open() was called. */
  get currentPath(): string | undefined {
    return this.#files.at(-1);
  }

  /** Bytes and packets recorded for the current file. */
  get currentFile(): { bytes: number; packets: number; openedAtMs: number } {
    return { bytes: this.#bytes, packets: this.#packets, openedAtMs: this.#openedAt };
  }

  /** Starts the next file (the first one too): its name, and the oldest files to delete first. */
  open(nowMs: number): RotationStep {
    this.#sequence++;
    const path = rotatedFileName(this.#base, this.#sequence, nowMs);
    this.#files.push(path);
    const keep = this.#opts.keepFiles ?? Infinity;
    const remove = this.#files.length > keep ? this.#files.splice(0, this.#files.length - keep) : [];
    this.#openedAt = nowMs;
    this.#bytes = 0;
    this.#packets = 0;
    return { path, sequence: this.#sequence, remove };
  }

  /**
   * Asked before writing a packet of `nextBytes` at `nowMs`: whether the current file must be closed
   * and the next one opened first. Never for a file with no packet yet.
   */
  due(nextBytes: number, nowMs: number): RotationReason | undefined {
    if (this.#sequence === 0) throw new Error('RotationPolicy.due() before open()');
    if (this.#packets === 0) return undefined;
    const { maxBytes, everySeconds } = this.#opts;
    if (maxBytes !== undefined && this.#bytes + nextBytes > maxBytes) return 'size';
    if (everySeconds !== undefined && nowMs - this.#openedAt >= everySeconds * 1000) return 'time';
    return undefined;
  }

  /** Records bytes written to the current file that hold no packet (SHB, IDBs, NRB, ISBs). */
  wroteMetadata(bytes: number): void {
    this.#bytes += bytes;
  }

  /** Records a packet block written to the current file. */
  wrotePacket(bytes: number): void {
    this.#bytes += bytes;
    this.#packets++;
  }
}
