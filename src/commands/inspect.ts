// `kubectl netns inspect TARGET`: everything about one pod's network namespace in one place: node,
// runtime, container → PID, namespace inode and nsfs paths, interfaces with the host end of each
// veth and its bridge, routes, and (-o wide / json) listening sockets. One debug pod on the node's
// network (so the host ends of the veths are in view), three agent runs: pid, scan, netinfo.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { withContainer, withOutputFormat, withTarget } from '../cli/options.ts';
import { ExitCode, UserError } from '../errors.ts';
import { debug, warn } from '../log.ts';
import { withDebugPod } from '../kube/with-debug-pod.ts';
import { netinfoArgv } from '../node/agent.ts';
import { collectOk, lookupPid } from '../node/agent-ops.ts';
import { splitContainerId } from '../node/container-id.ts';
import { parseNetinfo } from '../node/netinfo.ts';
import type { OutputFormat } from '../output/formats.ts';
import { buildInspect, renderInspect } from '../output/inspect-view.ts';
import { useColor } from '../output/terminal.ts';
import { assertScanRights, scanWith } from './shared/node-scan.ts';
import { resolveOneTarget } from './shared/target.ts';

export interface InspectArgs extends GlobalArgs {
  target: string;
  container?: string | undefined;
  output: OutputFormat;
}

export const inspect = defineCommand<InspectArgs>({
  name: 'inspect',
  positionals: '<target>',
  completes: 'pods',
  summary:
    "Show a pod's network namespace: PIDs, inode, nsfs paths, interfaces and their host-side veths, routes, sockets",
  usage: 'inspect (POD | TYPE/NAME) [-c CONTAINER] [-o FORMAT]',
  examples: [
    ['Interfaces with their host-side veths and bridges, routes', 'inspect web-7d9'],
    ['Plus the listening sockets (ss -tulpn)', 'inspect web-7d9 -o wide'],
  ],
  builder: (y) =>
    withOutputFormat(
      withContainer(withTarget(y)),
      'table, wide (adds listening sockets), json or yaml (everything), or name',
    ),
  run: async (a) => {
    const ctx = await runContext(a);
    const target = await resolveOneTarget(ctx, a.target, a.container);
    const sockets = a.output !== 'table';
    // hostNetwork: the node's ends of the pod's veths are in the agent's own namespace.
    const spec = { namespace: ctx.debugNamespace ?? target.namespace, node: target.node, target, hostNetwork: true };
    await assertScanRights(ctx, { nodes: 'none', debugNamespace: spec.namespace });
    return withDebugPod(ctx, spec, async (pod) => {
      const { pid, netnsInode } = await lookupPid(pod, target, ctx.signal);
      const [scan, net] = await Promise.all([
        // Only the pod's namespace and the node's (its veths' host ends) need their interfaces.
        scanWith(ctx, pod, target.node, { netns: [netnsInode] }),
        collectOk(pod, netinfoArgv({ pid, sockets }), 'netinfo', ctx.signal),
      ]);
      const netinfo = parseNetinfo(net, sockets);
      for (const w of netinfo.warnings) warn(w);
      const entry = scan.entries.find((e) => e.inode === netnsInode);
      if (!entry) {
        throw new UserError(
          `the node scan did not see network namespace ${netnsInode} of pod ${target.pod} (did it just restart?)`,
          { exitCode: ExitCode.targetState },
        );
      }
      debug(`inspect: pid ${pid}, netns ${netnsInode}, state ${entry.state}`);
      const status = target.object.status;
      const statuses = [
        ...(status?.initContainerStatuses ?? []),
        ...(status?.containerStatuses ?? []),
        ...(status?.ephemeralContainerStatuses ?? []),
      ];
      const report = buildInspect({
        pod: {
          namespace: target.namespace,
          name: target.pod,
          uid: target.podUid,
          ip: target.podIP ?? null,
          // Every family's address (dual-stack pods have an IPv4 and an IPv6 one), as kubectl lists them.
          ips: (status?.podIPs ?? []).map((p) => p.ip),
          hostNetwork: target.hostNetwork,
        },
        node: target.node,
        runtime: target.runtime,
        containers: statuses.map((s) => ({
          name: s.name,
          id: s.containerID ? splitContainerId(s.containerID).id : undefined,
        })),
        netnsInode,
        facts: scan.facts,
        entry,
        netinfo,
      });
      process.stdout.write(renderInspect(report, a.output, useColor(process.stdout)));
      return ExitCode.ok;
    });
  },
});
