// netns.yaml is plugin.yaml (the template in the repo) with the version and one platforms entry
// per archive. krew's own validator checks the generated file in test/release; this checks what
// the generator decides: names, URLs, checksums, the Windows .exe, the files krew copies.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { load } from 'js-yaml';
import { renderManifest } from '../../../scripts/release/manifest.ts';
import { TARGETS, targetId } from '../../../scripts/release/targets.ts';

const template = readFileSync(new URL('../../../plugin.yaml', import.meta.url), 'utf8');
const archives = TARGETS.map((t, i) => ({
  target: t,
  uri: `https://example.test/v0.1.0/kubectl-netns_0.1.0_${targetId(t)}.tar.gz`,
  sha256: String(i).repeat(64),
}));
const manifest = load(renderManifest(template, 'v0.1.0', archives)) as any;

test('the version is filled in everywhere the template says {{version}}', () => {
  assert.equal(manifest.spec.version, 'v0.1.0');
  assert.match(manifest.spec.caveats, /tree\/v0\.1\.0\/deploy/);
  assert.match(manifest.spec.caveats, /store\/netns\/v0\.1\.0\/kubectl_complete-netns/);
  assert.doesNotMatch(JSON.stringify(manifest), /\{\{/);
});

test('identity and the caveats a cluster admin must read', () => {
  assert.equal(manifest.metadata.name, 'netns');
  assert.match(manifest.spec.homepage, /^https:\/\//);
  assert.ok(manifest.spec.shortDescription.length <= 50, 'krew-index asks for a short one-liner');
  assert.match(manifest.spec.caveats, /root on the target's node/);
  assert.match(manifest.spec.caveats, /privileged/);
  assert.match(manifest.spec.caveats, /RBAC/);
});

test('one platform per archive, with its uri, sha256, files and bin', () => {
  assert.equal(manifest.spec.platforms.length, 6);
  const linux = manifest.spec.platforms[0];
  assert.deepEqual(linux, {
    selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
    uri: 'https://example.test/v0.1.0/kubectl-netns_0.1.0_linux_amd64.tar.gz',
    sha256: '0'.repeat(64),
    files: [
      { from: 'kubectl-netns', to: '.' },
      { from: 'kubectl_complete-netns', to: '.' },
      { from: 'LICENSE', to: '.' },
      { from: 'THIRD-PARTY-NOTICES', to: '.' },
    ],
    bin: 'kubectl-netns',
  });
  const windows = manifest.spec.platforms.filter((p: any) => p.selector.matchLabels.os === 'windows');
  assert.equal(windows.length, 2);
  for (const w of windows) {
    assert.equal(w.bin, 'kubectl-netns.exe', 'krew links bin as kubectl-netns.exe on Windows');
    assert.deepEqual(
      w.files.map((f: any) => f.from),
      ['kubectl-netns.exe', 'kubectl_complete-netns.cmd', 'LICENSE', 'THIRD-PARTY-NOTICES'],
    );
  }
  const pairs = manifest.spec.platforms.map((p: any) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`);
  assert.equal(new Set(pairs).size, 6, 'no two platforms share a selector');
});

test('a template that is not the netns plugin is refused', () => {
  assert.throws(() => renderManifest(template.replace('name: netns', 'name: other'), 'v0.1.0', archives), /netns/);
});
