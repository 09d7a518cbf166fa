// Fetches the Node.js binaries the single executables are built on, through the npm registry only
// (`npm pack`, which runs no install scripts and checks the registry's sha512), into a cache
// outside the repo, and checks each tarball against the integrity pinned in targets.ts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { CACHE_DIR } from '../cluster/paths.ts';
import { NODE_VERSION, type Target } from './targets.ts';

/** Where the npm tarballs of the Node binaries are kept between releases. */
export const NODE_BINARIES_DIR = join(CACHE_DIR, 'node-binaries');

function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** The cached npm tarball of TARGET's Node binary, fetched with `npm pack` when missing or wrong. */
export function nodeTarball(target: Target, log: (line: string) => void): string {
  const file = join(NODE_BINARIES_DIR, `${target.nodePackage}-${NODE_VERSION}.tgz`);
  if (existsSync(file) && integrityOf(file) === target.integrity) return file;
  mkdirSync(NODE_BINARIES_DIR, { recursive: true });
  rmSync(file, { force: true });
  log(`fetching ${target.nodePackage}@${NODE_VERSION} from the npm registry`);
  execFileSync(
    'npm',
    ['pack', '--loglevel=warn', `${target.nodePackage}@${NODE_VERSION}`, '--pack-destination', NODE_BINARIES_DIR],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const got = integrityOf(file);
  if (got !== target.integrity) {
    rmSync(file, { force: true });
    throw new Error(`${target.nodePackage}@${NODE_VERSION}: integrity ${got}, pinned ${target.integrity}`);
  }
  return file;
}

/**
 * Writes the members of TARBALL named in WANTED (paths inside the package, e.g. bin/node) to the
 * files they map to; returns the members that were found (the Windows packages have no LICENSE).
 */
export async function extractMembers(tarball: string, wanted: ReadonlyMap<string, string>): Promise<Set<string>> {
  const found = new Set<string>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const member = header.name.replace(/^package\//, '');
    const dest = wanted.get(member);
    if (!dest || header.type !== 'file') {
      stream.on('end', next);
      stream.resume();
      return;
    }
    found.add(member);
    pipeline(stream, createWriteStream(dest, { mode: 0o755 })).then(() => next(), next);
  });
  await pipeline(createReadStream(tarball), createGunzip(), extract);
  return found;
}

/** TARGET's node binary (and, when the package has one, Node's LICENSE) copied into DIR. */
export async function nodeBinary(
  target: Target,
  dir: string,
  log: (line: string) => void,
): Promise<{ binary: string; license: string | undefined }> {
  const tarball = nodeTarball(target, log);
  const binaryName = target.os === 'windows' ? 'node.exe' : 'node';
  const binary = join(dir, binaryName);
  const license = join(dir, 'NODE-LICENSE');
  const found = await extractMembers(
    tarball,
    new Map([
      [`bin/${binaryName}`, binary],
      ['LICENSE', license],
    ]),
  );
  if (!found.has(`bin/${binaryName}`)) throw new Error(`${tarball} has no bin/${binaryName}`);
  return { binary, license: found.has('LICENSE') ? license : undefined };
}
