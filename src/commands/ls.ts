// `kubectl netns ls NODE | --node NODE | TARGET | --all-nodes`: every network namespace on a node,
// with processes or without (kept alive only by a bind mount, possibly in another mount
// namespace), who owns it, its addresses, and whether its pod still exists.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs, type RunContext } from '../cli/global.ts';
import { rejectAllNamespaces, withAllNodes, withContainer, withOutputFormat } from '../cli/options.ts';
import { parsePositiveInt } from '../cli/parse.ts';
import { ExitCode, exitCodeOf, usageError, UserError } from '../errors.ts';
import { info, warn } from '../log.ts';
import { nodeExists } from '../kube/nodes.ts';
import { parseTarget, resolveTarget } from '../kube/target.ts';
import type { OutputFormat } from '../output/formats.ts';
import { netnsItem, renderNetnsList, type NetnsItem } from '../output/netns-views.ts';
import { useColor } from '../output/terminal.ts';
import { assertScanRights, DEFAULT_PARALLEL_NODES, nodesToSearch, scanNodes } from './shared/node-scan.ts';

export interface LsArgs extends GlobalArgs {
  where?: string | undefined;
  node?: string | undefined;
  'all-nodes': boolean;
  'all-namespaces'?: boolean | undefined;
  container?: string | undefined;
  output: OutputFormat;
  parallel: number;
}

/** Which node(s) to list. */
export type LsScope =
  | { kind: 'node'; node: string }
  | { kind: 'target'; target: string }
  | { kind: 'node-or-pod'; word: string }
  | { kind: 'all' };

/**
 * Reads the scope from the arguments. A bare word is a node if a node has that name, else a pod
 * (runLs decides, asking the API); TYPE/NAME is always a target. Pure.
 */
export function planLs(a: Pick<LsArgs, 'where' | 'node' | 'all-nodes' | 'all-namespaces'>): LsScope {
  rejectAllNamespaces(a);
  const given = [a.where !== undefined, a.node !== undefined, a['all-nodes']].filter(Boolean).length;
  if (given > 1) throw usageError('give one of NODE, TARGET, --node NODE or --all-nodes');
  if (a.node !== undefined) return { kind: 'node', node: a.node };
  if (a['all-nodes']) return { kind: 'all' };
  if (a.where === undefined)
    throw usageError('which node?', 'kubectl netns ls NODE, ls POD (its node), or ls --all-nodes');
  if (a.where.includes('/')) return { kind: 'target', target: a.where };
  return { kind: 'node-or-pod', word: a.where };
}

export const ls = defineCommand<LsArgs>({
  name: 'ls',
  positionals: '[where]',
  completes: 'nodes-and-pods',
  summary:
    "List every network namespace on a node: pods', the node's, orphaned ones kept only by a mount, stale ones whose pod is gone",
  usage: 'ls (NODE | POD | TYPE/NAME | --all-nodes) [-o FORMAT]',
  examples: [
    ['Every network namespace on a node', 'ls knetns-node'],
    ["The namespaces on web-7d9's node, with paths and nsenter commands", 'ls web-7d9 -o wide'],
    [
      'Leftovers only, on every node',
      'ls --all-nodes -o json | jq \'.items[] | select(.state != "pod" and .state != "host")\'',
    ],
  ],
  builder: (y) =>
    withOutputFormat(
      withContainer(
        withAllNodes(y, 'Every Ready Linux node')
          .positional('where', {
            type: 'string',
            describe: 'NODE, or a TARGET (POD, deploy/NAME, ...) meaning its node',
          })
          .option('node', { type: 'string', describe: 'The node to list' }),
        'With a TARGET: the container that picks the pod (rarely needed)',
      ),
      'table, wide (more columns), json, yaml or name',
    ).option('parallel', {
      type: 'number',
      default: DEFAULT_PARALLEL_NODES,
      describe: 'With --all-nodes: nodes scanned at once',
    }),
  run: runLs,
});

/** The node names a scope means. */
async function nodesOf(ctx: RunContext, scope: LsScope, a: LsArgs): Promise<string[]> {
  if (scope.kind === 'all') {
    return nodesToSearch(ctx);
  }
  if (scope.kind === 'node') {
    if (!(await nodeExists(ctx.client, scope.node)))
      throw new UserError(`node "${scope.node}" not found`, { exitCode: ExitCode.notFound, hint: 'kubectl get nodes' });
    return [scope.node];
  }
  if (scope.kind === 'node-or-pod' && (await nodeExists(ctx.client, scope.word))) return [scope.word];
  const word = scope.kind === 'target' ? scope.target : scope.word;
  try {
    const target = await resolveTarget(ctx.client, parseTarget(word), ctx.cfg.namespace, a.container);
    info(`${target.namespace}/${target.pod} runs on node ${target.node}`);
    return [target.node];
  } catch (err) {
    if (scope.kind !== 'node-or-pod' || exitCodeOf(err) !== ExitCode.notFound) throw err;
    throw new UserError(`no node named "${word}", and no pod "${word}" in namespace "${ctx.cfg.namespace}"`, {
      exitCode: ExitCode.notFound,
      hint: 'kubectl get nodes; kubectl get pods -n NAMESPACE',
    });
  }
}

async function runLs(a: LsArgs): Promise<number> {
  const scope = planLs(a);
  const parallel = parsePositiveInt(a.parallel, '--parallel', 64);
  const ctx = await runContext(a);
  await assertScanRights(ctx, { nodes: scope.kind === 'all' ? 'list' : 'get' });
  const nodes = await nodesOf(ctx, scope, a);
  const outcomes = await scanNodes(ctx, nodes, parallel);
  const items: NetnsItem[] = [];
  let failure: unknown;
  for (const o of outcomes) {
    if (o.scan) items.push(...o.scan.entries.map((e) => netnsItem(o.node, e)));
    else if (nodes.length === 1) throw o.error;
    else {
      failure ??= o.error;
      warn(`node ${o.node} could not be listed: ${o.error instanceof Error ? o.error.message : String(o.error)}`);
    }
  }
  process.stdout.write(renderNetnsList(items, a.output, useColor(process.stdout), nodes.length > 1));
  const leftovers = items.filter((i) => i.state === 'orphaned' || i.state === 'stale').length;
  const listed = outcomes.filter((o) => o.scan).length;
  info(
    `${items.length} network namespace(s) on ${listed} node(s)${leftovers ? `, ${leftovers} orphaned or stale` : ''}`,
  );
  return failure ? exitCodeOf(failure) : 0;
}
