// The README is the front page and docs/ holds one page per topic: every relative link and image in
// them resolves to a file of the repository (and a #fragment to a heading of that page, as GitHub
// makes anchors), and every docs page is one link away from the README.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = join(ROOT, 'docs');
const PAGES = [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(DOCS, f)),
];

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens; repeats get -1, -2… */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every [text](target) and ![alt](target) outside code blocks and code spans. */
function links(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push(m[1]!);
  }
  return out;
}

test('every relative link and image in the README and docs/ resolves, fragments included', () => {
  const broken: string[] = [];
  for (const page of PAGES) {
    const text = readFileSync(page, 'utf8');
    for (const target of links(text)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [path, fragment] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
      const where = `${relative(ROOT, page)}: ${target}`;
      if (!file.startsWith(ROOT) || !existsSync(file)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (fragment !== undefined && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(fragment))
        broken.push(`${where} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});

test('every docs page is one link away from the README, which stays a front page', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const linked = new Set(links(readme).map((t) => t.split('#')[0]));
  const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md'));
  assert.deepEqual(
    pages.filter((f) => !linked.has(`docs/${f}`)),
    [],
    'docs pages the README does not link to',
  );
  assert.ok(readme.split('\n').length <= 250, `README.md has ${readme.split('\n').length} lines; move detail to docs/`);
});

test('anchors are made the way GitHub makes them', () => {
  assert.deepEqual(
    [...anchors('# A b\n## `kubectl netns capture TARGET --host-side`\n```\n# not a heading\n```\n## A b\n')],
    ['a-b', 'kubectl-netns-capture-target---host-side', 'a-b-1'],
  );
});
