// Bundles the CLI (src/main.ts, which also serves completion) into ONE CommonJS file for a Node
// single executable: a SEA runs one script and can require only node's builtins, and has no files
// beside it, so the version, the commit and agent.sh are embedded here as literals (by replacing
// the two modules that read them at run time). import.meta is empty in CommonJS: yargs' ESM build
// derives paths from import.meta.url (for locale files it then does not find, and falls back to
// English), so import.meta.url becomes the executable's own file URL; our code must not use it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { ROOT, type SourceInfo } from './build-info.ts';

export interface Bundle {
  /** The bundle's JavaScript. */
  code: string;
  /** Files the bundle was built from, relative to ROOT (from esbuild's metafile). */
  inputs: string[];
}

/** Module path (relative to ROOT) → the source that replaces it in the bundle. */
export function embeddedModules(info: Pick<SourceInfo, 'version' | 'commit'>): Map<string, string> {
  const agent = readFileSync(join(ROOT, 'src/node/agent.sh'), 'utf8');
  const buildInfo = { version: info.version, commit: info.commit };
  return new Map([
    ['src/build-info.ts', `export const BUILD_INFO = ${JSON.stringify(buildInfo)};\n`],
    ['src/node/agent-source.ts', `export function readAgentSource() {\n  return ${JSON.stringify(agent)};\n}\n`],
  ]);
}

/** Replaces the modules that read files at run time with the literal contents (embeddedModules). */
export function embedPlugin(modules: Map<string, string>): Plugin {
  const byPath = new Map([...modules].map(([rel, code]) => [join(ROOT, rel), code]));
  return {
    name: 'kubectl-netns-embed',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
        const contents = byPath.get(args.path);
        return contents === undefined ? undefined : { contents, loader: 'ts' };
      });
    },
  };
}

/** Bundles src/main.ts with INFO embedded; throws if anything would still read through import.meta. */
export async function bundle(info: Pick<SourceInfo, 'version' | 'commit'>): Promise<Bundle> {
  const modules = embeddedModules(info);
  const result = await build({
    entryPoints: [join(ROOT, 'src/main.ts')],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    write: false,
    metafile: true,
    outfile: 'kubectl-netns.cjs',
    // complete.ts runs itself only as the npm bin; in the bundle entry.ts calls it.
    define: { 'import.meta.main': 'false', 'import.meta.url': '__knetns_import_meta_url' },
    banner: { js: 'var __knetns_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    // Licence comments of bundled packages are collected at the end of the file.
    legalComments: 'eof',
    // Without indentation and comments the 9.4 MB bundle is 4.8 MB: the executable holds it as a
    // string and V8 compiles it at every start (with sea.ts's one-byte asset: 111 -> 68 MB at start).
    minifyWhitespace: true,
    logLevel: 'silent',
    plugins: [embedPlugin(modules)],
  });
  for (const w of result.warnings) process.stderr.write(`bundle: warning: ${w.text}\n`);
  const code = result.outputFiles[0]?.text ?? '';
  const inputs = Object.keys(result.metafile.inputs).sort();
  for (const rel of modules.keys()) {
    if (!inputs.includes(rel))
      throw new Error(`bundle: ${rel} is no longer part of the bundle; update embeddedModules()`);
  }
  for (const rel of inputs.filter((i) => i.startsWith('src/') && !modules.has(i))) {
    if (/import\.meta\.(?!main\b)/.test(readFileSync(join(ROOT, rel), 'utf8')))
      throw new Error(`bundle: ${rel} reads through import.meta, which a single executable does not have`);
  }
  return { code, inputs };
}
