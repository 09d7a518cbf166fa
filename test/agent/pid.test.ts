// `pid`: real processes in a real network namespace, placed in real cgroup v1 and v2 directories
// named the way kubelet + containerd / CRI-O / docker name them (under a private knt-* top). The
// kubelet-with-docker layouts stay made up: cri-dockerd cannot be had here (docs/local-cluster.md);
// docker's own naming (/docker/<id>) and CLI are tested on a real engine in docker.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAgentError, parseAgentInfo, parsePidOutput, pidArgv } from '../../src/node/agent.ts';
import { agentPath } from '../../src/node/agent-install.ts';
import {
  cleanupAll,
  containerId,
  createNetns,
  moveToCgroup,
  netnsInodeOf,
  podUid,
  prerequisiteSkip,
  runAgent,
  shells,
  spawnInNetns,
  tempFile,
  track,
  waitInNetns,
  type Hierarchy,
  type TestNetns,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'busybox', 'dash']);
const under = (uid: string) => uid.replaceAll('-', '_');

interface Layout {
  name: string;
  hierarchy: Hierarchy;
  path: (uid: string, id: string) => string;
}

const LAYOUTS: Layout[] = [
  {
    name: 'containerd, cgroupfs driver, cgroup v1',
    hierarchy: 'pids',
    path: (u, id) => `kubepods/besteffort/pod${u}/${id}`,
  },
  {
    name: 'containerd, systemd driver, cgroup v2',
    hierarchy: 'unified',
    path: (u, id) =>
      `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${under(u)}.slice/cri-containerd-${id}.scope`,
  },
  {
    name: 'CRI-O, systemd driver, cgroup v1',
    hierarchy: 'systemd',
    path: (u, id) =>
      `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${under(u)}.slice/crio-${id}.scope`,
  },
  {
    name: 'CRI-O, cgroupfs driver, cgroup v1',
    hierarchy: 'pids',
    path: (u, id) => `kubepods/burstable/pod${u}/crio-${id}`,
  },
  {
    name: 'docker, systemd driver, cgroup v1 (guaranteed QoS)',
    hierarchy: 'systemd',
    path: (u, id) => `kubepods.slice/kubepods-pod${under(u)}.slice/docker-${id}.scope`,
  },
  { name: 'docker, cgroupfs driver, cgroup v2', hierarchy: 'unified', path: (u, id) => `kubepods/pod${u}/${id}` },
];

