// `kubectl netns exec` against the real local cluster, once through kubectl's own plugin discovery.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join, dirname } from 'node:path';
import {
  clusterNodes,
  kubectl,
  kubectlJson,
  waitFor,
  ensureCluster,
  createNamespace,
  runPod,
  deleteNamespace,
  debugPods,
  KUBECONFIG,
  KUBECTL,
} from '../helpers/cluster.ts';
import { DEBUG_IMAGE, PLUGIN, ROOT, runPlugin, WEB_IMAGE } from '../helpers/plugin.ts';
import { tempDir } from '../helpers/temp.ts';

const skip = ensureCluster();
const env = { KUBECONFIG };

// The same exec tests on EVERY node flavour; terminals and kubectl's plugin discovery on node 1.
for (const node of skip ? [undefined] : clusterNodes()) {
  const ns = `e2e-exec-${node?.number ?? 0}-${process.pid}`;
  const base = ['-n', ns, '--image', DEBUG_IMAGE];
  let podIP = '';

  describe(`exec on ${node ? `${node.name} (${node.flavour})` : 'no cluster'}`, { skip, timeout: 600_000 }, () => {
    before(async () => {
      await createNamespace(ns);
      podIP = (await runPod(ns, 'web', WEB_IMAGE, { nodeName: node!.name })).status?.podIP ?? '';
    });
    after(async () => {
      await deleteNamespace(ns);
    });

    test("ip -j addr shows the pod's own IP (the web image has no ip tool: it comes from the debug image)", async () => {
      const r = await runPlugin(['exec', 'web', ...base, '--', 'ip', '-j', 'addr'], { env });
      assert.equal(r.code, 0, r.stderr);
      const links = JSON.parse(r.stdout.toString()) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
      const eth0 = links.find((l) => l.ifname === 'eth0');
      assert.ok(eth0, r.stdout.toString());
      assert.ok(
        eth0.addr_info.some((a) => a.local === podIP),
        `${podIP} not in ${JSON.stringify(eth0.addr_info)}`,
      );
      assert.deepEqual(debugPods(ns), []);
    });

    test("the command's exit code is propagated", async () => {
      const r = await runPlugin(['exec', 'web', ...base, '--', 'sh', '-c', 'echo to-stderr >&2; exit 7'], { env });
      assert.equal(r.code, 7);
      assert.match(r.stderr, /to-stderr/);
      const missing = await runPlugin(['exec', 'web', ...base, '--', 'no-such-tool'], { env });
      assert.equal(missing.code, 127, missing.stderr);
    });

    if (node?.number === 1) {
      test('-c names a native sidecar (an init container with restartPolicy Always): exec runs in its pod', async () => {
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'sidecar-pod', namespace: ns },
          spec: {
            nodeName: node.name,
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 0,
            automountServiceAccountToken: false,
            initContainers: [
              { name: 'proxy', image: WEB_IMAGE, imagePullPolicy: 'IfNotPresent', restartPolicy: 'Always' },
            ],
            containers: [
              { name: 'main', image: WEB_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] },
            ],
          },
        };
        kubectl(['create', '-f', '-'], JSON.stringify(pod));
        const ip = await waitFor('the pod with a sidecar running', async () => {
          const p = kubectlJson(['get', 'pod', 'sidecar-pod', '-n', ns]);
          return p.status?.phase === 'Running' && p.status.podIP ? (p.status.podIP as string) : undefined;
        });
        const r = await runPlugin(['exec', 'sidecar-pod', '-c', 'proxy', ...base, '--', 'ip', '-o', '-4', 'addr'], {
          env,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.toString().includes(`inet ${ip}/`), r.stdout.toString());
        assert.deepEqual(debugPods(ns), []);
      });

      test('-i forwards stdin (binary-safe) to the command', async () => {
        const input = Buffer.alloc(256 * 1024);
        for (let i = 0; i < input.length; i++) input[i] = (i * 7 + 3) & 0xff;
        const r = await runPlugin(['exec', 'web', ...base, '-i', '--', 'wc', '-c'], { env, input });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString().trim(), String(input.length));
      });

      test('-it gives an interactive shell a real terminal (driven through script(1), which owns a pty)', async () => {
        const cmd = [process.execPath, PLUGIN, 'exec', '-it', 'web', ...base, '--', 'sh']
          .map((w) => `'${w}'`)
          .join(' ');
        const out = spawnSync('script', ['-qec', cmd, '/dev/null'], {
          input: 'tty; echo "cols=$(stty size)"; exit 3\n',
          env: { ...process.env, KUBECONFIG },
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.equal(out.status, 3, out.stdout + out.stderr);
        assert.match(out.stdout, /\/dev\/pts\/\d+/);
        assert.deepEqual(debugPods(ns), []);
      });

      test('kubectl finds the plugin on PATH: `kubectl netns exec` works through plugin discovery', async () => {
        const bin = tempDir('knetns-path-');
        symlinkSync(PLUGIN, join(bin, 'kubectl-netns'));
        const PATH = [bin, dirname(process.execPath), process.env.PATH].join(':');
        const list = execFileSync(KUBECTL, ['plugin', 'list'], {
          env: { ...process.env, PATH },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        assert.match(list, /kubectl-netns/);
        const out = execFileSync(KUBECTL, ['netns', 'exec', 'web', ...base, '--', 'cat', '/proc/net/dev'], {
          env: { ...process.env, PATH, KUBECONFIG },
          encoding: 'utf8',
        });
        assert.match(out, /eth0:/);
        // Shell completion: kubectl asks kubectl_complete-netns (also on PATH) for candidates.
        symlinkSync(join(ROOT, 'dist', 'complete.js'), join(bin, 'kubectl_complete-netns'));
        const complete = (...words: string[]) =>
          execFileSync(KUBECTL, ['__complete', 'netns', ...words], {
            env: { ...process.env, PATH, KUBECONFIG },
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          });
        assert.match(complete('cap'), /^capture\ncaptures\n:4\n$/);
        assert.match(complete('exec', '-n', ns, 'w'), /^web\n:4\n/);
        // Nodes, namespaces and a pod's containers come from the cluster too.
        assert.match(complete('ls', ''), new RegExp(`^${node.name}$`, 'm'));
        assert.match(complete('-n', ns.slice(0, 8)), new RegExp(`^${ns}$`, 'm'));
        const container = execFileSync(
          KUBECTL,
          ['get', 'pod', 'web', '-n', ns, '-o', 'jsonpath={.spec.containers[0].name}'],
          {
            env: { ...process.env, KUBECONFIG },
            encoding: 'utf8',
          },
        );
        assert.match(complete('exec', '-n', ns, 'web', '-c', ''), new RegExp(`^${container}\n:4\n`));
      });
    }
  });
}
