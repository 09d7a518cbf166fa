// The agent reaches a debug pod once (the install), and every exec after it is short: no request
// URI carries the script, whose 51 KB API server audit logs would otherwise record per exec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execPath } from '../../../src/kube/exec-stream.ts';
import {
  ackArgv,
  AGENT_EXIT,
  captureArgv,
  execArgv,
  holdArgv,
  netinfoArgv,
  pidArgv,
  scanArgv,
  statsArgv,
  stopArgv,
} from '../../../src/node/agent.ts';
import { AGENT_DIR, agentPath, INSTALL_SCRIPT, installArgv } from '../../../src/node/agent-install.ts';

const script = readFileSync(new URL('../../../src/node/agent.sh', import.meta.url));
const digest = createHash('sha256').update(script).digest('hex');
const uri = (command: string[]) => execPath({ namespace: 'dbg', pod: 'netns-web-abc123', container: 'netns', command });

test('the agent lives at a path named by its digest, and the install names its size and full digest', () => {
  assert.equal(agentPath(), `${AGENT_DIR}/agent-${digest.slice(0, 16)}.sh`);
  const argv = installArgv();
  assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(argv.slice(3), [
    'kubectl-netns-install',
    AGENT_DIR,
    `agent-${digest.slice(0, 16)}.sh`,
    String(script.length),
    digest,
  ]);
  assert.match(INSTALL_SCRIPT, new RegExp(`exit ${AGENT_EXIT.INSTALL_FAILED.code};`));
});

test('no exec URI carries the agent: the install stays under 4 KiB, every op under 2 KiB', () => {
  const uid = '0f1e2d3c-aaaa-bbbb-cccc-001122334455';
  const cid = `containerd://${'a'.repeat(64)}`;
  const all = {
    install: installArgv(),
    hold: holdArgv(),
    pid: pidArgv({ podUid: uid, containerIds: [cid, cid] }),
    capture: captureArgv({
      find: { podUid: uid, containerIds: [cid] },
      iface: 'eth0',
      snaplen: 262144,
      durationSeconds: 3600,
      bufferKiB: 32768,
      id: 'ab12cd34',
      awaitAck: true,
      compress: 'auto',
      statsEverySeconds: 2,
      filter: ['tcp', 'port', '80', 'and', 'host', '10.0.0.1'],
    }),
    stop: stopArgv('ab12cd34'),
    stats: statsArgv('ab12cd34'),
    ack: ackArgv('ab12cd34'),
    exec: execArgv({ pid: 4242, command: ['ip', '-j', 'addr'] }),
    scan: scanArgv(),
    netinfo: netinfoArgv({ pid: 4242, sockets: true }),
  };
  for (const [op, argv] of Object.entries(all)) {
    const bytes = Buffer.byteLength(uri(argv));
    assert.ok(bytes < (op === 'install' ? 4096 : 2048), `${op}: ${bytes} bytes`);
    assert.ok(!argv.some((w) => w.includes('op_capture()')), `${op} carries the script`);
  }
  assert.deepEqual(all.capture.slice(0, 3), ['sh', agentPath(), 'capture']);
  assert.deepEqual(all.capture.slice(all.capture.indexOf('--stats-every'), all.capture.indexOf('--stats-every') + 2), [
    '--stats-every',
    '2',
  ]);
});
