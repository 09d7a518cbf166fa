// Publishing the debug image, as someone hosting it for an air-gapped cluster would: one command
// builds both architectures (byte-identical when run twice) and pushes them, as one multi-arch
// image, to a registry: here Debian's docker-registry (the CNCF distribution) on loopback. What the
// registry then serves is read back with skopeo: the same index, both platforms, every blob.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CACHE_DIR } from '../../scripts/cluster/paths.ts';
import { ROOT } from '../helpers/plugin.ts';

const SCRIPT = join(ROOT, 'scripts/debug-image/build.ts');
const missing = ['docker-registry', 'skopeo', 'readelf', 'dpkg-deb'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
);
if (missing.length && process.env.CI === 'true') throw new Error(`missing ${missing.join(', ')}: scripts/install-deps.sh`);
const skip = missing.length ? `missing ${missing.join(', ')} (bash scripts/install-deps.sh)` : false;

const work = mkdtempSync(join(tmpdir(), 'knetns-image-push-'));
let registry: ChildProcess | undefined;
let addr = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Runs the build script; returns its stdout lines ("ARCH DIGEST", "index DIGEST"). */
function build(out: string, extra: string[] = []): Record<string, string> {
  const stdout = execFileSync(process.execPath, [SCRIPT, '--out', out, ...extra], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
    env: { ...process.env, KNETNS_CACHE_DIR: CACHE_DIR },
  });
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

describe('debug image: build twice, push to a registry', { skip, timeout: 900_000 }, () => {
  before(async () => {
    const port = await freePort();
    addr = `127.0.0.1:${port}`;
    const config = join(work, 'registry.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'storage')}\nhttp:\n  addr: ${addr}\n`,
    );
    registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (spawnSync('curl', ['-fs', `http://${addr}/v2/`]).status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('docker-registry did not answer');
  });
  after(() => {
    registry?.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  test('the same digests from two builds; the pushed image is that index, for amd64 and arm64', () => {
    const first = build(join(work, 'a'));
    const ref = `${addr}/kubectl-netns/debug:test`;
    const second = build(join(work, 'b'), ['--push', ref, '--skopeo-arg=--dest-tls-verify=false']);
    assert.deepEqual(second, first, 'a rebuild gives the same bytes');
    assert.match(first.index ?? '', /^sha256:[0-9a-f]{64}$/);

    const skopeo = (...args: string[]) =>
      execFileSync('skopeo', [...args, '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
    const raw = skopeo('inspect', '--raw');
    assert.equal(`sha256:${execFileSync('sha256sum', { input: raw, encoding: 'utf8' }).split(' ')[0]}`, first.index);
    const index = JSON.parse(raw) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
    assert.deepEqual(
      index.manifests.map((m) => [m.platform.architecture, m.digest]),
      [
        ['amd64', first.amd64],
        ['arm64', first.arm64],
      ],
    );
    // Every layer and config of both is there to pull.
    for (const arch of ['amd64', 'arm64']) {
      const inspected = JSON.parse(
        execFileSync('skopeo', ['inspect', '--override-arch', arch, '--tls-verify=false', `docker://${ref}`], {
          encoding: 'utf8',
        }),
      ) as { Architecture: string; Layers: string[] };
      assert.equal(inspected.Architecture, arch);
      assert.equal(inspected.Layers.length, 1);
    }
  });
});
