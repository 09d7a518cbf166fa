#!/usr/bin/env node
// kubectl_complete-netns: kubectl (>= 1.26) runs it for `kubectl netns <TAB>`. It must never
// print an error: a lookup that fails (no cluster, no permission) just offers nothing.
import { completionOutput, completionRequest, Directive, type CompletionRequest } from './cli/complete.ts';

async function candidates(req: CompletionRequest): Promise<{ words: string[]; directive: number }> {
  const need = req.need;
  if (need.kind === 'words') return { words: [...need.words], directive: Directive.noFileComp };
  if (need.kind === 'files') return { words: [], directive: Directive.default };
  if (need.kind === 'nothing') return { words: [], directive: Directive.noFileComp };
  const { resolveConfig } = await import('./kube/config.ts');
  const { createKubeClient } = await import('./kube/client.ts');
  const cfg = await resolveConfig({ kubeconfig: req.kubeconfig, context: req.context, namespace: req.namespace });
  if (need.kind === 'contexts') return { words: cfg.contexts, directive: Directive.noFileComp };
  const client = await createKubeClient(cfg);
  const names = <T extends { metadata?: { name?: string } }>(items: T[]) =>
    items.map((i) => i.metadata?.name ?? '').filter(Boolean);
  if (need.kind === 'namespaces')
    return { words: names(await client.listNamespaces()), directive: Directive.noFileComp };
  if (need.kind === 'nodes') return { words: names(await client.listNodes()), directive: Directive.noFileComp };
  if (need.kind === 'containers') {
    const { parseTarget, resolveTarget } = await import('./kube/target.ts');
    const pod = (await resolveTarget(client, parseTarget(need.target), cfg.namespace, undefined)).object;
    return { words: (pod.spec?.containers ?? []).map((c) => c.name), directive: Directive.noFileComp };
  }
  const pods = names((await client.listPods(cfg.namespace)).filter((p) => p.status?.phase === 'Running'));
  const nodes = need.kind === 'nodes-and-pods' ? names(await client.listNodes().catch(() => [])) : [];
  return { words: [...nodes, ...pods], directive: Directive.noFileComp };
}

/** kubectl's completion lines for ARGS (the last word is the one being completed); never fails. */
export async function completions(args: readonly string[]): Promise<string> {
  const req = completionRequest(args.length > 0 ? args : ['']);
  let out = { words: [] as string[], directive: Directive.noFileComp as number };
  try {
    out = await candidates(req);
  } catch {
    // Offer nothing rather than an error in the middle of someone's command line.
  }
  return completionOutput(out.words, req.partial, out.directive);
}

// Run directly as the npm package's kubectl_complete-netns bin. The single executable reaches
// completions() through entry.ts instead (the release bundle defines import.meta.main as false).
if (import.meta.main) {
  void import('./cli/compile-cache.ts')
    .then(({ useCompileCache }) => useCompileCache())
    .then(() => completions(process.argv.slice(2)))
    .then((text) => {
      process.stdout.write(text);
      process.exit(0);
    });
}
