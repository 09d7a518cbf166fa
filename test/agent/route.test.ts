// The ops `kubectl netns path` adds, on real kernel objects: `route` (where a namespace's and the
// node's packets to an address go, and the host end of the namespace's interface) and `capture
// --node` (tcpdump on one of the node's own interfaces). A test namespace with a veth into this
// machine's root namespace stands for a pod; the root namespace stands for the node (the agent runs
// there, as in a hostNetwork debug pod). Under busybox sh with image-like tools and under dash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { captureArgv, parseAgentError, parseAgentInfo, parseCaptureClock, routeArgv } from '../../src/node/agent.ts';
import { agentPath } from '../../src/node/agent-install.ts';
import { parseRouteOutput } from '../../src/node/route.ts';
import { readCapture } from '../helpers/pcap/reader.ts';
import { summarize } from '../helpers/pcap/packets.ts';
import {
  cleanupAll,
  createNetns,
  netnsInodeOf,
  prerequisiteSkip,
  runAgent,
  shells,
  startAgent,
  tool,
  type TestNetns,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'tcpdump', 'busybox', 'dash']);

/** route's argv by PID (the builder takes pods; the op also takes --pid, as the agent tests use). */
function routeByPid(pid: number, extra: string[]): string[] {
  return ['sh', agentPath(), 'route', '--pid', String(pid), ...extra];
}

describe('agent route and capture --node', { skip }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  for (const shell of shells()) {
    describe(shell.name, () => {
      test("route: the namespace's route, the host end of its interface, the node's route and that interface", async () => {
        const r = await runAgent(shell, routeByPid(ns.pid, ['--to', ns.hostAddr, '--node-to', ns.nsAddr]));
        assert.equal(r.code, 0, r.stderr);
        const f = parseRouteOutput(r.stdout.toString());
        assert.equal(f.pid, ns.pid);
        assert.equal(f.netnsInode, ns.inode);
        assert.deepEqual(f.pod, { dev: ns.nsIf, gateway: undefined, prefsrc: ns.nsAddr });
        assert.deepEqual(f.peer, { iface: ns.nsIf, hostIface: ns.hostIf, master: undefined });
        assert.equal(f.node?.dev, ns.hostIf);
        assert.equal(f.nodeLink?.name, ns.hostIf);
        assert.equal(f.nodeLink?.kind, 'veth');
        assert.ok(f.nodeLink?.addresses.some((a) => a.address === ns.hostAddr));
        assert.deepEqual(f.noRoute, {});
      });

      test('route: no route in the namespace is a record, not a failure', async () => {
        // The namespace has only its /30: nothing else is reachable from it.
        const r = await runAgent(shell, routeByPid(ns.pid, ['--to', '10.231.255.254', '--node-to', ns.nsAddr]));
        assert.equal(r.code, 0, r.stderr);
        const f = parseRouteOutput(r.stdout.toString());
        assert.equal(f.pod, undefined);
        assert.match(f.noRoute.pod ?? '', /unreachable/i);
        assert.equal(f.node?.dev, ns.hostIf);
      });

      test('route: an address that is not an IP literal is a usage error (argv only, never a shell word)', async () => {
        for (const bad of ['10.0.0.1;id', '$(id)', 'example.com', '-h']) {
          const r = await runAgent(shell, routeByPid(ns.pid, ['--to', bad]));
          assert.equal(r.code, 64, `${bad}: ${r.stderr}`);
          assert.equal(parseAgentError(r.stderr)?.code, 'USAGE');
        }
        assert.throws(() => routeArgv({ nodeTo: '10.0.0.1 ' }), RangeError);
      });

      test("capture --node: tcpdump on the node's own interface records the pings", async () => {
        const agent = startAgent(shell, captureArgv({ node: true, iface: ns.hostIf, count: 6, filter: ['icmp'] }));
        await agent.waitForStderr(
          new RegExp(
            `^kubectl-netns-agent: info: capturing on ${ns.hostIf} in netns ${netnsInodeOf(process.pid)} \\(pid [0-9]+\\)$`,
          ),
        );
        await agent.waitForStderr(/^tcpdump: listening on /);
        tool('busybox', ['ping', '-c', '3', '-i', '0.2', '-W', '2', ns.nsAddr]);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        const cap = readCapture(r.stdout);
        // The node's clock as tcpdump started and ended brackets every packet's timestamp.
        const clock = r.stderr.split('\n').flatMap((l) => {
          const c = parseCaptureClock(parseAgentInfo(l) ?? '');
          return c ? [c] : [];
        });
        assert.deepEqual(
          clock.map((c) => c.edge),
          ['start', 'end'],
          r.stderr,
        );
        const stamps = cap.packets.map((p) => BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNanos));
        const jiffy = 20_000_000n;
        assert.ok(clock[0]!.epochNs - jiffy <= stamps[0]!, `start ${clock[0]!.epochNs} after ${stamps[0]}`);
        assert.ok(clock[1]!.epochNs + jiffy >= stamps.at(-1)!, `end ${clock[1]!.epochNs} before ${stamps.at(-1)}`);
        const sum = summarize(
          cap.packets,
          cap.interfaces.map((i) => i.linkType),
        );
        assert.equal(sum.protocols.icmp, 6, JSON.stringify(sum.protocols));
      });

      test('capture --node: a missing interface is NO_INTERFACE; a pod with it is a usage error', async () => {
        const r = await runAgent(shell, captureArgv({ node: true, iface: 'knt-none0', filter: [] }));
        assert.equal(parseAgentError(r.stderr)?.code, 'NO_INTERFACE', r.stderr);
        assert.throws(() => captureArgv({ node: true, pid: ns.pid, iface: 'eth0', filter: [] }), RangeError);
        const raw = captureArgv({ node: true, iface: ns.hostIf, filter: [] });
        const mixed = await runAgent(shell, [...raw.slice(0, 5), '--pid', String(ns.pid), ...raw.slice(5)]);
        assert.equal(mixed.code, 64, mixed.stderr);
      });
    });
  }
});
