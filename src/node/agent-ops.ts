// Running the agent's short ops in a debug pod and reading their results: the PID lookup and
// any op whose whole output fits in memory (scan, netinfo).
import { Writable } from 'node:stream';
import { debug } from '../log.ts';
import type { DebugSession } from '../kube/session.ts';
import { pidArgv, parsePidOutput } from './agent.ts';
import { agentFailure } from './agent-errors.ts';

/** Where agent ops run: a debug pod's exec (tests may pass anything with the same shape). */
export type AgentExec = Pick<DebugSession, 'exec'>;

/** A Writable that keeps every chunk. */
function collector(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _e, cb) {
      into.push(chunk);
      cb();
    },
  });
}

/** Runs a small op and collects its output in memory. */
export async function collect(
  agent: AgentExec,
  argv: string[],
  signal?: AbortSignal,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const { exitCode } = await agent.exec(argv, { stdout: collector(out), stderr: collector(err), signal });
  return { exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Runs OP's argv and returns its stdout, or throws the agent's error. */
export async function collectOk(agent: AgentExec, argv: string[], op: string, signal?: AbortSignal): Promise<string> {
  const r = await collect(agent, argv, signal);
  if (r.exitCode !== 0) throw agentFailure(r.exitCode, r.stderr.split('\n'), op);
  return r.stdout;
}

/** What the PID lookup needs to know about the target. */
export interface PidTarget {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  containerIds: readonly string[];
}

/** The PID (on the node) of a process in the target container, via the agent's cgroup scan. */
export async function lookupPid(
  agent: AgentExec,
  target: PidTarget,
  signal?: AbortSignal,
): Promise<{ pid: number; netnsInode: string }> {
  const found = parsePidOutput(
    await collectOk(agent, pidArgv({ podUid: target.podUid, containerIds: target.containerIds }), 'pid', signal),
  );
  debug(
    `target ${target.namespace}/${target.pod} container ${target.container}: pid ${found.pid}, netns ${found.netnsInode}`,
  );
  return found;
}
