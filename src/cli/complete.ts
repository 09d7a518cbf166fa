// What to offer when kubectl asks for completions (`kubectl netns cap<TAB>`): kubectl >= 1.26 runs
// `kubectl_complete-netns ARGS… PARTIAL` and reads one candidate per line, then `:DIRECTIVE`.
// Deciding WHAT to complete is pure; looking names up is the caller's job. Command names and flags
// come from the command table through the real parser, so they cannot drift from it.
import { commands } from './commands.ts';
import { addGlobalOptions } from './global.ts';
import { declaredOptions, type OptionSpec } from './option-specs.ts';

/** Every command name, in the table's order. */
export const COMMANDS: readonly string[] = commands.map((c) => c.name);

/** cobra's ShellCompDirective values that we use. */
export const Directive = { default: 0, noFileComp: 4 } as const;

export type CompletionNeed =
  | { kind: 'words'; words: readonly string[] }
  | { kind: 'pods' }
  | { kind: 'nodes-and-pods' }
  | { kind: 'namespaces' }
  | { kind: 'contexts' }
  | { kind: 'containers'; target: string }
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

/** What the parser knows about one command's flags: which take a value, and their fixed choices. */
interface FlagFacts {
  /** Flag spelling (`-o`, `--output`) → option key (`output`), for flags that take a value. */
  valueFlags: Map<string, string>;
  /** Every flag a user may type, long and short, hidden ones left out. */
  names: string[];
  choices: Map<string, readonly string[]>;
}

const flagFacts = new Map<string | undefined, FlagFacts>();

/** The flags of COMMAND (undefined: only the global ones), read from the builders without yargs. */
function factsFor(command: string | undefined): FlagFacts {
  let facts = flagFacts.get(command);
  if (facts) return facts;
  const cmd = commands.find((c) => c.name === command);
  const options: readonly Pick<OptionSpec, 'key' | 'aliases' | 'type' | 'hidden' | 'choices'>[] = [
    ...declaredOptions((y) => addGlobalOptions(y)).options,
    ...(cmd ? declaredOptions((y) => cmd.options(y)).options : []),
    { key: 'help', aliases: ['h'], type: 'boolean', hidden: false, choices: undefined },
  ];
  const spell = (k: string) => (k.length === 1 ? `-${k}` : `--${k}`);
  const valueFlags = new Map<string, string>();
  for (const o of options) {
    if (o.type === 'boolean') continue;
    for (const spelling of [o.key, ...o.aliases]) valueFlags.set(spell(spelling), o.key);
  }
  const names = options.filter((o) => !o.hidden).flatMap((o) => [o.key, ...o.aliases].map(spell));
  const choices = new Map<string, readonly string[]>();
  for (const o of options) if (o.choices) choices.set(o.key, o.choices);
  facts = { valueFlags, names, choices };
  flagFacts.set(command, facts);
  return facts;
}

/** Flag values by option key, where the parser has no fixed choices. */
const VALUE_NEED: Readonly<Record<string, CompletionNeed>> = {
  namespace: { kind: 'namespaces' },
  'debug-namespace': { kind: 'namespaces' },
  context: { kind: 'contexts' },
  node: { kind: 'nodes' },
  kubeconfig: { kind: 'files' },
  output: { kind: 'files' },
  interface: { kind: 'words', words: ['auto', 'any', 'eth0'] },
};

/** Parses the words kubectl passes (the last one is the word being completed). */
export function completionRequest(args: readonly string[]): CompletionRequest {
  const words = args.slice(0, -1);
  const partial = args.at(-1) ?? '';
  const req: CompletionRequest = { need: { kind: 'nothing' }, partial };
  let command: string | undefined;
  const positionals: string[] = [];
  let pending: string | undefined;
  const remember = (key: string, value: string | undefined) => {
    if (key === 'kubeconfig') req.kubeconfig = value;
    if (key === 'context') req.context = value;
    if (key === 'namespace') req.namespace = value;
  };
  for (const w of words) {
    if (w === '--') return { ...req, need: { kind: 'nothing' } }; // filter words / remote commands: free text
    if (pending) {
      remember(pending, w);
      pending = undefined;
      continue;
    }
    if (w.startsWith('-')) {
      const [flag, value] = w.split('=', 2) as [string, string | undefined];
      const key = factsFor(command).valueFlags.get(flag);
      if (key && value === undefined) pending = key;
      else if (key) remember(key, value);
      continue;
    }
    if (!command) command = w;
    else positionals.push(w);
  }
  if (pending) {
    const choices = factsFor(command).choices.get(pending);
    if (pending === 'container' && positionals[0])
      return { ...req, need: { kind: 'containers', target: positionals[0] } };
    return { ...req, need: choices ? { kind: 'words', words: choices } : (VALUE_NEED[pending] ?? { kind: 'nothing' }) };
  }
  if (partial.startsWith('-')) return { ...req, need: { kind: 'words', words: factsFor(command).names } };
  if (!command) return { ...req, need: { kind: 'words', words: COMMANDS } };
  if (positionals.length > 0) return req;
  const completes = commands.find((c) => c.name === command)?.completes;
  if (typeof completes === 'object') return { ...req, need: { kind: 'words', words: completes } };
  return { ...req, need: completes ? { kind: completes } : { kind: 'nothing' } };
}

/** The lines kubectl reads: matching candidates, then the directive. Pure. */
export function completionOutput(candidates: readonly string[], partial: string, directive: number): string {
  const lines = [...new Set(candidates)].filter((c) => c.startsWith(partial)).sort();
  return `${[...lines, `:${directive}`].join('\n')}\n`;
}
