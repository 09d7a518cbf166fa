// `exec`: commands run in the target's network namespace, exit codes unchanged, argv as data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execArgv, parseAgentError } from '../../src/node/agent.ts';
import { cleanupAll, createNetns, prerequisiteSkip, rand, runAgent, shells, type TestNetns } from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'busybox', 'dash']);

describe('agent exec', { skip, concurrency: false }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  for (const shell of shells()) {
    describe(shell.name, () => {
      test("ip -j addr shows the namespace's own address, not the node's", async () => {
        const r = await runAgent(shell, execArgv({ pid: ns.pid, command: ['ip', '-j', 'addr'] }));
        assert.equal(r.code, 0, r.stderr);
        const links = JSON.parse(r.stdout.toString()) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
        assert.deepEqual(links.map((l) => l.ifname).sort(), ['eth0', 'lo']);
        assert.ok(links.find((l) => l.ifname === 'eth0')!.addr_info.some((a) => a.local === ns.nsAddr));
        assert.equal(r.stderr, '');
      });

      test("the command's exit code comes back unchanged, even one in the agent's range", async () => {
        for (const code of [0, 1, 7, 65]) {
          const r = await runAgent(shell, execArgv({ pid: ns.pid, command: ['sh', '-c', `exit ${code}`] }));
          assert.equal(r.code, code, r.stderr);
          // The error LINE, not the status, marks an agent failure.
          assert.equal(parseAgentError(r.stderr), undefined);
        }
      });

      test("a missing command gives 127 with nsenter's message", async () => {
        const r = await runAgent(shell, execArgv({ pid: ns.pid, command: ['knt-no-such-command'] }));
        assert.equal(r.code, 127);
        assert.match(r.stderr, /nsenter: failed to execute knt-no-such-command: No such file or directory/);
        assert.equal(parseAgentError(r.stderr), undefined);
      });

      test('shell syntax in arguments is data', async () => {
        const pwned = `/tmp/knt-pwned-${rand()}`;
        const words = [`$(touch ${pwned})`, `\`touch ${pwned}\``, `; touch ${pwned}`, '&&', "'", '"', `a\nb`, '*'];
        const r = await runAgent(shell, execArgv({ pid: ns.pid, command: ['printf', '%s\\0', ...words] }));
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.toString().split('\0').slice(0, -1), words);
        assert.equal(existsSync(pwned), false);
      });
    });
  }
});
