// Starts a spooled capture that runs on without its client (capture --detach): the agent's
// capture op starts tcpdump writing the ring, detached from the exec, and the exec goes on as the
// spool's first reader; once tcpdump says it listens, we end the reader's input (the agent's sign
// that its client is gone), so the exec ends and tcpdump keeps writing the ring on the node.
import { PassThrough, Writable } from 'node:stream';
import { ExitCode, UserError } from '../errors.ts';
import { debug } from '../log.ts';
import { captureArgv, type CaptureOptions } from './agent.ts';
import type { AgentExec } from './agent-ops.ts';
import { agentFailure, LineCollector } from './agent-errors.ts';
import { SPOOL_MARK } from './spool-stream.ts';

const LISTENING = /listening on (\S+), (link-type \S+)/;
/** An agent error line: the capture failed before tcpdump listened. */
const AGENT_ERROR = /^kubectl-netns-agent: error: /;

/** What a detached capture's start reports. */
export interface DetachedStart {
  /** The interface tcpdump listens on, and its link type. */
  iface: string;
  linkType: string;
}

/**
 * Runs the capture op with a spool (OPTIONS must carry id and spool) and returns once tcpdump
 * listens; throws the agent's error when it never does (bad filter, no such interface, gone pod).
 */
export async function startDetached(agent: AgentExec, options: CaptureOptions): Promise<DetachedStart> {
  if (!options.spool || !options.id) throw new RangeError('a detached capture is spooled and has an id');
  const stdin = new PassThrough();
  const lines = new LineCollector();
  let listening: DetachedStart | undefined;
  const stderr = new Writable({
    write: (chunk: Buffer, _e, cb) => {
      for (const line of lines.push(chunk.toString('utf8'))) {
        debug(`node: ${line}`);
        const m = LISTENING.exec(line);
        if (m && !listening) {
          listening = { iface: m[1]!, linkType: m[2]! };
          // The reader ends at end of input; the ring's tcpdump does not.
          stdin.end();
        }
        if (AGENT_ERROR.test(line)) stdin.end();
      }
      cb();
    },
  });
  // A tcpdump that died after the agent's checks: the reader sends the end marker and would wait
  // for our "done"; ending its input ends it at once, and the error is reported below.
  const endMark = Buffer.concat([SPOOL_MARK, Buffer.from('end ')]);
  const stdout = new Writable({
    write: (chunk: Buffer, _e, cb) => {
      if (!listening && chunk.includes(endMark)) stdin.end();
      cb();
    },
  });
  const r = await agent.exec(captureArgv(options), { stdin, stdout, stderr });
  if (listening) return listening;
  if (r.exitCode !== 0) throw agentFailure(r.exitCode, lines.all(), 'capture');
  throw new UserError('the detached capture ended before tcpdump listened', {
    exitCode: ExitCode.agent,
    hint: `rerun with -v to see the agent's output: ${lines.all().slice(-1)[0] ?? 'nothing'}`,
  });
}
