// `kubectl netns cleanup`: deletes debug pods left behind (a SIGKILLed client, a lost connection),
// found by the managed-by label, and says what it did. By default only pods that have ended or
// outlived their deadline: a running one belongs to someone's live session; --all deletes those too.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { info } from '../log.ts';
import { ANNOTATION_TARGET } from '../kube/debug-pod.ts';
import { deleteDebugPod, leftoverState, listDebugPods } from '../kube/leftovers.ts';
import { renderTable } from '../output/table.ts';
import { useColor } from '../output/terminal.ts';

export interface CleanupArgs extends GlobalArgs {
  'all-namespaces': boolean;
  all: boolean;
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
      .option('all', {
        type: 'boolean',
        default: false,
        describe: "Also delete debug pods still in use (running): this ends other people's live captures",
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only list what would be deleted' })
      .example('$0 cleanup -A', 'remove ended and expired debug pods everywhere')
      .example('$0 cleanup -n shop --all', 'remove every debug pod in shop, running ones included'),
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
  const now = new Date();
  const rows = pods.map((p) => ({
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    node: p.spec?.nodeName ?? '',
    phase: p.status?.phase ?? '',
    state: leftoverState(p, now),
    target: p.metadata?.annotations?.[ANNOTATION_TARGET] ?? '',
    age: age(p.metadata?.creationTimestamp, now),
  }));
  process.stdout.write(
    renderTable(
      [
        { key: 'namespace', header: 'NAMESPACE' },
        { key: 'name', header: 'NAME' },
        { key: 'node', header: 'NODE' },
        { key: 'phase', header: 'PHASE' },
        { key: 'state', header: 'STATE' },
        { key: 'target', header: 'TARGET' },
        { key: 'age', header: 'AGE' },
      ],
      rows,
      { color: useColor(process.stdout) },
    ),
  );
  const chosen = rows.filter((r) => a.all || r.state !== 'in use');
  const skipped = rows.length - chosen.length;
  const skipNote = skipped
    ? `; skipped ${skipped} still in use by a running kubectl-netns (they end when it does; --all deletes them too)`
    : '';
  if (a['dry-run']) {
    info(`${chosen.length} debug pod(s) would be deleted (dry run)${skipNote}`);
    return 0;
  }
  let deleted = 0;
  for (const r of chosen) if (await deleteDebugPod(ctx.client, r.namespace, r.name)) deleted++;
  info(`deleted ${deleted} debug pod(s) in ${where}${skipNote}`);
  return 0;
}

/** kubectl's AGE column: 45s, 12m, 3h, 2d. */
function age(ts: Date | string | undefined, now: Date): string {
  if (!ts) return '';
  const s = Math.max(0, Math.round((now.getTime() - new Date(ts).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
