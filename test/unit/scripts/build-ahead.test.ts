// scripts/cluster/build-ahead.sh: the oldest release builds in the background only when it is not
// cached, at the lowest priority, in its own process group that --stop ends whole; a second build
// of the same release waits for it instead of racing it. Real go, a scratch cache directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../../..');
const SCRIPT = join(ROOT, 'scripts/cluster/build-ahead.sh');
const oldest = /K8S_OLDEST=(\S+)/.exec(readFileSync(join(ROOT, 'scripts/cluster/versions.sh'), 'utf8'))![1]!;

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'knetns-build-ahead-'));
  const env = {
    ...process.env,
    KNETNS_CACHE_DIR: join(dir, 'cache'),
    GOMODCACHE: join(dir, 'mod'),
    GOCACHE: join(dir, 'go'),
    TMPDIR: join(dir, 'tmp'),
  };
  mkdirSync(env.TMPDIR, { recursive: true });
  return { dir, env };
}

/** A process id that names no running process. */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) if (!existsSync(`/proc/${pid}`)) return pid;
}

/** The processes of group PGID, as "nice command" lines (none once it is gone). */
function group(pgid: number): string[] {
  const r = spawnSync('ps', ['-o', 'ni=,args=', '-g', String(pgid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

test('a cached oldest release starts nothing and says nothing', () => {
  const { dir, env } = scratch();
  try {
    mkdirSync(join(env.KNETNS_CACHE_DIR, `k8s-${oldest}`), { recursive: true });
    writeFileSync(join(env.KNETNS_CACHE_DIR, `k8s-${oldest}`, '.complete'), 'built\n');
    const r = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(!existsSync(join(env.KNETNS_CACHE_DIR, 'build-ahead.pid')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an uncached one builds at nice 19 in its own group; a second build waits; --stop ends the group and leaves no work files', () => {
  const { dir, env } = scratch();
  try {
    // go's work directory of an earlier build that was killed: the next build removes it.
    const stale = join(env.KNETNS_CACHE_DIR, 'gotmp', String(deadPid()));
    mkdirSync(join(stale, 'go-build123'), { recursive: true });
    const r = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`kubernetes ${oldest.replace(/\./g, '\\.')}: building in the background`));
    const pgid = Number(readFileSync(join(env.KNETNS_CACHE_DIR, 'build-ahead.pid'), 'utf8'));
    let procs = group(pgid);
    for (let i = 0; i < 50 && !procs.some((p) => /build\.sh k8s/.test(p)); i++) {
      execFileSync('sleep', ['0.1']);
      procs = group(pgid);
    }
    assert.ok(
      procs.some((p) => /build\.sh k8s/.test(p)),
      procs.join('\n'),
    );
    for (const p of procs) assert.match(p, /^\s*19 /, `not at the lowest priority: ${p}`);
    // The same release asked for again (test-oldest's up.sh) waits on the lock, never builds beside it.
    const second = spawnSync('timeout', ['3', 'bash', join(ROOT, 'scripts/cluster/build.sh'), 'k8s'], {
      env: { ...env, KNETNS_K8S_VERSION: oldest },
      encoding: 'utf8',
    });
    assert.equal(second.status, 124, second.stderr);
    assert.match(second.stderr, /waiting for the build already under way/);
    execFileSync('bash', [SCRIPT, '--stop'], { env });
    for (let i = 0; i < 50 && group(pgid).length > 0; i++) execFileSync('sleep', ['0.1']);
    assert.deepEqual(group(pgid), []);
    assert.ok(!existsSync(join(env.KNETNS_CACHE_DIR, 'build-ahead.pid')));
    assert.deepEqual(readdirSync(join(env.KNETNS_CACHE_DIR, 'gotmp')), [], 'go work files left in the cache');
    assert.deepEqual(readdirSync(env.TMPDIR), [], 'go work files left in TMPDIR');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
