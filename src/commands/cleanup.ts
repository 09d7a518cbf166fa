// `kubectl netns cleanup`: deletes debug pods left behind (a SIGKILLed client, a lost connection),
// found by the managed-by label, and says what it did. By default only pods that have ended or
// outlived their deadline: a running one belongs to someone's live session; --all deletes those too.
// It also says where unfinished capture files of killed runs are in the current directory.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { withOutputFormat } from '../cli/options.ts';
import { info } from '../log.ts';
import { ANNOTATION_TARGET } from '../kube/debug-pod.ts';
import { deleteDebugPod, leftoverState, listDebugPods, type LeftoverState } from '../kube/leftovers.ts';
import { renderDocument, renderNames } from '../output/document.ts';
import { reportLeftoverPartials } from '../output/partial-files.ts';
import type { OutputFormat } from '../output/formats.ts';
import { API_VERSION } from '../output/netns-views.ts';
import { renderTable } from '../output/table.ts';
import { useColor } from '../output/terminal.ts';

export interface CleanupArgs extends GlobalArgs {
  'all-namespaces': boolean;
  output: OutputFormat;
  all: boolean;
  'dry-run': boolean;
}

export const cleanup = defineCommand<CleanupArgs>({
  name: 'cleanup',
  summary: 'Delete debug pods that kubectl-netns left behind',
  usage: 'cleanup [-n NAMESPACE | -A] [--all] [--dry-run] [-o FORMAT]',
  examples: [
    ['Remove the debug pods that ended or expired, in every namespace', 'cleanup -A'],
    ['Remove every debug pod in the debug namespace, running ones included', 'cleanup -n kubectl-netns-debug --all'],
  ],
  notes:
    'It also lists the unfinished capture files (.NAME.kubectl-netns-PID.partial) that killed runs left in the current directory, on stderr; those hold the packets up to the kill and are never deleted.',
  builder: (y) =>
    withOutputFormat(y, 'table, wide (adds the target), json, yaml or name')
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
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only list what would be deleted' }),
  run: runCleanup,
});

async function runCleanup(a: CleanupArgs): Promise<number> {
  // Local first, and whatever the cluster says: captures of killed runs in this directory.
  reportLeftoverPartials('.');
  const ctx = await runContext(a);
  const namespace = a['all-namespaces'] ? undefined : ctx.cfg.namespace;
  const pods = await listDebugPods(ctx.client, namespace);
  const where = namespace ? `namespace ${namespace}` : 'any namespace';
  const now = new Date();
  const rows: CleanupRow[] = pods.map((p) => {
    const state = leftoverState(p, now);
    // A detached capture before its deadline holds packets someone will fetch: never, even with --all.
    const chosen = state !== 'detached' && (a.all || state !== 'in use');
    return {
      namespace: p.metadata?.namespace ?? '',
      name: p.metadata?.name ?? '',
      node: p.spec?.nodeName ?? '',
      phase: p.status?.phase ?? '',
      state,
      target: p.metadata?.annotations?.[ANNOTATION_TARGET] ?? '',
      age: age(p.metadata?.creationTimestamp, now),
      action: !chosen ? 'skipped' : a['dry-run'] ? 'would delete' : 'delete',
    };
  });
  for (const r of rows) {
    if (r.action === 'delete')
      r.action = (await deleteDebugPod(ctx.client, r.namespace, r.name)) ? 'deleted' : 'already gone';
  }
  process.stdout.write(renderCleanup(rows, a.output, useColor(process.stdout)));
  if (rows.length === 0) {
    info(`no kubectl-netns debug pods in ${where}`);
    return 0;
  }
  const skipped = rows.filter((r) => r.action === 'skipped').length;
  const detached = rows.filter((r) => r.state === 'detached').length;
  const inUse = skipped - detached;
  const skipNote =
    (inUse
      ? `; skipped ${inUse} still in use by a running kubectl-netns (they end when it does; --all deletes them too)`
      : '') +
    (detached
      ? `; kept ${detached} of detached captures before their deadline (kubectl netns captures lists them; stop ID --discard deletes one)`
      : '');
  if (a['dry-run']) info(`${rows.length - skipped} debug pod(s) would be deleted (dry run)${skipNote}`);
  else info(`deleted ${rows.filter((r) => r.action === 'deleted').length} debug pod(s) in ${where}${skipNote}`);
  return 0;
}

type CleanupRow = {
  namespace: string;
  name: string;
  node: string;
  phase: string;
  state: LeftoverState;
  target: string;
  age: string;
  /** What cleanup did: deleted, skipped (in use), would delete (dry run), already gone. */
  action: string;
};

/** cleanup's output in any -o format. Pure. */
export function renderCleanup(rows: readonly CleanupRow[], format: OutputFormat, color: boolean): string {
  if (format === 'json' || format === 'yaml') {
    return renderDocument({ apiVersion: API_VERSION, kind: 'DebugPodList', items: rows }, format);
  }
  if (format === 'name') return renderNames(rows.map((r) => `pod/${r.name}`));
  if (rows.length === 0) return '';
  const columns = [
    { key: 'namespace', header: 'NAMESPACE' },
    { key: 'name', header: 'NAME' },
    { key: 'node', header: 'NODE' },
    { key: 'phase', header: 'PHASE' },
    { key: 'state', header: 'STATE' },
    { key: 'action', header: 'ACTION' },
    ...(format === 'wide' ? [{ key: 'target', header: 'TARGET' }] : []),
    { key: 'age', header: 'AGE' },
  ];
  return renderTable(columns, rows, { color });
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
