// The docker paths, for real: containers of Debian's Docker engine (test/helpers/docker.ts; no
// kubelet, since cri-dockerd cannot be had here) found by `pid` through docker's own cgroup names
// (/docker/<id> on every hierarchy) and through the docker CLI; listed by `scan` with the netns file
// docker keeps in /run/docker/netns/<SandboxID>, also after the engine died and left it behind;
// and captured with `capture`. Traffic goes only from the root namespace to the container, over
// our own veth with a 10.231.x.x test address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureArgv, parseAgentInfo, parsePidOutput, pidArgv, scanArgv, stopArgv } from '../../src/node/agent.ts';
import { buildNetnsTable, type NetnsEntry } from '../../src/node/netns-table.ts';
import { parseScan } from '../../src/node/scan.ts';
import { readPcap } from '../helpers/pcap/reader.ts';
import { dockerProblem, EXEC_ROOT, loadImage, startDockerd, type Dockerd } from '../helpers/docker.ts';
import {
  cleanupAll,
  isAlive,
  netnsInodeOf,
  onCleanup,
  podUid,
  prerequisiteSkip,
  rand,
  runAgent,
  shells,
  startAgent,
  tool,
  vethToProcess,
} from '../helpers/netns.ts';

function dockerSkip(): string | false {
  const problem = dockerProblem();
  if (!problem) return false;
  if (process.env.CI === 'true') throw new Error(`docker agent tests: ${problem}`);
  return problem;
}

const skip = prerequisiteSkip(['ip', 'nsenter', 'tcpdump', 'tshark', 'busybox', 'dash', 'dockerd']) || dockerSkip();

interface Container {
  id: string;
  name: string;
  pid: number;
  inode: string;
  /** /run/docker/netns/<first 12 of SandboxID>, as docker reports it (SandboxKey). */
  netnsFile: string;
  nsAddr: string;
}

