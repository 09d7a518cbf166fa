// The agent's `scan` on a node with hundreds of network namespaces, against what it did before it
// was made fast: entering every namespace one by one (`nsenter … ip -j -d addr show`). On the same
// real namespaces (hundreds of bare `unshare -n` ones, and a few with loopback up, a veth with
// IPv4 and IPv6, an address on a down interface, a /32 and an IPv4-mapped IPv6 address on lo, a
// scope-link address, an orphan kept only by a mount), `ls` must print the same items, and
// `whohas` (scan --addr: namespaces are picked from /proc without entering them) must find the
// same namespaces while entering only the few that can hold the address. Speed is measured in
// `npm run bench` (forensics), not here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { whoHas } from '../../src/commands/whohas.ts';
import type { NodeScan } from '../../src/commands/shared/node-scan.ts';
import { scanArgv } from '../../src/node/agent.ts';
import { parseAddressQuery } from '../../src/node/address-match.ts';
import { parseIpAddr, type NetInterface } from '../../src/node/iproute.ts';
import { buildNetnsTable, type NetnsEntry } from '../../src/node/netns-table.ts';
import { parseScan, type ScanFacts } from '../../src/node/scan.ts';
import { netnsItem } from '../../src/output/netns-views.ts';
import {
  createBridge,
  holdInPrivateMountNs,
  killAndWait,
  manyNetns,
  netnsProcess,
  testAddress,
  vethInto,
} from '../helpers/forensics.ts';
import { cleanupAll, prerequisiteSkip, rand, runAgent, shells } from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'unshare', 'mount', 'busybox', 'dash']);
const BARE = 300;

