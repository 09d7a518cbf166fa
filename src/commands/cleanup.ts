// `kubectl netns cleanup`: deletes debug pods left behind (a SIGKILLed client, a lost connection),
// found by the managed-by label, and says what it did. Pods past their deadline are already
// stopped; this removes their objects too.
import type { Argv } from 'yargs';
import { info } from '../log.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { defaultRunner, type CommandRunner } from '../cli/runner.ts';
import { apiCall, isNotFound } from '../kube/api-errors.ts';
import { LABEL_MANAGED_BY, MANAGED_BY, ANNOTATION_TARGET } from '../kube/debug-pod.ts';
import { renderTable } from '../output/table.ts';

export interface CleanupArgs extends GlobalArgs {
  'all-namespaces': boolean;
  'dry-run': boolean;
}

export function registerCleanup(y: Argv<GlobalArgs>, run: CommandRunner = defaultRunner): Argv<GlobalArgs> {
  return y.command(
    'cleanup',
    'Delete debug pods that kubectl-netns left behind',
    (c) =>
      c
        .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'Look in every namespace, not just -n / the context namespace' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'Only list what would be deleted' })
        .example('$0 cleanup -A', 'remove leftovers everywhere'),
    async (argv) => {
      process.exitCode = await run('cleanup', argv as unknown as Record<string, unknown>);
    },
  ) as unknown as Argv<GlobalArgs>;
}

export async function runCleanup(a: CleanupArgs): Promise<number> {
  const ctx = runContext(a);
  const namespace = a['all-namespaces'] ? undefined : ctx.cfg.namespace;
  const selector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  const pods = await apiCall({ verb: 'list', resource: 'pods', namespace }, () => ctx.client.listPods(namespace, { labelSelector: selector }), ctx.cfg.server);
  const where = namespace ? `namespace ${namespace}` : 'any namespace';
  if (pods.length === 0) {
    info(`no kubectl-netns debug pods in ${where}`);
    return 0;
  }
  const rows = pods.map((p) => ({
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    node: p.spec?.nodeName ?? '',
    phase: p.status?.phase ?? '',
    target: p.metadata?.annotations?.[ANNOTATION_TARGET] ?? '',
    age: age(p.metadata?.creationTimestamp),
  }));
  process.stdout.write(
    renderTable(
      [
        { key: 'namespace', header: 'NAMESPACE' },
        { key: 'name', header: 'NAME' },
        { key: 'node', header: 'NODE' },
        { key: 'phase', header: 'PHASE' },
        { key: 'target', header: 'TARGET' },
        { key: 'age', header: 'AGE' },
      ],
      rows,
      { color: process.stdout.isTTY === true },
    ),
  );
  if (a['dry-run']) {
    info(`${pods.length} debug pod(s) would be deleted (dry run)`);
    return 0;
  }
  let deleted = 0;
  for (const r of rows) {
    try {
      await apiCall({ verb: 'delete', resource: 'pods', namespace: r.namespace, name: r.name }, () => ctx.client.deletePod(r.namespace, r.name, 0), ctx.cfg.server);
      deleted++;
    } catch (err) {
      if (!isNotFound((err as { cause?: unknown }).cause)) throw err;
    }
  }
  info(`deleted ${deleted} debug pod(s) in ${where}`);
  return 0;
}

function age(ts: Date | string | undefined): string {
  if (!ts) return '';
  const s = Math.max(0, Math.round((Date.now() - new Date(ts).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
