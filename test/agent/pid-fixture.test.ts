// `pid` against a FAKE /proc (KNETNS_PROC), because this machine's cgroup v2 is the hybrid kind:
// a pure v2 node has ONE line per process, and a debug pod in its own cgroup namespace sees paths
// like /../../kubepods-...slice. The real-kernel cases are in pid.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAgentError, parsePidOutput, pidArgv } from '../../src/node/agent.ts';
import { cleanupAll, containerId, podUid, runAgent, shells, tempFile } from '../helpers/netns.ts';

const under = (uid: string) => uid.replaceAll('-', '_');
const HOST_NET = '4026531840';

const [U1, U2, U3] = [podUid(), podUid(), podUid()];
const [C1, S1, C2, S2, C3] = [containerId(), containerId(), containerId(), containerId(), containerId()];
const besteffort = (u: string) => `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${under(u)}.slice`;
const burstable = (u: string) => `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${under(u)}.slice`;

// PID -> [cgroup v2 path, netns inode or null for "exited while we scanned"].
const PROCS: Record<number, [string, string | null]> = {
  1: [`${besteffort(U1)}/cri-containerd-${C1}.scope`, HOST_NET], // never an answer
  7: ['/system.slice/containerd.service', HOST_NET],
  90: [`${besteffort(U1)}/cri-containerd-${C1}0.scope`, '4026532999'], // C1 plus a char: another container
  150: [`${besteffort(U1)}/cri-containerd-${S1}.scope`, '4026532300'],
  200: [`${besteffort(U1)}/cri-containerd-${C1}.scope/init.scope`, '4026532300'], // 200 < 1000 numerically only
  999: [`${besteffort(U1)}/cri-containerd-${C1}.scope`, null],
  1000: [`${besteffort(U1)}/cri-containerd-${C1}.scope`, '4026532300'],
  300: [`${burstable(U2)}/crio-conmon-${C2}.scope`, HOST_NET],
  301: [`${burstable(U2)}/crio-conmon-${S2}.scope`, HOST_NET],
  305: [`${burstable(U2)}/crio-${S2}.scope`, '4026532400'],
  310: [`${burstable(U2)}/crio-${C2}.scope/container`, '4026532400'],
  400: [`/../../kubepods-besteffort-pod${under(U3)}.slice/cri-containerd-${C3}.scope`, '4026532500'],
};

function buildFixture(): string {
  const root = join(dirname(tempFile('x')), 'fake-proc-cgroupv2-fixture');
  for (const [pid, [path, inode]] of Object.entries(PROCS)) {
    mkdirSync(join(root, pid, 'ns'), { recursive: true });
    writeFileSync(join(root, pid, 'cgroup'), `0::${path}\n`);
    // readlink works on a dangling link, which is all /proc/PID/ns/net is to the agent.
    if (inode) symlinkSync(`net:[${inode}]`, join(root, pid, 'ns', 'net'));
  }
  return root;
}

describe('agent pid on a cgroup v2 fixture (KNETNS_PROC)', { concurrency: false }, () => {
  const env = { KNETNS_PROC: buildFixture() };
  after(cleanupAll);

  for (const shell of shells()) {
    describe(shell.name, () => {
      const pid = async (uid: string, ids: string[]) => {
        const r = await runAgent(shell, pidArgv({ podUid: uid, containerIds: ids }), { env });
        assert.equal(r.code, 0, r.stderr);
        return parsePidOutput(r.stdout.toString());
      };

      test('containerd: lowest PID by number, nested cgroups count, exited ones and PID 1 skipped', async () => {
        assert.deepEqual(await pid(U1, [C1]), { pid: 200, netnsInode: '4026532300' });
      });
      test('CRI-O: the container, not its conmon', async () => {
        assert.deepEqual(await pid(U2, [C2]), { pid: 310, netnsInode: '4026532400' });
      });
      test('pod fallback skips conmon', async () => {
        assert.deepEqual(await pid(U2, []), { pid: 305, netnsInode: '4026532400' });
      });
      test('pod fallback takes any container of the pod', async () => {
        assert.deepEqual(await pid(U1, [containerId()]), { pid: 90, netnsInode: '4026532999' });
      });
      test('paths relative to a private cgroup namespace (/../..) still match', async () => {
        assert.deepEqual(await pid(U3, [C3]), { pid: 400, netnsInode: '4026532500' });
      });
      test('NO_CONTAINER for a pod that is not there', async () => {
        const r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [containerId()] }), { env });
        assert.equal(r.code, 65);
        assert.equal(parseAgentError(r.stderr)?.code, 'NO_CONTAINER');
      });
    });
  }
});
