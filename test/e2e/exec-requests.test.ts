// What one capture asks of the API server, as the API server's own audit log records it (the local
// cluster logs every exec request at metadata level, URI included): a 5-pod capture with stderr on
// a terminal, whose live status shows kernel drops. The agent reaches each debug pod once; later
// execs are short; the counters ride each capture's own stream, so the number of execs does not
// grow with the capture's length.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_LOG } from '../../scripts/cluster/paths.ts';
import { execRequests } from '../../scripts/bench/lib/audit.ts';
import { createNamespace, deleteNamespace, ensureCluster, KUBECONFIG, readyNodes, runPod } from '../helpers/cluster.ts';
import { DEBUG_IMAGE, PLUGIN, WEB_IMAGE } from '../helpers/plugin.ts';
import { tempDir } from '../helpers/temp.ts';

const skip =
  ensureCluster() ?? (existsSync(AUDIT_LOG) ? false : `no audit log at ${AUDIT_LOG} (scripts/cluster/up.sh)`);
const ns = `e2e-execreq-${process.pid}`;
const dir = tempDir('knetns-execreq-');
const PODS = 5;
const SECONDS = 16;

describe('exec requests of a capture', { skip, timeout: 300_000 }, () => {
  let nodes: string[] = [];

  before(async () => {
    nodes = readyNodes();
    await createNamespace(ns);
    for (let i = 0; i < PODS; i++)
      await runPod(ns, `web-${i}`, WEB_IMAGE, { labels: { app: 'web' }, nodeName: nodes[i % nodes.length] });
  });

  after(async () => {
    await deleteNamespace(ns);
  });

  test(`a ${PODS}-pod capture on a terminal: short URIs, and a number of execs that does not grow with time`, async () => {
    const argv = [
      process.execPath,
      PLUGIN,
      '-v',
      '-n',
      ns,
      '--image',
      DEBUG_IMAGE,
      'capture',
      '-l',
      'app=web',
      '-o',
      join(dir, 'all.pcapng'),
      '--duration',
      `${SECONDS}s`,
    ];
    const since = Date.now() - 1000;
    // script(1) gives the plugin a pty for stderr, as an interactive user has: the live status runs.
    const child = spawn('script', ['-qfec', argv.map((w) => `'${w}'`).join(' '), '/dev/null'], {
      env: { ...process.env, KUBECONFIG },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (c: Buffer) => (screen += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, screen.slice(-2000));
    // The API server writes an event when a request completes.
    await new Promise((r) => setTimeout(r, 2000));
    const reqs = execRequests(ns, since);
    const debugPods = new Set(reqs.map((r) => r.pod)).size;
    assert.equal(debugPods, Math.min(PODS, nodes.length), 'one debug pod per node');
    const largest = Math.max(...reqs.map((r) => Buffer.byteLength(r.uri)));
    assert.ok(largest < 4096, `the largest exec request URI is ${largest} bytes`);
    const ops = reqs.map((r) => (r.command[1] === '-c' ? 'install' : r.command[2]));
    // The install is tried from the moment a debug pod exists until its container takes it
    // (every 100 ms for 3 s, then every second): at least one per pod, and bounded.
    const installs = ops.filter((o) => o === 'install').length;
    assert.ok(installs >= debugPods && installs <= 40 * debugPods, `${installs} installs`);
    // Then per debug pod the hold, per target capture and ack, and a stop when the capture had
    // not ended by itself (--duration) before the client's own timer: whatever the capture's
    // length, and no other op (the counters for the status come on each capture's own stream).
    const count = (op: string) => ops.filter((o) => o === op).length;
    const shown = JSON.stringify(ops);
    assert.equal(count('hold'), debugPods, shown);
    assert.equal(count('capture'), PODS, shown);
    assert.equal(count('ack'), PODS, shown);
    assert.ok(count('stop') <= PODS, shown);
    assert.equal(reqs.length, installs + count('hold') + count('capture') + count('ack') + count('stop'), shown);
    // The live counters did arrive: tcpdump's one-line SIGUSR1 report, more than once per capture.
    const reports = screen.match(/node: tcpdump: \d+ packets captured, \d+ packets received by filter/g) ?? [];
    assert.ok(reports.length >= 2 * PODS, `${reports.length} counter reports:\n${screen.slice(-2000)}`);
  });
});