describe('agent pid', { skip, concurrency: false }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  // A new "container process" in the test namespace.
  async function containerProcess(): Promise<number> {
    const child = spawnInNetns(ns.name, ['sleep', '600']);
    await waitInNetns(child, ns.name);
    return child.pid!;
  }

  for (const shell of shells()) {
    describe(shell.name, () => {
      for (const layout of LAYOUTS) {
        test(`finds the container's process: ${layout.name}`, async () => {
          const uid = podUid();
          const id = containerId();
          const pid = await containerProcess();
          moveToCgroup(pid, layout.hierarchy, layout.path(uid, id));
          const r = await runAgent(shell, pidArgv({ podUid: uid, containerIds: [`containerd://${id}`] }));
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(parsePidOutput(r.stdout.toString()), { pid, netnsInode: netnsInodeOf(pid) });
          assert.equal(netnsInodeOf(pid), ns.inode);
          assert.equal(r.stdout.toString(), `${pid} ${ns.inode}\n`);
          assert.equal(parseAgentInfo(r.stderr.trim()), `pid ${pid} is in container ${id}`);
        });
      }

      test("picks the lowest PID of the container, never CRI-O's conmon (node netns)", async () => {
        const uid = podUid();
        const id = containerId();
        const slice = `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${under(uid)}.slice`;
        const conmon = track(spawn('sleep', ['600'], { stdio: 'ignore' })).pid!; // started first: lowest PID
        moveToCgroup(conmon, 'systemd', `${slice}/crio-conmon-${id}.scope`);
        const a = await containerProcess();
        const b = await containerProcess();
        moveToCgroup(b, 'systemd', `${slice}/crio-${id}.scope`);
        moveToCgroup(a, 'systemd', `${slice}/crio-${id}.scope`);
        const r = await runAgent(shell, pidArgv({ podUid: uid, containerIds: [id] }));
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(parsePidOutput(r.stdout.toString()), { pid: Math.min(a, b), netnsInode: ns.inode });
      });

      test('falls back to any process of the pod when no container id matches (restarting)', async () => {
        const uid = podUid();
        const sandbox = containerId();
        const slice = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${under(uid)}.slice`;
        const conmon = track(spawn('sleep', ['600'], { stdio: 'ignore' })).pid!;
        moveToCgroup(conmon, 'systemd', `${slice}/crio-conmon-${sandbox}.scope`);
        const pause = await containerProcess();
        moveToCgroup(pause, 'systemd', `${slice}/crio-${sandbox}.scope`);
        const r = await runAgent(shell, pidArgv({ podUid: uid, containerIds: [containerId()] }));
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(parsePidOutput(r.stdout.toString()), { pid: pause, netnsInode: ns.inode });
        assert.match(parseAgentInfo(r.stderr.trim()) ?? '', new RegExp(`^pid ${pause} is in pod ${uid} `));
      });

      test('cgroupfs pod fallback: pod<uid> path component', async () => {
        const uid = podUid();
        const pause = await containerProcess();
        moveToCgroup(pause, 'pids', `kubepods/besteffort/pod${uid}/${containerId()}`);
        const r = await runAgent(shell, pidArgv({ podUid: uid, containerIds: [] }));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString(), `${pause} ${ns.inode}\n`);
      });

      // FAKE crictl (a shell script): cri-tools is neither in Debian 12 nor on the Go module proxy
      // here. It answers only the exact inspect command line the agent is meant to use. The docker
      // CLI fallback runs against a real Docker engine in docker.test.ts.
      function fakeCrictlBin(answer: string, id: string): string {
        const dir = dirname(tempFile('x'));
        const want = `inspect -o go-template --template {{.info.pid}} ${id}`;
        writeFileSync(join(dir, 'crictl'), `#!/bin/sh\n[ "$*" = '${want}' ] || exit 1\necho ${answer}\n`, {
          mode: 0o755,
        });
        return dir;
      }
      const withBin = (dir: string) => ({ PATH: `${dir}:${shell.env.PATH}` });

      test("not in /proc's cgroups: asks crictl; 0 and 1 are never answers", async () => {
        const id = containerId();
        const pid = await containerProcess(); // in no kubepods cgroup at all
        let r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [id] }), {
          env: withBin(fakeCrictlBin(String(pid), id)),
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString(), `${pid} ${ns.inode}\n`);
        assert.match(r.stderr, /from crictl inspect/);
        for (const answer of ['0', '1']) {
          r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [id] }), {
            env: withBin(fakeCrictlBin(answer, id)),
          });
          assert.equal(r.code, 65, `crictl said ${answer}: ${r.stderr}`);
        }
      });

      test('NO_CONTAINER (65) when neither the containers nor the pod have a process', async () => {
        const r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [containerId()] }));
        assert.equal(r.code, 65);
        assert.equal(r.stdout.length, 0);
        assert.equal(parseAgentError(r.stderr)?.code, 'NO_CONTAINER');
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      });

      test('a container whose process exited is NO_CONTAINER', async () => {
        const uid = podUid();
        const id = containerId();
        const pid = await containerProcess();
        moveToCgroup(pid, 'pids', `kubepods/besteffort/pod${uid}/${id}`);
        process.kill(pid, 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 100));
        const r = await runAgent(shell, pidArgv({ podUid: uid, containerIds: [id] }));
        assert.equal(r.code, 65, r.stderr);
        assert.equal(parseAgentError(r.stderr)?.code, 'NO_CONTAINER');
      });

      test('USAGE (64) for a malformed uid or id that bypassed the builder', async () => {
        const s = agentPath();
        for (const args of [['--uid', '$(id)'], ['--uid', 'ab', 'x;y'], [], ['--bogus']]) {
          const r = await runAgent(shell, ['sh', s, 'pid', ...args]);
          assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
          assert.equal(parseAgentError(r.stderr)?.code, 'USAGE');
        }
      });
    });
  }
});
