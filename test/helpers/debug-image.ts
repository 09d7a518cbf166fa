// kubectl-netns's own debug image (scripts/debug-image/build.ts), unpacked, and a Shell that runs
// the agent inside it the way a debug pod does: the image's /bin/sh and tools, the node's /proc
// (hostPID), /sys, /dev, /run and /tmp, in a private mount namespace (nothing leaks to the host).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR } from '../../scripts/cluster/paths.ts';
import type { Shell } from './netns.ts';
import { ROOT } from './plugin.ts';

const SCRIPT = join(ROOT, 'scripts/debug-image/build.ts');
const LOCK = join(ROOT, 'scripts/debug-image/packages.lock');
export const IMAGE_ARCH = arch() === 'arm64' ? 'arm64' : 'amd64';

/**
 * Builds both architectures' images (and runs every tool of each: --check) once per lock and
 * script version, and returns where this machine's is unpacked, or why it could not be built.
 */
export function debugImageRootfs(): { root?: string; why?: string } {
  const key = createHash('sha256').update(readFileSync(LOCK)).update(readFileSync(SCRIPT)).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, 'debug-image', `rootfs-${key}`);
  const root = join(dir, IMAGE_ARCH);
  if (existsSync(join(root, 'bin/sh'))) return { root };
  const r = spawnSync(process.execPath, [SCRIPT, '--check', '--rootfs', dir, '--out', join(dir, 'out')], {
    encoding: 'utf8',
    timeout: 900_000,
  });
  if (r.status === 0 && existsSync(join(root, 'bin/sh'))) return { root };
  return {
    why: `node scripts/debug-image/build.ts failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`,
  };
}

// Mount what a debug pod sees of the node into the image, then run its /bin/sh with the agent's words.
const ENTER = `r=$1; shift
for d in proc sys dev run tmp; do mount --rbind "/$d" "$r/$d" || exit 125; done
exec chroot "$r" /bin/sh "$@"`;

/** The agent's shell inside the image at ROOT. */
export function imageShell(root: string): Shell {
  return {
    name: 'debug image',
    argv: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', ENTER, 'knt-image', root],
    env: { ...process.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
  };
}
