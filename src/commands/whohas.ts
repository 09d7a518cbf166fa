// `kubectl netns whohas IP [--node NODE | --all-nodes]`: which network namespace(s), on which
// node, hold an address: a pod's, the node's, or one no pod owns any more (an IP that answers
// pings but not the service, because an orphaned namespace still holds it). Without
// --node every Ready Linux node is searched, a few in parallel. Exit 0 when found, 4 when not.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { rejectAllNamespaces, withAllNodes, withOutputFormat } from '../cli/options.ts';
import { parsePositiveInt } from '../cli/parse.ts';
import { ExitCode, exitCodeOf, usageError, UserError } from '../errors.ts';
import { info, warn } from '../log.ts';
import { nodeExists } from '../kube/nodes.ts';
import { matchingAddresses, parseAddressQuery, type AddressQuery } from '../node/address-match.ts';
import { cidr } from '../node/iproute.ts';
import type { OutputFormat } from '../output/formats.ts';
import { API_VERSION, netnsItem, renderWhoHas, type WhoHasItem, type WhoHasResult } from '../output/netns-views.ts';
import { useColor } from '../output/terminal.ts';
import {
  assertScanRights,
  DEFAULT_PARALLEL_NODES,
  nodesToSearch,
  scanNodes,
  type NodeOutcome,
} from './shared/node-scan.ts';

export interface WhoHasArgs extends GlobalArgs {
  address: string;
  node?: string | undefined;
  'all-nodes': boolean;
  'all-namespaces'?: boolean | undefined;
  output: OutputFormat;
  parallel: number;
}

/** The address query and where to look (undefined node: every node). Pure. */
export function planWhoHas(a: Pick<WhoHasArgs, 'address' | 'node' | 'all-nodes' | 'all-namespaces'>): {
  query: AddressQuery;
  node: string | undefined;
} {
  rejectAllNamespaces(a);
  if (a.node !== undefined && a['all-nodes']) throw usageError('--node and --all-nodes are mutually exclusive');
  let query: AddressQuery;
  try {
    query = parseAddressQuery(String(a.address));
  } catch (err) {
    throw usageError(
      (err as Error).message,
      'give an address such as 10.244.1.7 or fd00::2, or a subnet such as 10.244.1.0/24',
    );
  }
  return { query, node: a.node };
}

/** Everything on the scanned nodes that holds a matching address, and which nodes failed. Pure. */
export function whoHas(query: AddressQuery, outcomes: readonly NodeOutcome[]): WhoHasResult {
  const items: WhoHasItem[] = [];
  const errors: WhoHasResult['errors'] = [];
  for (const o of outcomes) {
    if (!o.scan) {
      errors.push({ node: o.node, message: o.error instanceof Error ? o.error.message : String(o.error) });
      continue;
    }
    for (const e of o.scan.entries) {
      const hits = matchingAddresses(e.interfaces ?? [], query);
      if (hits.length > 0)
        items.push({
          ...netnsItem(o.node, e),
          matches: hits.map((h) => ({ interface: h.iface, address: cidr(h.address) })),
        });
    }
  }
  return {
    apiVersion: API_VERSION,
    kind: 'WhoHas',
    query: query.text,
    nodes: outcomes.filter((o) => o.scan).map((o) => o.node),
    errors,
    items,
  };
}

export const whohas = defineCommand<WhoHasArgs>({
  name: 'whohas',
  positionals: '<address>',
  summary: 'Find the network namespace(s) holding an IP address (or any address in a subnet), orphaned ones included',
  usage: 'whohas (ADDRESS | SUBNET) [--node NODE] [-o FORMAT]',
  notes: 'Exit code 0: found; 4: no namespace on the searched nodes holds it.',
  examples: [
    ['Which pod, or leftover namespace, holds this IP, on any node', 'whohas 10.244.1.15'],
    ['One node, for scripts', 'whohas 10.244.1.15 --node n1 -o json'],
  ],
  builder: (y) =>
    withOutputFormat(
      withAllNodes(y, 'Search every Ready Linux node (the default without --node)')
        .positional('address', {
          type: 'string',
          demandOption: true,
          describe: 'IPv4/IPv6 address, or a subnet (10.244.1.0/24)',
        })
        .option('node', { type: 'string', describe: 'Search only this node (default: every Ready Linux node)' }),
      'table, wide (more columns), json, yaml or name',
    ).option('parallel', { type: 'number', default: DEFAULT_PARALLEL_NODES, describe: 'Nodes searched at once' }),
  run: runWhoHas,
});