function inNs(pid: number, script: string): void {
  execFileSync('nsenter', ['-t', String(pid), '-n', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
}

interface Fixtures {
  /** Every namespace the test made: these must come out exactly as entering them one by one shows. */
  inodes: Set<string>;
  bare: number;
  /** Addresses the test put somewhere (IPv4 in 10.232.0.0/16, IPv6 in a random fdXX::/64). */
  v4: string[];
  v6: string[];
  ula: string;
}

async function buildFixtures(): Promise<Fixtures> {
  const inodes = new Set<string>();
  const bulk = await manyNetns(BARE);
  for (const pid of bulk.pids)
    inodes.add(execFileSync('stat', ['-L', '-c', '%i', `/proc/${pid}/ns/net`], { encoding: 'utf8' }).trim());
  const bridge = createBridge();
  const ula = `fd${rand(1)}:${rand(2)}:${rand(2)}::`;
  const v4: string[] = [];
  const v6: string[] = [];

  const loUp = await netnsProcess();
  inNs(loUp.pid, 'ip link set lo up');
  inodes.add(loUp.inode);

  const veth = await netnsProcess();
  const vethAddr = testAddress();
  vethInto(veth.pid, 'eth0', vethAddr, bridge);
  inNs(veth.pid, `ip link set lo up && ip -6 addr add ${ula}2/64 dev eth0 nodad`);
  v4.push(vethAddr);
  v6.push(`${ula}2`);
  inodes.add(veth.inode);

  // An address on an interface that is down: the kernel still keeps its local route.
  const down = await netnsProcess();
  const downAddr = testAddress();
  inNs(down.pid, `ip link add knt-d0 type veth peer name knt-d1 && ip addr add ${downAddr}/24 dev knt-d0`);
  v4.push(downAddr);
  inodes.add(down.inode);

  // A /32 without a prefix route and an IPv4-mapped IPv6 address on loopback; a scope-link one.
  const lo = await netnsProcess();
  const loAddr = testAddress();
  const mapped = testAddress();
  inNs(
    lo.pid,
    `ip link set lo up && ip addr add ${loAddr}/32 dev lo noprefixroute && ip -6 addr add ::ffff:${mapped}/128 dev lo` +
      ` && ip link add knt-l0 type veth peer name knt-l1 && ip addr add 169.254.${1 + Math.floor(Math.random() * 250)}.7/16 scope link dev knt-l0 && ip link set knt-l0 up`,
  );
  v4.push(loAddr, mapped);
  inodes.add(lo.inode);

  // Namespaces that look bare from afar but are not, each a trap for reading /proc instead of
  // entering: a loopback that was up and is down again (its 127.0.0.1 stays), an IPv6 address on
  // a loopback never up, a second interface with no address, and one that carried packets.
  const traps = [
    'ip link set lo up && ip link set lo down',
    `ip -6 addr add ${ula}7/128 dev lo nodad`,
    'ip link add knt-e0 type veth peer name knt-e1',
    'ip link set lo up && busybox ping -c 1 -W 1 127.0.0.1 >/dev/null; ip addr flush dev lo && ip link set lo down',
  ];
  for (const script of traps) {
    const t = await netnsProcess();
    inNs(t.pid, script);
    inodes.add(t.inode);
  }

  // No process left: only a mount in another mount namespace keeps it (entered through the path).
  const o = await netnsProcess();
  const orphanAddr = testAddress();
  vethInto(o.pid, `knt-${rand(2)}o`, orphanAddr, bridge);
  await holdInPrivateMountNs(o.pid);
  await killAndWait(o.child);
  v4.push(orphanAddr);
  inodes.add(o.inode);

  return { inodes, bare: BARE, v4, v6, ula };
}

/**
 * What the agent did before: enter each namespace one by one, the lowest PID's or else its first
 * path, and run ip there. One shell for all of them; each namespace's output on one line.
 */
function oneByOne(entries: NetnsEntry[]): Map<string, NetInterface[]> {
  const lines = entries.map((e) =>
    e.procs[0] ? `${e.inode}\t-t\t${e.procs[0].pid}` : `${e.inode}\t--net\t${e.paths[0] ?? ''}`,
  );
  const script = `while IFS='	' read -r ns how arg; do
    printf '%s\\t' "$ns"
    if [ "$how" = -t ]; then nsenter -t "$arg" -n ip -j -d addr show; else nsenter --net="$arg" ip -j -d addr show; fi | tr -d '\\n'
    echo
  done`;
  const out = execFileSync('sh', ['-c', script], {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const map = new Map<string, NetInterface[]>();
  for (const line of out.trimEnd().split('\n')) {
    const [ns = '', json = ''] = line.split('\t');
    map.set(ns, parseIpAddr(json));
  }
  return map;
}

function nodeScan(facts: ScanFacts): NodeScan {
  return { node: 'n', facts, pods: [], entries: buildNetnsTable(facts, []), scanMs: 0 };
}

describe(
  'agent scan at scale: the same as entering every namespace one by one',
  { skip, concurrency: false, timeout: 600_000 },
  () => {
    const SHELLS = shells();
    let fx: Fixtures;
    before(async () => {
      fx = await buildFixtures();
    });
    after(cleanupAll);

    for (const shell of SHELLS) {
      describe(shell.name, () => {
        let full: ScanFacts;
        let entered: Map<string, NetInterface[]>;
        before(async () => {
          const r = await runAgent(shell, scanArgv(), { timeoutMs: 300_000 });
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stderr, '');
          full = parseScan(r.stdout.toString());
          entered = oneByOne(buildNetnsTable(full, []).filter((e) => fx.inodes.has(e.inode)));
        });

        test(`ls: ${BARE} bare namespaces and every other kind, each with the interfaces entering it shows`, () => {
          assert.equal(entered.size, fx.inodes.size, 'every namespace the test made was found');
          const entries = buildNetnsTable(full, []);
          // Every namespace the test made has its interfaces: this scan has no filter. (Others'
          // namespaces on this shared host may lose their last process mid-scan, and with it the way in.)
          assert.deepEqual(
            entries.filter((e) => e.interfaces === undefined && fx.inodes.has(e.inode)).map((e) => e.inode),
            [],
            full.warnings.join('; '),
          );
          assert.equal(full.namespaces, entries.length);
          // The bare ones are read from /proc, not entered one by one (a fork and two execs each).
          assert.ok(
            full.entered !== undefined && full.entered <= full.namespaces - fx.bare,
            `entered ${full.entered} of ${full.namespaces} with ${fx.bare} bare`,
          );
          for (const inode of fx.inodes)
            assert.deepEqual(full.interfaces.get(inode), entered.get(inode), `netns ${inode}`);
          // What ls -o json prints for them, from either source.
          const mine = entries.filter((e) => fx.inodes.has(e.inode));
          assert.deepEqual(
            mine.map((e) => netnsItem('n', e)),
            mine.map((e) => netnsItem('n', { ...e, interfaces: entered.get(e.inode) })),
          );
        });

        test('whohas: scan --addr finds what the full scan finds, and enters only the namespaces that may hold it', async () => {
          const sub24 = (a: string) => `${a.split('.').slice(0, 3).join('.')}.0/24`;
          const queries = [
            ...fx.v4,
            ...fx.v4.map(sub24),
            ...fx.v6,
            `${fx.ula}/64`,
            `::ffff:${fx.v4[3]}`, // the mapped address, asked for in its IPv6 spelling
            '10.232.0.0/16',
            `10.232.${Math.floor(Math.random() * 256)}.1`, // a miss (test addresses start at .2)
            `${fx.ula}99`, // a miss
          ];
          const queriesOnTheHostToo = ['fe80::/10', '127.0.0.1', '::1', '0.0.0.0/0', '::/0'];
          const fullScan = nodeScan(full);
          for (const text of [...queries, ...queriesOnTheHostToo]) {
            const q = parseAddressQuery(text);
            const r = await runAgent(shell, scanArgv({ subnets: q.subnets }), { timeoutMs: 300_000 });
            assert.equal(r.code, 0, r.stderr);
            const picked = parseScan(r.stdout.toString());
            const got = whoHas(q, [{ node: 'n', scan: nodeScan(picked) }]).items;
            const want = whoHas(q, [{ node: 'n', scan: fullScan }]).items;
            // The node's own interfaces may change meanwhile (others' pods); ours may not.
            const ours = (items: typeof got) =>
              queries.includes(text) ? items : items.filter((i) => fx.inodes.has(String(i.inode)));
            assert.deepEqual(ours(got), ours(want), text);
            if (queries.includes(text)) {
              // The node's namespace, the few that hold it, and those without a process to read /proc through.
              const processless = buildNetnsTable(picked, []).filter((e) => e.procs.length === 0).length;
              assert.ok(
                picked.interfaces.size <= 1 + got.length + processless,
                `${text}: entered ${picked.interfaces.size} of ${picked.namespaces}`,
              );
            }
          }
        });
      });
    }
  },
);
