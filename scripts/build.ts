// Builds dist/ for the npm package: src/main.ts (kubectl-netns) and the completion helper
// (kubectl_complete-netns) bundled by esbuild into ES modules, each lazily imported part (the
// Kubernetes client, yargs, the commands' work) its own chunk in dist/chunks, loaded when used.
// Why a bundle: a run of the per-file build loaded ~1,000 module files (870 of them
// @kubernetes/client-node's), and resolving, reading and linking them was half of the start-up;
// the bundle also leaves out the parts of client-node we never use. The version, the commit and
// agent.sh are embedded as literals, as in the single executable (scripts/release/bundle.ts).
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { embeddedModules, embedPlugin } from './release/bundle.ts';
import { ROOT as root, sourceInfo } from './release/build-info.ts';

// The completion helper's entry: enable the compile cache, then answer (src/complete.ts runs
// itself only when it is the program, which in a bundle it never is: import.meta.main is false).
const COMPLETE_ENTRY = `#!/usr/bin/env node
import { useCompileCache } from './src/cli/compile-cache.ts';
useCompileCache();
const { completions } = await import('./src/complete.ts');
process.stdout.write(await completions(process.argv.slice(2)));
process.exit(0);
`;

// CommonJS packages inside an ES module bundle still call require() and read __dirname and
// __filename (the latter two through define: some ES modules declare their own).
const BANNER = [
  "import { createRequire as __knetnsRequire } from 'node:module';",
  "import { fileURLToPath as __knetnsPath } from 'node:url';",
  'const require = __knetnsRequire(import.meta.url);',
  'const __knetnsFilename = __knetnsPath(import.meta.url);',
  "const __knetnsDirname = __knetnsPath(new URL('.', import.meta.url));",
].join('\n');

rmSync(join(root, 'dist'), { recursive: true, force: true });
const info = sourceInfo();
const result = await build({
  absWorkingDir: root,
  entryPoints: [
    { in: 'src/main.ts', out: 'main' },
    { in: 'kubectl-netns-complete-entry', out: 'complete' },
  ],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  chunkNames: 'chunks/[name]-[hash]',
  define: { 'import.meta.main': 'false', __dirname: '__knetnsDirname', __filename: '__knetnsFilename' },
  banner: { js: BANNER },
  // Licence comments of bundled packages are collected at the end of each file.
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
  plugins: [
    embedPlugin(embeddedModules(info)),
    {
      name: 'kubectl-netns-complete-entry',
      setup(b) {
        b.onResolve({ filter: /^kubectl-netns-complete-entry$/ }, () => ({
          path: 'complete-entry',
          namespace: 'knetns',
        }));
        b.onLoad({ filter: /.*/, namespace: 'knetns' }, () => ({
          contents: COMPLETE_ENTRY,
          loader: 'ts',
          resolveDir: root,
        }));
      },
    },
  ],
});
// Nothing in the bundle may read files beside it any more (the embedded modules did).
for (const out of Object.keys(result.metafile.outputs)) {
  if (!out.endsWith('.js')) continue;
  const code = readFileSync(join(root, out), 'utf8');
  if (/readFileSync\(new URL\("\.\/(agent\.sh|build-info\.json)"/.test(code))
    throw new Error(`${out} still reads a file beside it`);
}
for (const bin of ['main.js', 'complete.js']) chmodSync(join(root, 'dist', bin), 0o755);
process.stderr.write(`built dist/ (${Object.keys(result.metafile.outputs).length} files)\n`);
