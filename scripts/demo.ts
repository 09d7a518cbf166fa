// The README's first command (`npm run demo`): on the project's own local cluster, start a small
// web pod, capture its traffic with `kubectl netns capture` while sending it a few HTTP requests,
// write demo.pcap, summarise what was captured, and show `kubectl netns exec POD -- ip a`.
// The requests go only to the pod's IP on the cluster's own bridge on this machine.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../test/helpers/pcap/reader.ts';
import { summarize } from '../test/helpers/pcap/packets.ts';
import { KUBECONFIG, KUBECTL } from './cluster/paths.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const kubeconfig = KUBECONFIG;
const kubectlBin = KUBECTL;
const image = 'kubectl-netns.local/debug:dev';
const ns = 'demo';
const env = { ...process.env, KUBECONFIG: kubeconfig };
const say = (s: string) => process.stderr.write(`\x1b[1m==> ${s}\x1b[0m\n`);

function kubectl(args: string[], input?: string): string {
  return execFileSync(kubectlBin, args, { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'inherit'] });
}

function plugin(args: string[], stdio: 'inherit' | 'pipe' = 'inherit') {
  return spawn(process.execPath, [`${root}/dist/main.js`, '-n', ns, '--image', image, ...args], {
    env,
    stdio: ['ignore', stdio, 'pipe'],
  });
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

say(`namespace ${ns} and a web pod (busybox httpd) on the local cluster`);
kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`);
kubectl(
  ['apply', '-n', ns, '-f', '-'],
  `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  automountServiceAccountToken: false
  containers:
  - name: web
    image: kubectl-netns.local/web:dev
    imagePullPolicy: Never
    ports: [{containerPort: 8080}]
`,
);
kubectl(['wait', '-n', ns, '--for=condition=Ready', 'pod/web', '--timeout=120s']);
const podIP = kubectl(['get', 'pod', '-n', ns, 'web', '-o', 'jsonpath={.status.podIP}']).trim();
say(`kubectl netns capture web -o demo.pcap --duration 8s   (pod IP ${podIP})`);

const capture = plugin(['capture', 'web', '-o', join(root, 'demo.pcap'), '--duration', '8s']);
let sent = false;
capture.stderr!.on('data', (chunk: Buffer) => {
  process.stderr.write(chunk);
  // Send traffic once tcpdump is listening, so the SYNs and GETs are in the file.
  if (!sent && /capturing on /.test(chunk.toString())) {
    sent = true;
    void (async () => {
      for (let i = 0; i < 5; i++) {
        const status = await get(`http://${podIP}:8080/index.html?request=${i + 1}`).catch((e: Error) => e.message);
        process.stderr.write(`    GET http://${podIP}:8080/index.html?request=${i + 1} -> ${status}\n`);
      }
    })();
  }
});
const code = await new Promise<number>((resolve) => capture.on('exit', (c) => resolve(c ?? 1)));
if (code !== 0) {
  say(`capture failed with exit code ${code}`);
  process.exit(code);
}

const cap = readCapture(readFileSync(join(root, 'demo.pcap')));
const s = summarize(
  cap.packets,
  cap.interfaces.map((i) => i.linkType),
);
say(`demo.pcap: ${s.packets} packets, ${s.bytes} bytes on the wire, ${s.tcpSyns} TCP SYNs`);
for (const c of s.conversations.slice(0, 5)) {
  process.stderr.write(
    `    ${c.protocol} ${c.src}:${c.srcPort ?? ''} -> ${c.dst}:${c.dstPort ?? ''}  ${c.packets} packets, ${c.bytes} bytes\n`,
  );
}
for (const r of s.httpRequests)
  process.stderr.write(`    HTTP ${r.src}:${r.srcPort} -> ${r.dst}:${r.dstPort}  ${r.line}\n`);
process.stderr.write('    open it with: wireshark demo.pcap   or: tcpdump -nn -r demo.pcap\n');

say('kubectl netns exec web -- ip a');
const exec = plugin(['exec', 'web', '--', 'ip', 'a']);
exec.stderr!.pipe(process.stderr);
const execCode = await new Promise<number>((resolve) => exec.on('exit', (c) => resolve(c ?? 1)));
process.exit(execCode);
