// What the user sees when something is wrong: one parsable error line and a distinct exit code,
// for real causes (bad filter, missing interface, exited process, missing tools, missing
// capabilities via setpriv) and for hostile filter words, which must stay data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  AGENT_EXIT,
  captureArgv,
  execArgv,
  parseAgentError,
  pidArgv,
  type AgentErrorCode,
} from '../../src/node/agent.ts';
import { agentPath } from '../../src/node/agent-install.ts';
import {
  cleanupAll,
  containerId,
  createNetns,
  exitedPid,
  imageLikeBin,
  moveToCgroup,
  onCleanup,
  podUid,
  prerequisiteSkip,
  rand,
  runAgent,
  shells,
  track,
  which,
  type AgentResult,
  type Shell,
  type TestNetns,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'tcpdump', 'busybox', 'dash', 'setpriv']);

function assertAgentError(r: AgentResult, code: AgentErrorCode, message?: RegExp): void {
  const err = parseAgentError(r.stderr);
  assert.equal(err?.code, code, r.stderr);
  assert.equal(r.code, AGENT_EXIT[code].code, r.stderr);
  assert.equal(r.stdout.length, 0, 'nothing on stdout');
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('kubectl-netns-agent: error:')).length, 1);
  if (message) assert.match(err.message, message);
}

// The same shell with capabilities dropped (bounding and inheritable sets, so root loses them).
function without(shell: Shell, caps: string[]): Shell {
  const list = caps.map((c) => `-${c}`).join(',');
  return { ...shell, argv: [which('setpriv')!, '--bounding-set', list, '--inh-caps', list, '--', ...shell.argv] };
}

describe('agent errors', { skip, concurrency: false }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  for (const shell of shells()) {
    describe(shell.name, () => {
      const capture = (filter: string[], iface = 'auto') =>
        runAgent(shell, captureArgv({ pid: ns.pid, iface, filter }));

      test("BAD_FILTER (69) carries tcpdump's own message", async () => {
        assertAgentError(await capture(['icmp', 'and']), 'BAD_FILTER', /can't parse filter expression: syntax error/);
        assertAgentError(await capture(['port', '99999']), 'BAD_FILTER', /illegal port number 99999/);
      });

      test('NO_INTERFACE (70) names the interface', async () => {
        assertAgentError(await capture([], 'nosuchif'), 'NO_INTERFACE', /'nosuchif'.*No such device/);
      });

      test('USAGE (64) for an unknown op or malformed arguments', async () => {
        const s = agentPath();
        const raw = (...args: string[]) => runAgent(shell, ['sh', s, ...args]);
        assertAgentError(await raw('frobnicate'), 'USAGE', /unknown operation 'frobnicate'/);
        assertAgentError(await raw(), 'USAGE');
        assertAgentError(await raw('capture', '--', 'icmp'), 'USAGE', /--pid/);
        assertAgentError(await raw('capture', '--pid', String(ns.pid), '--snaplen', '0'), 'USAGE');
        assertAgentError(await raw('capture', '--pid', String(ns.pid), '--iface', '-w'), 'USAGE');
        assertAgentError(await raw('capture', '--pid', String(ns.pid), '--id', '../../etc/x'), 'USAGE');
        assertAgentError(await raw('capture', '--pid', String(ns.pid), 'icmp'), 'USAGE', /after --/);
        assertAgentError(await raw('exec', '--pid', String(ns.pid), '--'), 'USAGE');
        assertAgentError(await raw('stop'), 'USAGE');
      });

      test('NETNS_GONE (71) for the pid of an exited process, and of a zombie', async () => {
        const gone = await exitedPid();
        assertAgentError(await runAgent(shell, captureArgv({ pid: gone, filter: [] })), 'NETNS_GONE');
        assertAgentError(await runAgent(shell, execArgv({ pid: gone, command: ['true'] })), 'NETNS_GONE');
        // `sleep 5` never reaps its child: the child stays a zombie with no namespaces.
        const parent = track(spawn('sh', ['-c', 'sleep 0.05 & exec sleep 5'], { stdio: 'ignore' }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const [zombie] = childrenOf(parent.pid!);
        assert.ok(zombie, 'a zombie child');
        assertAgentError(await runAgent(shell, captureArgv({ pid: zombie, filter: [] })), 'NETNS_GONE');
      });

      test('hostile filter words are data: rejected as a filter, nothing executed', async () => {
        const canaryDir = `/tmp/knt-canary-${rand()}`;
        mkdirSync(canaryDir);
        writeFileSync(`${canaryDir}/keep`, 'x');
        onCleanup(() => rmSync(canaryDir, { recursive: true, force: true }));
        const pwned = `/tmp/knt-pwned-${rand()}`;
        onCleanup(() => rmSync(pwned, { force: true }));
        const hostile = [
          [`; rm -rf ${canaryDir}`],
          ['icmp', ';', 'rm', '-rf', canaryDir],
          [`$(touch ${pwned})`],
          [`\`touch ${pwned}\``],
          ['icmp', '&&', 'touch', pwned],
          [`icmp\ntouch ${pwned}`],
          ['"', "'"],
          [`' ; touch ${pwned}; '`],
          ['-w', pwned],
          ['icmp', '-w', pwned],
        ];
        for (const words of hostile) {
          assertAgentError(await capture(words), 'BAD_FILTER');
          assert.equal(existsSync(`${canaryDir}/keep`), true, `canary survived ${JSON.stringify(words)}`);
          assert.equal(existsSync(pwned), false, `nothing created by ${JSON.stringify(words)}`);
        }
      });

      test('NO_TCPDUMP (66) when the image lacks tcpdump', async () => {
        const env = { PATH: imageLikeBin(['tcpdump']) };
        assertAgentError(await runAgent(shell, captureArgv({ pid: ns.pid, filter: [] }), { env }), 'NO_TCPDUMP');
      });

      test('without util-linux nsenter: NO_NSENTER (67) under dash; busybox sh uses its applet', async () => {
        const env = { PATH: imageLikeBin(['nsenter']) };
        const r = await runAgent(shell, execArgv({ pid: ns.pid, command: ['sh', '-c', 'exit 3'] }), { env });
        if (shell.name === 'dash') assertAgentError(r, 'NO_NSENTER');
        else assert.equal(r.code, 3, r.stderr);
      });

      test('NSENTER_DENIED (68) without CAP_SYS_ADMIN or CAP_SYS_PTRACE', async () => {
        for (const cap of ['sys_admin', 'sys_ptrace']) {
          const weak = without(shell, [cap]);
          assertAgentError(await runAgent(weak, captureArgv({ pid: ns.pid, filter: [] })), 'NSENTER_DENIED');
          assertAgentError(await runAgent(weak, execArgv({ pid: ns.pid, command: ['true'] })), 'NSENTER_DENIED');
        }
        // pid: the process is there, but its netns link cannot be read.
        const uid = podUid();
        const id = containerId();
        moveToCgroup(ns.pid, 'pids', `kubepods/besteffort/pod${uid}/${id}`);
        assertAgentError(
          await runAgent(without(shell, ['sys_ptrace']), pidArgv({ podUid: uid, containerIds: [id] })),
          'NSENTER_DENIED',
        );
      });

      test('CAPTURE_DENIED (72) without CAP_NET_RAW and CAP_NET_ADMIN', async () => {
        const weak = without(shell, ['net_raw', 'net_admin']);
        assertAgentError(
          await runAgent(weak, captureArgv({ pid: ns.pid, filter: [] })),
          'CAPTURE_DENIED',
          /permission/,
        );
      });
    });
  }
});

// Children of PID (the kernel's list, so a zombie shows too).
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}
