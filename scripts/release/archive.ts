// Deterministic .tar.gz archives: entries in the order given, each with a fixed mtime, owner root
// (uid/gid 0, no names) and an explicit mode, and a gzip header without a file name or time and
// with the OS byte pinned, so the same files give the same sha256 on any build machine.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface ArchiveEntry {
  /** Path inside the archive (krew's `files[].from` refers to it). */
  name: string;
  /** File whose bytes go in. */
  source: string;
  mode: number;
}

/** gzip's OS field: 3 = Unix. zlib writes its build platform's code there (10 on Windows). */
const GZIP_OS_UNIX = 3;

/** The uncompressed tar of ENTRIES with every entry's mtime set to MTIME (seconds since the epoch). */
export async function tarOf(entries: readonly ArchiveEntry[], mtime: number): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const data = readFileSync(e.source);
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name: e.name,
          size: data.length,
          mode: e.mode,
          mtime: new Date(mtime * 1000),
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
          type: 'file',
        },
        data,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Writes ENTRIES as a deterministic .tar.gz to OUT. */
export async function writeArchive(out: string, entries: readonly ArchiveEntry[], mtime: number): Promise<void> {
  // Level 6 (zlib's default): level 9 takes three times as long here for 0.5% less.
  const gz = gzipSync(await tarOf(entries, mtime), { level: 6 });
  gz[9] = GZIP_OS_UNIX;
  writeFileSync(out, gz);
}