async function runWhoHas(a: WhoHasArgs): Promise<number> {
  const plan = planWhoHas(a);
  const parallel = parsePositiveInt(a.parallel, '--parallel', 64);
  const ctx = await runContext(a);
  await assertScanRights(ctx, { nodes: plan.node === undefined ? 'list' : 'get' });
  let nodes: string[];
  if (plan.node !== undefined) {
    if (!(await nodeExists(ctx.client, plan.node)))
      throw new UserError(`node "${plan.node}" not found`, { exitCode: ExitCode.notFound, hint: 'kubectl get nodes' });
    nodes = [plan.node];
  } else {
    nodes = await nodesToSearch(ctx);
    info(`searching ${nodes.length} node(s), ${Math.min(parallel, nodes.length)} at a time`);
  }
  // Only namespaces that may hold the address are entered: on a node with thousands, that is
  // what makes whohas fast (the agent tells them apart from /proc, without entering them).
  const outcomes = await scanNodes(ctx, nodes, parallel, { subnets: plan.query.subnets });
  const result = whoHas(plan.query, outcomes);
  for (const e of result.errors) warn(`node ${e.node} could not be searched: ${e.message}`);

  if (result.items.length === 0) {
    const failed = outcomes.find((o) => o.error !== undefined);
    // Not found, and some node was not searched: the honest answer is "unknown", not "nobody".
    if (failed) {
      throw new UserError(
        `${plan.query.text} is not on the ${result.nodes.length} node(s) searched; ${result.errors.length} node(s) could not be searched`,
        {
          exitCode: exitCodeOf(failed.error),
          hint: result.errors.map((e) => `${e.node}: ${e.message}`).join('; '),
        },
      );
    }
    if (a.output === 'json' || a.output === 'yaml') process.stdout.write(renderWhoHas(result, a.output, false));
    info(`no network namespace on ${result.nodes.length} node(s) holds ${plan.query.text}`);
    return ExitCode.notFound;
  }
  process.stdout.write(renderWhoHas(result, a.output, useColor(process.stdout)));
  for (const i of result.items) {
    const where = `node ${i.node}, netns ${i.inode}`;
    if (i.state === 'pod') info(`${plan.query.text} is held by pod ${i.pod?.namespace}/${i.pod?.name} (${where})`);
    else if (i.state === 'host') info(`${plan.query.text} is the node's own address (${where})`);
    else if (i.state === 'other')
      info(
        `${plan.query.text} is held by a namespace no pod owns, with ${i.processes} process(es), lowest ${i.pid} ${i.command} (${where})`,
      );
    else {
      const pod = i.pod?.name
        ? ` (was pod ${i.pod.namespace}/${i.pod.name})`
        : i.pod?.uid
          ? ` (was pod uid ${i.pod.uid})`
          : '';
      const held = i.holders.length
        ? `a mount in the mount namespace of ${i.holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ')} keeps it alive`
        : i.processes > 0
          ? `${i.processes} process(es) keep it alive, lowest ${i.pid} ${i.command}`
          : `kept by ${i.paths.join(', ')}`;
      info(
        `${plan.query.text} is held by ${i.state === 'orphaned' ? 'an orphaned' : 'a stale'} namespace${pod} (${where}); ${held}; enter it with: ${i.enter}`,
      );
    }
  }
  return ExitCode.ok;
}
