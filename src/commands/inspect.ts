// `kubectl netns inspect TARGET`: everything about one pod's network namespace in one place: node,
// runtime, container → PID, namespace inode and nsfs paths, interfaces with the host end of each
// veth and its bridge, routes, and (-o wide / json) listening sockets. One debug pod on the node's
// network (so the host ends of the veths are in view), three agent runs: pid, scan, netinfo.
import type { Argv } from 'yargs';
import { ExitCode, UserError } from '../errors.ts';
import { debug, info, warn } from '../log.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { defaultRunner, type CommandRunner } from '../cli/runner.ts';
import { trackLeftover } from '../cli/signals.ts';
import { apiCall } from '../kube/api-errors.ts';
import { parseTarget, resolveTarget, splitContainerId } from '../kube/target.ts';
import { netinfoArgv } from '../node/agent.ts';
import { agentFailure } from '../node/agent-errors.ts';
import { parseNetinfo } from '../node/netinfo.ts';
import { buildInspect, renderInspect } from '../output/inspect-view.ts';
import { OUTPUT_FORMATS, type OutputFormat } from '../output/netns-views.ts';
import { scanWith } from './node-scan.ts';
import { lookupPid, openTargetSession, runCollect } from './session-helpers.ts';

export interface InspectArgs extends GlobalArgs {
  target: string;
  container?: string | undefined;
  output: OutputFormat;
}

export function registerInspect(y: Argv<GlobalArgs>, run: CommandRunner = defaultRunner): Argv<GlobalArgs> {
  return y.command(
    'inspect <target>',
    "Show a pod's network namespace: PIDs, inode, nsfs paths, interfaces and their host-side veths, routes, sockets",
    (c) =>
      c
        .positional('target', { type: 'string', demandOption: true, describe: 'POD, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME or job/NAME' })
        .option('container', { alias: 'c', type: 'string', describe: 'Container whose network namespace to use (default: the default container, else the first)' })
        .option('output', { alias: 'o', choices: OUTPUT_FORMATS, default: 'table' as OutputFormat, describe: 'table, wide (adds listening sockets) or json (everything)' })
        .example('$0 inspect web-7d9', 'interfaces, host-side veths, routes')
        .example('$0 inspect web-7d9 -o wide', 'plus listening sockets (ss -tulpn)'),
    async (argv) => {
      process.exitCode = await run('inspect', argv as unknown as Record<string, unknown>);
    },
  ) as unknown as Argv<GlobalArgs>;
}

export async function runInspect(a: InspectArgs): Promise<number> {
  const ctx = runContext(a);
  const target = await resolveTarget(ctx.client, parseTarget(a.target), ctx.cfg.namespace, a.container);
  if (target.via) info(`${target.via}: using pod ${target.pod}`);
  for (const w of target.warnings) warn(w);
  const sockets = a.output !== 'table';

  let untrack = () => {};
  // hostNetwork: the node's ends of the pod's veths are in the agent's own namespace.
  const session = await openTargetSession(ctx, target, { hostNetwork: true, onCreated: (s) => (untrack = trackLeftover(s.podName, `debug pod ${s.namespace}/${s.podName}`)) });
  try {
    const { pid, netnsInode } = await lookupPid(session, target);
    const [scan, net, pod] = await Promise.all([
      scanWith(ctx, session, target.node),
      runCollect(session, netinfoArgv({ pid, sockets })),
      apiCall({ verb: 'get', resource: 'pods', namespace: target.namespace, name: target.pod }, () => ctx.client.readPod(target.namespace, target.pod), ctx.cfg.server),
    ]);
    if (net.exitCode !== 0) throw agentFailure(net.exitCode, net.stderr.split('\n'), 'netinfo');
    const netinfo = parseNetinfo(net.stdout, sockets);
    for (const w of netinfo.warnings) warn(w);
    const entry = scan.entries.find((e) => e.inode === netnsInode);
    if (!entry) {
      throw new UserError(`the node scan did not see network namespace ${netnsInode} of pod ${target.pod} (did it just restart?)`, { exitCode: ExitCode.targetState });
    }
    debug(`inspect: pid ${pid}, netns ${netnsInode}, state ${entry.state}`);
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
    const report = buildInspect({
      pod: { namespace: target.namespace, name: target.pod, uid: target.podUid, ip: target.podIP ?? null, hostNetwork: target.hostNetwork },
      node: target.node,
      runtime: target.runtime,
      containers: statuses.map((s) => ({ name: s.name, id: s.containerID ? splitContainerId(s.containerID).id : undefined })),
      netnsInode,
      facts: scan.facts,
      entry,
      netinfo,
    });
    process.stdout.write(renderInspect(report, a.output, process.stdout.isTTY === true && !process.env.NO_COLOR));
    return ExitCode.ok;
  } finally {
    await session.close().catch((e: unknown) => warn(`could not delete debug pod ${session.namespace}/${session.podName}: ${String((e as Error).message)}; run kubectl netns cleanup`));
    untrack();
  }
}
