// `npm run bench`: every benchmark, one after another; each prints its own figures. The exec
// stream benchmark needs the local cluster (npm run cluster:up) and says so when it is down.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KUBECONFIG } from '../cluster/paths.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const run = (file: string, args: string[] = []) => execFileSync(process.execPath, [`${dir}/${file}`, ...args], { stdio: 'inherit' });

run('pcap-parse.ts');
run('pcapng-merge.ts');
if (existsSync(KUBECONFIG)) run('exec-stream.ts');
else process.stdout.write('exec-stream: skipped, the local cluster is not up (npm run cluster:up)\n');
run('wireshark-extcap.ts');
