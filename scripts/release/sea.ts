// Node single-executable applications: one preparation blob made from the bundle, injected into a
// copy of each target's node binary with postject. Node 22 has no --build-sea, so the blob comes
// from `node --experimental-sea-config`, run by a node of exactly the targets' version. No V8
// snapshot or code cache: those are specific to the platform that made them, and the blob must
// work on all six.
import { copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { quietly } from './quietly.ts';
import type { Target } from './targets.ts';

/** The fuse Node looks for to know it carries a blob (the same in every Node release). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const POSTJECT_CLI = createRequire(import.meta.url).resolve('postject/dist/cli.js');

/**
 * Writes the preparation blob for the script MAIN (a file name in DIR) into DIR using NODE (the
 * targets' version). Paths are relative to DIR: the blob records the script's path, and an
 * absolute one would make the output depend on where the release was built.
 */
export function makeBlob(node: string, main: string, dir: string): string {
  writeFileSync(
    join(dir, 'sea-config.json'),
    JSON.stringify({
      main,
      output: 'sea-prep.blob',
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  quietly(node, ['--experimental-sea-config', 'sea-config.json'], dir);
  return join(dir, 'sea-prep.blob');
}

/** Copies TARGET's NODE binary to OUT and injects BLOB into it. Mach-O and PE signatures are dropped. */
export function injectBlob(target: Target, node: string, blob: string, out: string): void {
  copyFileSync(node, out);
  const macho = target.os === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [];
  quietly(process.execPath, [POSTJECT_CLI, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE, ...macho]);
}
