// startDetached against a fake agent (named so; the real path runs in test/e2e/detach.test.ts):
// it returns once tcpdump says it listens and ends the reader's input then, so the exec ends and
// the ring's tcpdump goes on; a capture that fails before it listens is the agent's error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { startDetached } from '../../../src/node/spool-detach.ts';
import type { AgentExec } from '../../../src/node/agent-ops.ts';
import type { CaptureOptions } from '../../../src/node/agent.ts';
import { SPOOL_MARK } from '../../../src/node/spool-stream.ts';

const OPTIONS: CaptureOptions = {
  find: { podUid: '0b0e3c5e-1c55-4bb0-9b8e-1d1a1c2f3e4d', containerIds: ['abc123'] },
  iface: 'auto',
  filter: [],
  id: 'deadbeef-0',
  spool: { dir: '/spool/deadbeef-0', ringFiles: 4, fileMB: 1 },
};

/** A fake agent whose capture writes LINES to stderr, then waits for its stdin to end (as the reader does). */
function fakeCapture(lines: string[], exit: number, seen: { stdinEnded: boolean; argv?: string[] }): AgentExec {
  return {
    exec: async (argv, io) => {
      seen.argv = argv;
      for (const l of lines) io.stderr?.write(`${l}\n`);
      const stdin = io.stdin as Readable;
      await new Promise<void>((resolve) => {
        stdin.on('end', () => {
          seen.stdinEnded = true;
          resolve();
        });
        stdin.resume();
      });
      return { exitCode: exit };
    },
  } as AgentExec;
}

test('returns the interface once tcpdump listens, and ends the reader (the exec), not the capture', async () => {
  const seen = { stdinEnded: false } as { stdinEnded: boolean; argv?: string[] };
  const l = await startDetached(
    fakeCapture(
      [
        'kubectl-netns-agent: info: capturing on eth0 in netns 4026532 (pid 42)',
        'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
      ],
      0,
      seen,
    ),
    OPTIONS,
  );
  assert.deepEqual(l, { iface: 'eth0', linkType: 'link-type EN10MB' });
  assert.ok(seen.stdinEnded);
  assert.ok(seen.argv!.includes('--spool') && seen.argv!.includes('/spool/deadbeef-0'));
});

test('a capture that fails before it listens: the agent error, with its exit code', async () => {
  const seen = { stdinEnded: false };
  await assert.rejects(
    startDetached(
      fakeCapture(
        ['kubectl-netns-agent: error: BAD_FILTER: tcpdump rejected the capture filter: syntax error'],
        69,
        seen,
      ),
      OPTIONS,
    ),
    (err: Error & { exitCode?: number }) => {
      assert.match(err.message, /rejected the capture filter/);
      assert.equal(err.exitCode, 9);
      return true;
    },
  );
});

test('refuses options without a spool: a detached capture is always spooled', async () => {
  await assert.rejects(
    startDetached(fakeCapture([], 0, { stdinEnded: false }), { ...OPTIONS, spool: undefined }),
    RangeError,
  );
});

test('a tcpdump that ends before it listens: the reader is let go at its end marker, and the error says so', async () => {
  const seen = { stdinEnded: false };
  const agent: AgentExec = {
    exec: async (_argv, io) => {
      io.stderr?.write('tcpdump: eth0: That device is not up\n');
      io.stdout?.write(Buffer.concat([SPOOL_MARK, Buffer.from('end 1 - - -\n')]));
      const stdin = io.stdin as Readable;
      await new Promise<void>((resolve) => {
        stdin.on('end', () => {
          seen.stdinEnded = true;
          resolve();
        });
        stdin.resume();
      });
      return { exitCode: 0 };
    },
  } as AgentExec;
  await assert.rejects(startDetached(agent, OPTIONS), /ended before tcpdump listened/);
  assert.ok(seen.stdinEnded);
});
