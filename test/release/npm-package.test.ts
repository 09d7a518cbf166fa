// The npm route, as a user takes it: the packed tarball holds the built CLI and nothing else, and
// `npm install -g` of it puts kubectl-netns and kubectl_complete-netns on PATH, where kubectl's
// plugin discovery and completion find them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, sourceInfo } from '../../scripts/release/build-info.ts';
import { KUBECTL } from '../helpers/cluster.ts';

interface PackedFile {
  path: string;
  mode: number;
}

const work = mkdtempSync(join(tmpdir(), 'knetns-npm-'));
let files: PackedFile[] = [];
let tarball = '';

describe('npm package', { timeout: 10 * 60_000 }, () => {
  before(() => {
    // prepack builds dist/ (and records the commit) first, as `npm publish` would.
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [packed] = JSON.parse(out.slice(out.indexOf('['))) as [{ filename: string; files: PackedFile[] }];
    files = packed.files;
    tarball = join(work, packed.filename);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('the tarball: the bundle in dist/ plus README.md, LICENSE and package.json; no sources, tests or scripts', () => {
    const outside = files.map((f) => f.path).filter((p) => !p.startsWith('dist/'));
    assert.deepEqual(outside.sort(), ['LICENSE', 'README.md', 'package.json']);
    const paths = new Set(files.map((f) => f.path));
    for (const p of ['dist/main.js', 'dist/complete.js']) assert.ok(paths.has(p), `${p} is packed`);
    // The bundle (scripts/build.ts): the two bins and their lazily loaded chunks, agent.sh and the
    // commit inside; no file is read beside them.
    assert.ok(files.some((f) => /^dist\/chunks\/[^/]+\.js$/.test(f.path)), 'chunks are packed');
    assert.deepEqual(
      files.filter((f) => f.path.startsWith('dist/') && !/^dist\/(main|complete|chunks\/[^/]+)\.js$/.test(f.path)),
      [],
      'only the bundle',
    );
    assert.ok(!files.some((f) => f.path.includes('.tar.gz') || f.path.endsWith('netns.yaml')), 'no release artifacts');
  });

  test('both bins are executable in the tarball', () => {
    for (const bin of ['dist/main.js', 'dist/complete.js']) {
      const mode = files.find((f) => f.path === bin)?.mode ?? 0;
      assert.equal(mode & 0o111, 0o111, `${bin} mode ${mode.toString(8)}`);
    }
  });

  test('npm install -g of the tarball: kubectl plugin list finds it, it knows its commit, it completes', (t) => {
    if (!existsSync(KUBECTL)) {
      if (process.env.CI === 'true') assert.fail(`no kubectl at ${KUBECTL}`);
      return t.skip(`no kubectl at ${KUBECTL} (npm run cluster:up builds it)`);
    }
    const prefix = join(work, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Node 22 from this run first: the machine's own node may be older than the package allows.
    const env = { HOME: work, PATH: [join(prefix, 'bin'), dirname(process.execPath), dirname(KUBECTL)].join(':') };
    const run = (...args: string[]) =>
      execFileSync(KUBECTL, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(run('plugin', 'list'), new RegExp(`^${join(prefix, 'bin', 'kubectl-netns')}$`, 'm'));
    assert.equal(run('netns', 'version'), `kubectl-netns v${sourceInfo().version} (commit ${sourceInfo().commit})\n`);
    assert.equal(run('__complete', 'netns', 'ex'), 'exec\n:4\n');
  });
});
