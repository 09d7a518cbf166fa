// Builds dist/ for the npm package: src/main.ts (kubectl-netns) and the completion helper
// (kubectl_complete-netns) bundled by esbuild into ES modules, each lazily imported part (the
// Kubernetes client, yargs, the commands' work) its own chunk in dist/chunks, loaded when used.
// Why a bundle: a run of the per-file build loaded ~1,000 module files (870 of them
// @kubernetes/client-node's), and resolving, reading and linking them was half of the start-up;
// the bundle also leaves out the parts of client-node we never use. The version, the commit and
// agent.sh are embedded as literals, as in the single executable (scripts/release/bundle.ts).
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
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

// Completion's KubeConfig (src/kube/kubeconfig-lite.ts) is bundled on its own, beside the chunks:
// in the shared bundle it would sit in one chunk with every API model (esbuild assigns whole files
// to chunks, and KubeConfig's module imports the generated index), which a Tab would then load.
const LITE = 'kubeconfig-lite.js';
const liteExternal: Plugin = {
  name: 'kubeconfig-lite-external',
  setup(b) {
    b.onResolve({ filter: /kubeconfig-lite\.ts$/ }, () => ({ path: `./${LITE}`, external: true }));
  },
};
// client-node's package.json does not say its modules are free of side effects, so a bundler
// keeps every module its index re-exports: KubeConfig alone would drag in every API model (2.8 MB
// instead of 1.8 MB). They are free of them: classes and constants, and a polyfill of
// globalThis.File that matters only before Node 20.
const clientNodePure: Plugin = {
  name: 'client-node-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (a) => {
      if ((a.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
      const r = await b.resolve(a.path, {
        kind: a.kind,
        importer: a.importer,
        resolveDir: a.resolveDir,
        pluginData: { inner: true },
      });
      if (r.errors.length > 0) return undefined;
      const pure = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/.test(r.path);
      return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: pure ? false : r.sideEffects };
    });
  },
};

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
    liteExternal,
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
await build({
  absWorkingDir: root,
  entryPoints: ['src/kube/kubeconfig-lite.ts'],
  outfile: join('dist/chunks', LITE),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  define: { __dirname: '__knetnsDirname', __filename: '__knetnsFilename' },
  banner: { js: BANNER },
  legalComments: 'eof',
  logLevel: 'warning',
  plugins: [clientNodePure],
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
