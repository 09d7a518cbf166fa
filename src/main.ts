#!/usr/bin/env node
// kubectl-netns executable. kubectl finds it on PATH as `kubectl-netns` and passes the remaining
// arguments unchanged.
//
// The Node.js check comes before anything else is loaded: the Kubernetes client crashes at import
// on Node < 22.19 with a stack trace that says nothing about the version.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `error: kubectl-netns needs Node.js 22.19 or newer; this is ${process.version} (${process.execPath})\n` +
      'hint: install a current Node.js LTS, or put a newer node first on PATH\n',
  );
  process.exit(1);
}

const { hideBin } = await import('yargs/helpers');
const { main } = await import('./cli/app.ts');
const code = await main(hideBin(process.argv));
// Exit explicitly once stdout has drained: idle keep-alive sockets to the API server must not
// hold the terminal for seconds after the work is done.
if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => process.exit(code));
else process.exit(code);
