// Steps capture, exec and shell share: open a debug pod next to the target, and find the PID
// whose network namespace to enter.
import { Writable } from 'node:stream';
import { debug, info } from '../log.ts';
import type { RunContext } from '../cli/global.ts';
import { shutdownSignal } from '../cli/signals.ts';
import { DebugSession } from '../kube/session.ts';
import type { ResolvedTarget } from '../kube/target.ts';
import { pidArgv, parsePidOutput } from '../node/agent.ts';
import { agentFailure } from '../node/agent-errors.ts';
import { VERSION } from '../version.ts';

/** Creates the debug pod on the target's node and waits for it. */
export function openTargetSession(
  ctx: RunContext,
  target: ResolvedTarget,
  opts: { durationSeconds?: number | undefined; hostNetwork?: boolean; onCreated?: (s: DebugSession) => void },
): Promise<DebugSession> {
  const namespace = ctx.debugNamespace ?? target.namespace;
  info(`starting debug pod on node ${target.node}${namespace !== target.namespace ? ` in namespace ${namespace}` : ''}...`);
  return DebugSession.open(ctx.client, {
    namespace,
    nodeName: target.node,
    image: ctx.image,
    privileged: ctx.privileged,
    target: { namespace: target.namespace, pod: target.pod },
    durationSeconds: opts.durationSeconds,
    hostNetwork: opts.hostNetwork,
    version: VERSION,
    podTimeoutMs: ctx.podTimeoutMs,
    signal: shutdownSignal,
    onProgress: (d) => debug(`debug pod: ${d}`),
    onCreated: opts.onCreated,
  });
}

/** Collects a small command's output in memory (PID lookups, listings). */
export async function runCollect(session: DebugSession, argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sinkOf = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _e, cb) {
        into.push(chunk);
        cb();
      },
    });
  const { exitCode } = await session.exec(argv, { stdout: sinkOf(out), stderr: sinkOf(err), signal: shutdownSignal });
  return { exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** The PID (on the node) of a process in the target container, via the agent's cgroup scan. */
export async function lookupPid(session: DebugSession, target: ResolvedTarget): Promise<{ pid: number; netnsInode: string }> {
  const r = await runCollect(session, pidArgv({ podUid: target.podUid, containerIds: target.containerIds }));
  if (r.exitCode !== 0) throw agentFailure(r.exitCode, r.stderr.split('\n'), 'pid');
  const found = parsePidOutput(r.stdout);
  debug(`target ${target.namespace}/${target.pod} container ${target.container}: pid ${found.pid}, netns ${found.netnsInode}`);
  return found;
}
