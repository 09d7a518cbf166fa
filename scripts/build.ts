// Compiles src/ to dist/ with tsc, copies the on-node agent script next to the JS that reads it,
// and records the git commit in dist/build-info.json (read by src/build-info.ts for --version).
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { ROOT as root, sourceInfo } from './release/build-info.ts';

rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], {
  stdio: 'inherit',
});
mkdirSync(`${root}/dist/node`, { recursive: true });
copyFileSync(`${root}/src/node/agent.sh`, `${root}/dist/node/agent.sh`);
writeFileSync(`${root}/dist/build-info.json`, `${JSON.stringify({ commit: sourceInfo().commit })}\n`);
for (const bin of ['main.js', 'complete.js']) chmodSync(`${root}/dist/${bin}`, 0o755);
process.stderr.write('built dist/\n');
