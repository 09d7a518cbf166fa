#!/usr/bin/env node
// kubectl-netns executable. kubectl finds it on PATH as `kubectl-netns` and passes the remaining
// arguments unchanged. It is also the single executable's entry (scripts/release/bundle.ts), which
// serves kubectl_complete-netns too: see entry.ts for how it tells which it is.
//
// The Node.js check comes before anything else is loaded: the Kubernetes client crashes at import
// on Node < 22.19 with a stack trace that says nothing about the version. No top-level await: the
// release bundle is CommonJS.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `error: kubectl-netns needs Node.js 22.19 or newer; this is ${process.version} (${process.execPath})\n` +
      'hint: install a current Node.js LTS, or put a newer node first on PATH\n',
  );
  process.exit(1);
}

void import('./cli/compile-cache.ts')
  .then(({ useCompileCache }) => useCompileCache())
  .then(() => import('./entry.ts'))
  .then(({ runEntry }) => runEntry(process.argv));
