// `kubectl netns captures`: the detached captures on the cluster (capture --detach), one row per
// captured pod: its ID, target, node, age, size, ring, state and who started it. Read from the
// debug pods' labels and annotations and each pod's spools (the agent's `spools` op).
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { withOutputFormat } from '../cli/options.ts';
import { info, warn } from '../log.ts';
import { listDetachedPods, podRuns, podSpools } from '../kube/detached.ts';
import { renderCaptures, type DetachedSpool } from '../output/captures-view.ts';
import type { OutputFormat } from '../output/formats.ts';
import { useColor } from '../output/terminal.ts';

interface CapturesArgs extends GlobalArgs {
  'all-namespaces': boolean;
  output: OutputFormat;
}

export const captures = defineCommand<CapturesArgs>({
  name: 'captures',
  summary: 'List detached captures (capture --detach) and what their spools hold',
  usage: 'captures [-n NAMESPACE | -A] [-o FORMAT]',
  examples: [
    ['Detached captures in the current namespace', 'captures'],
    ['In every namespace, as JSON', 'captures -A -o json'],
  ],
  builder: (y) =>
    withOutputFormat(y, 'table, wide (adds the debug pod and how long it is kept), json, yaml or name').option(
      'all-namespaces',
      {
        alias: 'A',
        type: 'boolean',
        default: false,
        describe: 'Look in every namespace, not just -n / the context namespace',
      },
    ),
  run: runCaptures,
});

async function runCaptures(a: CapturesArgs): Promise<number> {
  const ctx = await runContext(a);
  const namespace = a['all-namespaces'] ? undefined : (ctx.debugNamespace ?? ctx.cfg.namespace);
  const pods = (await listDetachedPods(ctx.client, namespace)).filter(podRuns);
  const rows: DetachedSpool[] = [];
  for (const spools of await Promise.all(
    pods.map((p) =>
      podSpools(ctx.client, p).catch((err: unknown) => {
        warn(`cannot read the spools of ${p.metadata?.namespace}/${p.metadata?.name}: ${(err as Error).message}`);
        return [];
      }),
    ),
  ))
    rows.push(...spools);
  process.stdout.write(renderCaptures(rows, a.output, new Date(), useColor(process.stdout)));
  if (rows.length === 0) info(`no detached captures in ${namespace ? `namespace ${namespace}` : 'any namespace'}`);
  return 0;
}
