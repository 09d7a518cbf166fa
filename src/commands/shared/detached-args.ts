// The options fetch and stop share: the ID, and where to look for its debug pods.
import type { Argv } from 'yargs';
import type { GlobalArgs, RunContext } from '../../cli/global.ts';

export interface DetachedArgs extends GlobalArgs {
  id: string;
  'all-namespaces'?: boolean | undefined;
}

/** ID and -A, as fetch and stop take them. */
export function withDetachedId<T extends GlobalArgs>(
  y: Argv<T>,
): Argv<T & { id: string; 'all-namespaces': boolean | undefined }> {
  return y
    .positional('id', { type: 'string', demandOption: true, describe: 'The ID `capture --detach` printed' })
    .option('all-namespaces', {
      alias: 'A',
      type: 'boolean',
      describe: 'Look for its debug pods in every namespace, not just -n / the context namespace',
    });
}

/** Where a detached capture's debug pods are looked for: --debug-namespace, -n, or everywhere with -A. */
export function detachedNamespace(ctx: RunContext, a: DetachedArgs): string | undefined {
  return a['all-namespaces'] ? undefined : (ctx.debugNamespace ?? ctx.cfg.namespace);
}
