// Ad-hoc code signatures for the darwin executables. postject drops the signature Node's macOS
// binaries come with, and Apple-silicon Macs refuse to run an unsigned arm64 binary ("Killed: 9").
// An ad-hoc signature (no identity, no hardened runtime) is enough for a binary that krew or
// curl downloads. On Linux, rcodesign (apple-codesign, built with cargo) makes one; on a Mac,
// Apple's own codesign does.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from '../cluster/paths.ts';
import { quietly } from './quietly.ts';

/** The apple-codesign release docs/release.md tells how to build (cargo install --root) into the tools cache. */
export const RCODESIGN_VERSION = '0.29.0';

export interface Signer {
  /** What made the signature, for the release log. */
  name: string;
  sign(file: string): void;
}

function onPath(cmd: string): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${cmd}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** rcodesign from $RCODESIGN, the tools cache or PATH; else codesign on macOS; else undefined. */
export function findSigner(env: NodeJS.ProcessEnv = process.env): Signer | undefined {
  const cached = join(CACHE_DIR, 'tools', `rcodesign-${RCODESIGN_VERSION}`, 'bin', 'rcodesign');
  const rcodesign = env.RCODESIGN ?? (existsSync(cached) ? cached : onPath('rcodesign'));
  if (rcodesign) {
    return {
      name: rcodesign,
      sign: (file) => quietly(rcodesign, ['sign', file]),
    };
  }
  const codesign = process.platform === 'darwin' ? onPath('codesign') : undefined;
  if (codesign) {
    return {
      name: codesign,
      sign: (file) => quietly(codesign, ['--sign', '-', '--force', file]),
    };
  }
  return undefined;
}
