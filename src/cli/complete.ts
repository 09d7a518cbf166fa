// What to offer when kubectl asks for completions (`kubectl netns cap<TAB>`): kubectl >= 1.26 runs
// `kubectl_complete-netns ARGS… PARTIAL` and reads one candidate per line, then `:DIRECTIVE`.
// Deciding WHAT to complete is pure; looking names up is the caller's job.
import { OUTPUT_FORMATS } from '../output/netns-views.ts';

export const COMMANDS = ['capture', 'exec', 'shell', 'inspect', 'ls', 'whohas', 'cleanup'] as const;

/** cobra's ShellCompDirective values that we use. */
export const Directive = { default: 0, noFileComp: 4 } as const;

export type CompletionNeed =
  | { kind: 'words'; words: readonly string[] }
  | { kind: 'pods' }
  | { kind: 'nodes-and-pods' }
  | { kind: 'namespaces' }
  | { kind: 'contexts' }
  | { kind: 'nodes' }
  | { kind: 'files' }
  | { kind: 'nothing' };

export interface CompletionRequest {
  need: CompletionNeed;
  partial: string;
  /** Global flags seen so far, so lookups use the same cluster and namespace as the command would. */
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

// Flags that take a value, so the word after them is not a command or a target.
const VALUE_FLAGS = new Set([
  '--kubeconfig', '--context', '-n', '--namespace', '--image', '--debug-namespace', '--pod-timeout',
  '-c', '--container', '-f', '--filter', '-i', '--interface', '-s', '--snaplen', '--count', '--duration',
  '-o', '--output', '--buffer-size', '--node', '--parallel',
]);

/** Parses the words kubectl passes (the last one is the word being completed). Pure. */
export function completionRequest(args: readonly string[]): CompletionRequest {
  const words = args.slice(0, -1);
  const partial = args.at(-1) ?? '';
  const req: CompletionRequest = { need: { kind: 'nothing' }, partial };
  let command: string | undefined;
  const positionals: string[] = [];
  let pendingFlag: string | undefined;
  for (const w of words) {
    if (w === '--') return { ...req, need: { kind: 'nothing' } }; // filter words / remote commands: free text
    if (pendingFlag) {
      if (pendingFlag === '--kubeconfig') req.kubeconfig = w;
      if (pendingFlag === '--context') req.context = w;
      if (pendingFlag === '-n' || pendingFlag === '--namespace') req.namespace = w;
      pendingFlag = undefined;
      continue;
    }
    if (w.startsWith('-')) {
      const [flag, value] = w.split('=', 2) as [string, string | undefined];
      if (VALUE_FLAGS.has(flag) && value === undefined) pendingFlag = flag;
      else if (flag === '--namespace' || flag === '-n') req.namespace = value;
      else if (flag === '--context') req.context = value;
      else if (flag === '--kubeconfig') req.kubeconfig = value;
      continue;
    }
    if (!command) command = w;
    else positionals.push(w);
  }
  if (pendingFlag) {
    const byFlag: Record<string, CompletionNeed> = {
      '-n': { kind: 'namespaces' },
      '--namespace': { kind: 'namespaces' },
      '--debug-namespace': { kind: 'namespaces' },
      '--context': { kind: 'contexts' },
      '--node': { kind: 'nodes' },
      '--kubeconfig': { kind: 'files' },
      '-i': { kind: 'words', words: ['auto', 'any', 'eth0'] },
      '--interface': { kind: 'words', words: ['auto', 'any', 'eth0'] },
    };
    let need = byFlag[pendingFlag] ?? { kind: 'nothing' };
    if (pendingFlag === '-o' || pendingFlag === '--output') need = command === 'capture' ? { kind: 'files' } : { kind: 'words', words: OUTPUT_FORMATS };
    return { ...req, need };
  }
  if (partial.startsWith('-')) return req;
  if (!command) return { ...req, need: { kind: 'words', words: COMMANDS } };
  if (positionals.length > 0) return req;
  if (command === 'ls') return { ...req, need: { kind: 'nodes-and-pods' } };
  if (command === 'capture' || command === 'exec' || command === 'shell' || command === 'inspect') return { ...req, need: { kind: 'pods' } };
  return req;
}

/** The lines kubectl reads: matching candidates, then the directive. Pure. */
export function completionOutput(candidates: readonly string[], partial: string, directive: number): string {
  const lines = [...new Set(candidates)].filter((c) => c.startsWith(partial)).sort();
  return `${[...lines, `:${directive}`].join('\n')}\n`;
}
