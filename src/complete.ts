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
  // Only KubeConfig, not the typed client: names come from one plain GET (list-names.ts).
  const { KubeConfig } = await import('./kube/kubeconfig-lite.ts');
  const cfg = await resolveConfig(
    { kubeconfig: req.kubeconfig, context: req.context, namespace: req.namespace },
    process.env,
    KubeConfig,
  );
  if (need.kind === 'contexts') return { words: cfg.contexts, directive: Directive.noFileComp };
  if (need.kind === 'containers') {
    const { createKubeClient } = await import('./kube/client.ts');
    const { parseTarget, resolveTarget } = await import('./kube/target.ts');
    const full = await resolveConfig({ kubeconfig: req.kubeconfig, context: req.context, namespace: req.namespace });
    const pod = (await resolveTarget(await createKubeClient(full), parseTarget(need.target), full.namespace, undefined))
      .object;
    return { words: (pod.spec?.containers ?? []).map((c) => c.name), directive: Directive.noFileComp };
  }
  const { listNames } = await import('./kube/list-names.ts');
  if (need.kind === 'namespaces')
    return { words: await listNames(cfg.kc, '/api/v1/namespaces'), directive: Directive.noFileComp };
  if (need.kind === 'nodes')
    return { words: await listNames(cfg.kc, '/api/v1/nodes'), directive: Directive.noFileComp };
  const running = encodeURIComponent('status.phase=Running');
  const pods = await listNames(
    cfg.kc,
    `/api/v1/namespaces/${encodeURIComponent(cfg.namespace)}/pods?fieldSelector=${running}`,
  );
  const nodes = need.kind === 'nodes-and-pods' ? await listNames(cfg.kc, '/api/v1/nodes').catch(() => []) : [];
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
