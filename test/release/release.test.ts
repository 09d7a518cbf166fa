// `npm run release` end to end, as a release manager runs it: twice from one commit (the archives
// must be byte-identical), then what is inside, and the release check with the real krew and the
// local cluster (scripts/release/verify-krew.sh). Takes a few minutes: the release builds six
// ~125 MB executables each time.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { ROOT, sourceInfo } from '../../scripts/release/build-info.ts';
import { findSigner } from '../../scripts/release/sign.ts';
import { exeName, helperName, TARGETS, targetId } from '../../scripts/release/targets.ts';
import { KUBECTL } from '../helpers/cluster.ts';

const info = sourceInfo();
const work = mkdtempSync(join(tmpdir(), 'knetns-release-'));
const [first, second] = [join(work, 'a'), join(work, 'b')];
const signed = findSigner() !== undefined;

function release(out: string): void {
  // Without a signer (none built on this machine yet) the darwin executables stay unsigned; the
  // release itself refuses that unless told, see docs/release.md.
  const args = ['scripts/release/main.ts', '--out', out, ...(signed ? [] : ['--unsigned-darwin'])];
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

const archives = TARGETS.map((t) => ({ target: t, name: `kubectl-netns_${info.version}_${targetId(t)}.tar.gz` }));

describe('npm run release', { timeout: 30 * 60_000 }, () => {
  before(() => {
    release(first);
    release(second);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('twice from one commit: byte-identical archives and manifest', () => {
    const sums = readFileSync(join(first, 'SHA256SUMS'), 'utf8');
    assert.equal(readFileSync(join(second, 'SHA256SUMS'), 'utf8'), sums);
    assert.equal(sums.trim().split('\n').length, 7);
    for (const name of [...archives.map((a) => a.name), 'netns.yaml'])
      assert.ok(readFileSync(join(first, name)).equals(readFileSync(join(second, name))), `${name} differs`);
  });

  test('each archive holds the executable, the completion helper, LICENSE and the notices, root-owned at the commit time', () => {
    const when = new Date(info.sourceDateEpoch * 1000).toISOString().replace('T', ' ').slice(0, 19);
    for (const { target, name } of archives) {
      const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tzvf', join(first, name)], {
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
      });
      const rows = listing
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/));
      assert.deepEqual(
        rows.map((r) => [r[0], r[1], `${r[3]} ${r[4]}`, r[5]]),
        [
          ['-rwxr-xr-x', '0/0', when, exeName(target)],
          ['-rwxr-xr-x', '0/0', when, helperName(target)],
          ['-rw-r--r--', '0/0', when, 'LICENSE'],
          ['-rw-r--r--', '0/0', when, 'THIRD-PARTY-NOTICES'],
        ],
        name,
      );
    }
  });

  test('netns.yaml: the version, and per platform the archive URL and its sha256', () => {
    const manifest = load(readFileSync(join(first, 'netns.yaml'), 'utf8')) as any;
    assert.equal(manifest.spec.version, `v${info.version}`);
    const sums = new Map(
      readFileSync(join(first, 'SHA256SUMS'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).reverse() as [string, string]),
    );
    for (const p of manifest.spec.platforms) {
      const name = `kubectl-netns_${info.version}_${p.selector.matchLabels.os}_${p.selector.matchLabels.arch}.tar.gz`;
      assert.equal(p.uri, `${manifest.spec.homepage}/releases/download/v${info.version}/${name}`);
      assert.equal(p.sha256, sums.get(name));
    }
  });

  test("this machine's executable runs with no Node anywhere: version and commit, completion by name", (t) => {
    const host = TARGETS.find((x) => x.platform === process.platform && x.nodeArch === process.arch);
    if (!host || host.os === 'windows') return t.skip(`no executable to run on ${process.platform}/${process.arch}`);
    const exe = join(first, 'bin', targetId(host), exeName(host));
    const bare = { env: { PATH: '/nonexistent' }, encoding: 'utf8' as const };
    assert.equal(execFileSync(exe, ['--version'], bare), `kubectl-netns v${info.version} (commit ${info.commit})\n`);
    const link = join(work, 'kubectl_complete-netns');
    symlinkSync(exe, link);
    assert.equal(execFileSync(link, ['ex'], bare), 'exec\n:4\n');
  });

  test('the executable keeps V8 code cache in the user cache directory: written by the first run, taken by the next', (t) => {
    const host = TARGETS.find((x) => x.platform === process.platform && x.nodeArch === process.arch);
    if (!host || host.os === 'windows') return t.skip(`no executable to run on ${process.platform}/${process.arch}`);
    const exe = join(first, 'bin', targetId(host), exeName(host));
    const cache = mkdtempSync(join(work, 'cache-'));
    const run = () =>
      execFileSync(exe, ['--version'], { env: { PATH: '/nonexistent', XDG_CACHE_HOME: cache }, encoding: 'utf8' });
    const dir = join(cache, 'kubectl-netns', 'sea-code-cache');
    assert.equal(existsSync(dir), false);
    const out = run();
    const files = readdirSync(dir);
    assert.equal(files.length, 1, files.join(', '));
    assert.match(files[0]!, /^[0-9a-f]{16}-[a-z0-9]+\.bin$/);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const made = statSync(join(dir, files[0]!));
    assert.ok(made.size > 100_000, `${made.size} bytes of code cache`);
    // V8 accepts it: the second run answers the same and does not write it again.
    assert.equal(run(), out);
    assert.equal(statSync(join(dir, files[0]!)).mtimeMs, made.mtimeMs);
  });

  test('krew: validator, install from the archive, no-Node run and `exec` on the local cluster', (t) => {
    if (!existsSync(KUBECTL)) {
      if (process.env.CI === 'true') assert.fail(`no kubectl at ${KUBECTL}`);
      return t.skip(`no kubectl at ${KUBECTL} (npm run cluster:up builds it)`);
    }
    const r = spawnSync('bash', [join(ROOT, 'scripts/release/verify-krew.sh'), first], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    process.stderr.write(r.stderr);
    if (r.status === 3 && process.env.CI !== 'true') return t.skip('the local cluster is not running');
    assert.equal(r.status, 0, r.stderr.split('\n').slice(-5).join('\n'));
    assert.match(r.stderr, /all 6 spec\.platforms installed fine/);
    assert.match(r.stderr, /kubectl netns exec .* the pod's eth0 is there/);
  });
});
