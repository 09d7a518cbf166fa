// The layers read one way (docs/development.md, the architecture note): the command line (src/cli)
// and the commands (src/commands) use the layers below them, never the other way round. A layer
// that imports the command line closes a loop (cli → commands → extcap → cli) in which a module can
// be half-loaded when it is used. Static and dynamic imports both count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/plugin.ts';

/** Every .ts file under DIR. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The src/ folders (or top-level files) FILE imports, static or dynamic. */
function importedLayers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => relative(join(ROOT, 'src'), join(file, '..', s)).split('/')[0]!);
}

const BELOW_THE_COMMANDS = ['extcap', 'kube', 'node', 'output', 'pcap'];

test('no layer below the commands imports src/cli or src/commands', () => {
  const wrong: string[] = [];
  for (const layer of BELOW_THE_COMMANDS) {
    for (const file of sources(join(ROOT, 'src', layer))) {
      for (const to of importedLayers(file)) {
        if (to === 'cli' || to === 'commands') wrong.push(`${relative(ROOT, file)} imports src/${to}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('src/pcap is pure: it imports only itself', () => {
  const wrong = sources(join(ROOT, 'src', 'pcap')).flatMap((file) =>
    importedLayers(file)
      .filter((to) => to !== 'pcap')
      .map((to) => `${relative(ROOT, file)} imports src/${to}`),
  );
  assert.deepEqual(wrong, []);
});
