// `capture --uid UID --wait S`: capture a pod from its birth. A real sandbox process appears in a
// real kubepods cgroup while the agent waits, an "init container" in its namespace pings at once,
// and the pcap (checked with tshark) must hold its first second of traffic.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ARMED_UID, armedAimLine, captureArgv, parseAgentError, stopArgv } from '../../src/node/agent.ts';
import {
  cleanupAll,
  containerId,
  createNetns,
  moveToCgroup,
  netnsInodeOf,
  onCleanup,
  podUid,
  prerequisiteSkip,
  rand,
  runAgent,
  shells,
  spawnInNetns,
  startAgent,
  tempFile,
  tool,
  track,
  type AgentResult,
  type RunningAgent,
  type Shell,
  type TestNetns,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'tcpdump', 'tshark', 'busybox', 'dash']);

// A capture id whose /tmp pid/stop files go away with the test.
function captureId(): string {
  const id = rand(4);
  for (const ext of ['pid', 'stop'])
    onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.${ext}`, { force: true }));
  return id;
}

/**
 * The pod's sandbox is born: a process in a new namespace joins the pod's cgroup and pings 10
 * times; then the capture is stopped. Checks that it ended cleanly and took that process.
 */
async function sandboxPings(
  shell: Shell,
  agent: RunningAgent,
  uid: string,
  id: string,
): Promise<{ ns: TestNetns; r: AgentResult }> {
  const ns = await createNetns();
  moveToCgroup(ns.pid, 'pids', `kubepods/besteffort/pod${uid}/${containerId()}`);
  const pinger = spawnInNetns(ns.name, ['busybox', 'ping', '-c', '10', '-i', '0.1', ns.hostAddr]);
  await agent.waitForStderr(/^tcpdump: listening on /);
  await new Promise((resolve) => pinger.once('exit', resolve));
  assert.equal((await runAgent(shell, stopArgv(id))).code, 0);
  const r = await agent.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`pod ${uid} appeared: pid ${ns.pid}`));
  return { ns, r };
}

describe('agent capture from a pod’s birth', { skip, concurrency: false }, () => {
  after(cleanupAll);

  for (const shell of shells()) {
    describe(shell.name, () => {
      test('waits for the pod, then captures its first second of traffic', async (t) => {
        const uid = podUid();
        const id = captureId();
        const agent = startAgent(shell, captureArgv({ waitForPod: { uid, seconds: 20 }, id, filter: ['icmp'] }), {
          timeoutMs: 30_000,
        });
        // The pod does not exist yet: the agent polls, and has not started tcpdump.
        await delay(500);
        assert.doesNotMatch(agent.stderr(), /listening on|appeared/);

        // Birth: the sandbox's process joins the pod's cgroup; its first container pings at once,
        // every 100 ms (ICMP sequence numbers count from 0).
        const ns = await createNetns();
        moveToCgroup(ns.pid, 'pids', `kubepods/besteffort/pod${uid}/${containerId()}`);
        const born = Date.now();
        const pinger = spawnInNetns(ns.name, ['busybox', 'ping', '-c', '30', '-i', '0.1', ns.hostAddr]);
        await agent.waitForStderr(/^tcpdump: listening on /);
        const listeningAfterMs = Date.now() - born;
        await new Promise((resolve) => pinger.once('exit', resolve));

        assert.equal((await runAgent(shell, stopArgv(id))).code, 0);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`pod ${uid} appeared: pid ${ns.pid}`));

        const file = tempFile('birth.pcap');
        writeFileSync(file, r.stdout);
        const seqs = tool('tshark', ['-r', file, '-Y', 'icmp.type == 8', '-T', 'fields', '-e', 'icmp.seq'])
          .trim()
          .split('\n')
          .map(Number);
        // Every request from the first one captured to the last; the first within a second of birth.
        const first = seqs[0]!;
        assert.deepEqual(
          seqs,
          Array.from({ length: 30 - first }, (_, i) => first + i),
        );
        t.diagnostic(`first request captured: #${first}; tcpdump listening ${listeningAfterMs} ms after birth`);
        assert.ok(
          first <= 10,
          `first request captured was #${first} (tcpdump listening ${listeningAfterMs} ms after birth)`,
        );
      });

      test('armed (--uid -): checks first, then the pod UID arrives on stdin and the capture starts at its birth', async () => {
        const id = captureId();
        const agent = startAgent(
          shell,
          captureArgv({ waitForPod: { uid: ARMED_UID, seconds: 20 }, id, filter: ['icmp'] }),
          {
            timeoutMs: 30_000,
            stdin: 'pipe',
          },
        );
        await agent.waitForStderr(/armed: waiting for a pod UID on stdin/);
        const uid = podUid();
        agent.child.stdin!.end(`${uid}\n`);
        await delay(200);
        const { r } = await sandboxPings(shell, agent, uid, id);
        const file = tempFile('armed.pcap');
        writeFileSync(file, r.stdout);
        const seqs = tool('tshark', ['-r', file, '-Y', 'icmp.type == 8', '-T', 'fields', '-e', 'icmp.seq']).trim();
        assert.ok(seqs.split('\n').length >= 5, seqs);
      });

      test('a process of the pod still in its parent’s namespace (the runtime’s own, before it enters the pod’s) is passed over', async () => {
        const uid = podUid();
        const id = captureId();
        const agent = startAgent(shell, captureArgv({ waitForPod: { uid, seconds: 20 }, id, filter: ['icmp'] }), {
          timeoutMs: 30_000,
        });
        // A runtime puts its process into the pod's cgroup before that process enters the pod's
        // namespace: a process in the pod's cgroup, in the namespace of its parent (this test).
        const runtime = track(spawn('sleep', ['600'], { stdio: 'ignore' }));
        moveToCgroup(runtime.pid!, 'pids', `kubepods/besteffort/pod${uid}/${containerId()}`);
        await delay(400);
        assert.doesNotMatch(agent.stderr(), /appeared|listening on/);
        // Then the sandbox, in the pod's own namespace, with the pod's first packets.
        const { ns, r } = await sandboxPings(shell, agent, uid, id);
        assert.match(r.stderr, new RegExp(`capturing on any in netns ${ns.inode} `));
        const file = tempFile('runtime-first.pcap');
        writeFileSync(file, r.stdout);
        const requests = tool('tshark', [
          '-r',
          file,
          '-Y',
          `icmp.type == 8 && ip.src == ${ns.nsAddr}`,
          '-T',
          'fields',
          '-e',
          'icmp.seq',
        ]);
        assert.ok(requests.trim().split('\n').length >= 5, requests);
      });

      test('a pod that shares the node’s network (hostNetwork) is taken at its first process, armed or not', async () => {
        for (const armed of [false, true]) {
          const uid = podUid();
          const id = captureId();
          const agent = startAgent(
            shell,
            captureArgv({
              waitForPod: { uid: armed ? ARMED_UID : uid, seconds: 20, hostNetwork: true },
              id,
              filter: ['icmp', 'and', 'host', '10.231.255.255'],
            }),
            { timeoutMs: 30_000, stdin: armed ? 'pipe' : undefined },
          );
          if (armed) {
            await agent.waitForStderr(/armed: waiting for a pod UID on stdin/);
            agent.child.stdin!.end(armedAimLine(uid, true));
          }
          const proc = track(spawn('sleep', ['600'], { stdio: 'ignore' }));
          moveToCgroup(proc.pid!, 'pids', `kubepods/besteffort/pod${uid}/${containerId()}`);
          await agent.waitForStderr(/^tcpdump: listening on /);
          assert.equal((await runAgent(shell, stopArgv(id))).code, 0);
          const r = await agent.done;
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, new RegExp(`pod ${uid} appeared: pid ${proc.pid}`), `armed: ${armed}`);
          assert.match(r.stderr, new RegExp(`in netns ${netnsInodeOf(process.pid)} `), `armed: ${armed}`);
        }
      });

      test('armed, released unused (end of input): a clean end with nothing captured', async () => {
        const agent = startAgent(shell, captureArgv({ waitForPod: { uid: ARMED_UID, seconds: 20 }, filter: [] }), {
          stdin: 'pipe',
        });
        await agent.waitForStderr(/armed: waiting for a pod UID on stdin/);
        agent.child.stdin!.end();
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /released before any pod/);
        assert.equal(r.stdout.length, 0);
      });

      test('armed with a filter tcpdump rejects: BAD_FILTER before any pod is named', async () => {
        const agent = startAgent(
          shell,
          captureArgv({ waitForPod: { uid: ARMED_UID, seconds: 20 }, filter: ['nonsense', '(('] }),
          {
            stdin: 'pipe',
          },
        );
        const r = await agent.done;
        assert.equal(parseAgentError(r.stderr)?.code, 'BAD_FILTER', r.stderr);
      });

      test('a stop while it waits ends the capture cleanly, with no packets', async () => {
        const id = captureId();
        const agent = startAgent(shell, captureArgv({ waitForPod: { uid: podUid(), seconds: 20 }, id, filter: [] }));
        await delay(300);
        assert.equal((await runAgent(shell, stopArgv(id))).code, 0);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /was stopped while waiting for pod/);
        assert.equal(r.stdout.length, 0);
      });

      test('NO_CONTAINER when the pod never appears within --wait', async () => {
        const uid = podUid();
        const started = Date.now();
        const r = await runAgent(shell, captureArgv({ waitForPod: { uid, seconds: 1 }, filter: [] }));
        assert.equal(parseAgentError(r.stderr)?.code, 'NO_CONTAINER', r.stderr);
        assert.match(r.stderr, new RegExp(`no process of pod ${uid} appeared on this node within 1s`));
        assert.ok(Date.now() - started < 5000);
        assert.equal(r.stdout.length, 0);
      });
    });
  }
});
