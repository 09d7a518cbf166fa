// Compiles src/ to dist/ with tsc and copies the on-node agent script next to the JS that reads it.
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], {
  stdio: 'inherit',
});
mkdirSync(`${root}/dist/node`, { recursive: true });
copyFileSync(`${root}/src/node/agent.sh`, `${root}/dist/node/agent.sh`);
for (const bin of ['main.js', 'complete.js']) chmodSync(`${root}/dist/${bin}`, 0o755);
process.stderr.write('built dist/\n');