/** A container running `sleep`, with our veth into its namespace (docker gives it none: --bridge=none). */
function runContainer(d: Dockerd, image: string): Container {
  const name = `knt-docker-${rand()}`;
  const id = d.docker(['run', '-d', '--network', 'none', '--name', name, image, 'sleep', '600']).trim();
  const [pid, key] = d
    .docker(['inspect', '-f', '{{.State.Pid}} {{.NetworkSettings.SandboxKey}}', id])
    .trim()
    .split(' ');
  const { nsAddr } = vethToProcess(Number(pid));
  return {
    id,
    name,
    pid: Number(pid),
    inode: netnsInodeOf(Number(pid)),
    netnsFile: key!.replace(/^\/var\/run\//, '/run/'),
    nsAddr,
  };
}

/** A PATH directory holding only `docker` (the engine's own client) and, optionally, a FAKE crictl. */
function runtimeBin(d: Dockerd, fakeCrictl?: { id: string; answer: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'knt-runtime-bin-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(d.client, join(dir, 'docker'));
  if (fakeCrictl) {
    // FAKE crictl: cri-tools is neither in Debian 12 nor on the Go module proxy here. It answers
    // only the exact command line the agent uses.
    const want = `inspect -o go-template --template {{.info.pid}} ${fakeCrictl.id}`;
    writeFileSync(join(dir, 'crictl'), `#!/bin/sh\n[ "$*" = '${want}' ] || exit 1\necho ${fakeCrictl.answer}\n`, {
      mode: 0o755,
    });
  }
  return dir;
}

function entry(entries: NetnsEntry[], inode: string): NetnsEntry {
  const e = entries.find((x) => x.inode === inode);
  assert.ok(e, `netns ${inode} not listed; listed: ${entries.map((x) => x.inode).join(' ')}`);
  return e;
}

describe('agent on a real Docker engine', { skip, concurrency: false, timeout: 600_000 }, () => {
  const SHELLS = shells();
  let d: Dockerd;
  let image = '';
  let c: Container;
  before(async () => {
    d = await startDockerd();
    image = loadImage(d, 'debug');
    c = runContainer(d, image);
  });
  after(cleanupAll);

  test("docker's own names: /docker/<id> on every cgroup hierarchy, its netns file under /run/docker/netns", () => {
    const lines = readFileSync(`/proc/${c.pid}/cgroup`, 'utf8').trim().split('\n');
    assert.ok(lines.length > 1);
    for (const l of lines) assert.ok(l.endsWith(`:/docker/${c.id}`), l);
    assert.match(c.netnsFile, new RegExp(`^${EXEC_ROOT}/netns/[0-9a-f]{12}$`));
    assert.equal(tool('stat', ['-L', '-c', '%i', c.netnsFile]).trim(), c.inode);
  });

  for (const shell of SHELLS) {
    describe(shell.name, () => {
      test('pid finds the container by its id in the cgroup paths', async () => {
        const r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [`docker://${c.id}`] }));
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(parsePidOutput(r.stdout.toString()), { pid: c.pid, netnsInode: c.inode });
        assert.equal(parseAgentInfo(r.stderr.trim()), `pid ${c.pid} is in container ${c.id}`);
      });

      test('pid asks the docker CLI for a container no cgroup path names (by its name), after crictl', async () => {
        const env = { DOCKER_HOST: d.host, PATH: `${runtimeBin(d)}:${shell.env.PATH}` };
        let r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [c.name] }), { env });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(parsePidOutput(r.stdout.toString()), { pid: c.pid, netnsInode: c.inode });
        assert.match(r.stderr, /from docker inspect/);
        // crictl first: a container it reports stopped (pid 0) is asked of docker next.
        const both = { ...env, PATH: `${runtimeBin(d, { id: c.name, answer: '0' })}:${shell.env.PATH}` };
        r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [c.name] }), { env: both });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /from docker inspect/);
        // An id docker does not know: nothing found, NO_CONTAINER.
        r = await runAgent(shell, pidArgv({ podUid: podUid(), containerIds: [`knt-none-${rand()}`] }), { env });
        assert.equal(r.code, 65, r.stderr);
      });

      test('scan lists its namespace with the /run/docker/netns path, its process and address; a pod with that container id owns it', async () => {
        const r = await runAgent(shell, scanArgv(), { timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
        const facts = parseScan(r.stdout.toString());
        assert.ok(
          facts.files.some((f) => f.path === c.netnsFile && f.netns === c.inode),
          'file record',
        );
        assert.ok(
          facts.mounts.some((m) => m.mountpoint === c.netnsFile && m.netns === c.inode),
          'dockerd mount',
        );
        const sleeper = facts.procs.find((p) => p.pid === c.pid);
        assert.equal(sleeper?.containerId, c.id);
        assert.equal(sleeper?.podUid, undefined);

        const e = entry(buildNetnsTable(facts, []), c.inode);
        assert.equal(e.state, 'other', 'a container no pod claims');
        assert.ok(e.paths.includes(c.netnsFile), JSON.stringify(e.paths));
        assert.equal(e.enter, `nsenter -t ${c.pid} -n`);
        assert.ok(
          e.interfaces?.some((i) => i.addresses.some((a) => a.address === c.nsAddr)),
          JSON.stringify(e.interfaces),
        );
        // What kubelet with cri-dockerd would report: docker://<id> among the pod's containers.
        const pod = { namespace: 'shop', name: 'web', uid: podUid(), containerIds: [c.id] };
        const owned = entry(buildNetnsTable(facts, [pod]), c.inode);
        assert.equal(owned.state, 'pod');
        assert.deepEqual(owned.owner, {
          namespace: 'shop',
          name: 'web',
          uid: pod.uid,
          source: 'container-id',
          inApi: true,
        });
      });

      test('capture records pings to the container on its eth0; tshark reads the same', async () => {
        const id = rand(4);
        onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.pid`, { force: true }));
        onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.stop`, { force: true }));
        const agent = startAgent(shell, captureArgv({ pid: c.pid, id, filter: ['icmp'] }));
        await agent.waitForStderr(/^tcpdump: listening on /);
        assert.match(agent.stderr(), new RegExp(`capturing on eth0 in netns ${c.inode} \\(pid ${c.pid}\\)`));
        tool('busybox', ['ping', '-c', '3', '-i', '0.2', '-W', '2', c.nsAddr]);
        const s = await runAgent(shell, stopArgv(id));
        assert.equal(s.code, 0, s.stderr);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        const pcap = readPcap(r.stdout);
        assert.ok(pcap.records.length >= 6, `${pcap.records.length} packets`);
        const file = join(mkdtempSync(join(tmpdir(), 'knt-docker-pcap-')), 'c.pcap');
        onCleanup(() => rmSync(join(file, '..'), { recursive: true, force: true }));
        writeFileSync(file, r.stdout);
        const replies = tool('tshark', [
          '-r',
          file,
          '-Y',
          `icmp.type == 0 && ip.src == ${c.nsAddr}`,
          '-T',
          'fields',
          '-e',
          'ip.src',
        ]);
        assert.equal(replies.trim().split('\n').length, 3, replies);
      });
    });
  }

  test('an engine that dies leaves /run/docker/netns/<SandboxID> mounted with no process: scan lists it as orphaned there', async () => {
    // Last: this kills the engine (its data and mounts go at cleanup). A second container, then
    // dockerd SIGKILLed, then the container's process: nobody unmounts the netns file any more.
    const gone = runContainer(d, image);
    process.kill(d.pid, 'SIGKILL');
    process.kill(gone.pid, 'SIGKILL');
    for (let i = 0; i < 100 && isAlive(gone.pid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!isAlive(gone.pid));
    const r = await runAgent(SHELLS[0]!, scanArgv(), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const facts = parseScan(r.stdout.toString());
    const e = entry(buildNetnsTable(facts, []), gone.inode);
    assert.equal(e.state, 'orphaned');
    assert.equal(e.procs.length, 0);
    assert.ok(e.paths.includes(gone.netnsFile), JSON.stringify(e.paths));
    assert.equal(e.enter, `nsenter --net=${gone.netnsFile}`);
    assert.ok(
      e.interfaces?.some((i) => i.addresses.some((a) => a.address === gone.nsAddr)),
      JSON.stringify(e.interfaces),
    );
  });
});
