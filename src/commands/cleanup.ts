// `kubectl netns cleanup`: deletes debug pods left behind (a SIGKILLed client, a lost connection),
// found by the managed-by label, and says what it did. Pods past their deadline are already
// stopped; this removes their objects too.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { info } from '../log.ts';
import { ANNOTATION_TARGET } from '../kube/debug-pod.ts';
import { deleteDebugPod, listDebugPods } from '../kube/leftovers.ts';
import { renderTable } from '../output/table.ts';
import { useColor } from '../output/terminal.ts';

export interface CleanupArgs extends GlobalArgs {
  'all-namespaces': boolean;
  'dry-run': boolean;
}

export const cleanup = defineCommand<CleanupArgs>({
  name: 'cleanup',
  summary: 'Delete debug pods that kubectl-netns left behind',
  builder: (y) =>
    y
      .option('all-namespaces', {
        alias: 'A',
        type: 'boolean',
        default: false,
        describe: 'Look in every namespace, not just -n / the context namespace',
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only list what would be deleted' })
      .example('$0 cleanup -A', 'remove leftovers everywhere'),
  run: runCleanup,
});

async function runCleanup(a: CleanupArgs): Promise<number> {
  const ctx = await runContext(a);
  const namespace = a['all-namespaces'] ? undefined : ctx.cfg.namespace;
  const pods = await listDebugPods(ctx.client, namespace);
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
      { color: useColor(process.stdout) },
    ),
  );
  if (a['dry-run']) {
    info(`${pods.length} debug pod(s) would be deleted (dry run)`);
    return 0;
  }
  let deleted = 0;
  for (const r of rows) if (await deleteDebugPod(ctx.client, r.namespace, r.name)) deleted++;
  info(`deleted ${deleted} debug pod(s) in ${where}`);
  return 0;
}

/** kubectl's AGE column: 45s, 12m, 3h, 2d. */
function age(ts: Date | string | undefined): string {
  if (!ts) return '';
  const s = Math.max(0, Math.round((Date.now() - new Date(ts).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
