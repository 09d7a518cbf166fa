// THIRD-PARTY-NOTICES for the single executable: it carries the Node.js runtime and every npm
// package the bundle took code from, and their licences (MIT, ISC, BSD, Apache-2.0) ask that their
// notices travel with binary copies. Built from the bundle's own input list, so it cannot miss one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  /** The package's licence file text, if it ships one. */
  text: string | undefined;
}

/** The package directories (relative to ROOT) that INPUTS (bundle input paths) come from, sorted. */
export function packageDirs(inputs: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]!);
  }
  return [...dirs].sort();
}

/** Name, version, licence and licence text of the package in DIR. */
export function readPackage(dir: string): BundledPackage {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    license?: string;
  };
  const file = readdirSync(dir)
    .sort()
    .find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  return {
    name: pkg.name,
    version: pkg.version,
    license: pkg.license ?? 'see package',
    text: file ? readFileSync(join(dir, file), 'utf8').trim() : undefined,
  };
}

/** The notices file: Node's licence first, then each bundled package (name order). */
export function noticesText(nodeVersion: string, nodeLicense: string, packages: readonly BundledPackage[]): string {
  const rule = '-'.repeat(78);
  const parts = [
    'kubectl-netns single executables contain the Node.js runtime and code from the npm packages',
    'listed below. Their licences and notices follow.',
    '',
    rule,
    `Node.js v${nodeVersion}`,
    rule,
    nodeLicense.trim(),
  ];
  const sorted = [...packages].sort(
    (a, b) => a.name.localeCompare(b.name, 'en') || a.version.localeCompare(b.version, 'en'),
  );
  for (const p of sorted) {
    parts.push(
      '',
      rule,
      `${p.name}@${p.version} (${p.license})`,
      rule,
      p.text ?? `No licence file in the package; its package.json says: ${p.license}.`,
    );
  }
  return `${parts.join('\n')}\n`;
}
