// The options a builder declares, read without yargs: help and completion need only their names,
// aliases, types, defaults and descriptions, and loading yargs costs ~0.1 s of CPU before anything
// is printed. A builder is run against a recorder that keeps what .option() and .positional() say;
// every other call (conflicts, check, ...) only matters for parsing and is passed over. A unit test
// holds this reading equal to yargs' own for every command, so the two cannot drift apart.
import type { Argv, Options, PositionalOptions } from 'yargs';
import type { GlobalArgs } from './global.ts';

/** One option or positional as declared. */
export interface OptionSpec {
  readonly key: string;
  readonly aliases: readonly string[];
  readonly type: 'string' | 'boolean' | 'number' | 'count' | undefined;
  readonly array: boolean;
  readonly describe: string | undefined;
  readonly default: unknown;
  readonly choices: readonly string[] | undefined;
  readonly hidden: boolean;
  readonly group: string | undefined;
}

/** What a builder declared, in declaration order. */
export interface DeclaredOptions {
  readonly options: OptionSpec[];
  readonly positionals: OptionSpec[];
}

/** Normalises one yargs option declaration. */
function spec(key: string, o: Options | PositionalOptions): OptionSpec {
  const alias = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias];
  const choices =
    o.choices === undefined ? undefined : (Array.isArray(o.choices) ? o.choices : [o.choices]).map(String);
  return {
    key,
    aliases: alias.map(String),
    type: o.type as OptionSpec['type'],
    array: Boolean(o.array),
    describe: typeof o.describe === 'string' ? o.describe : undefined,
    default: o.default,
    choices,
    hidden: Boolean((o as Options).hidden),
    group: typeof (o as Options).group === 'string' ? (o as Options).group : undefined,
  };
}

/** Adds S to LIST; a key declared again keeps its place and takes the new fields, as in yargs. */
function declare(list: OptionSpec[], s: OptionSpec): void {
  const at = list.findIndex((o) => o.key === s.key);
  if (at === -1) list.push(s);
  else {
    const old = list[at]!;
    list[at] = {
      ...s,
      aliases: [...new Set([...old.aliases, ...s.aliases])],
      type: s.type ?? old.type,
      describe: s.describe ?? old.describe,
      default: s.default ?? old.default,
      choices: s.choices ?? old.choices,
      group: s.group ?? old.group,
    };
  }
}

/** Runs BUILD against a recorder and returns what it declared. */
export function declaredOptions(build: (y: Argv<GlobalArgs>) => unknown): DeclaredOptions {
  const options: OptionSpec[] = [];
  const positionals: OptionSpec[] = [];
  const hide = new Set<string>();
  const recorder: object = new Proxy(
    {},
    {
      get(_t, name) {
        switch (name) {
          case 'option':
          case 'options':
            return (key: string | Record<string, Options>, o?: Options) => {
              for (const [k, v] of typeof key === 'string' ? [[key, o ?? {}] as const] : Object.entries(key)) {
                declare(options, spec(k, v));
              }
              return recorder;
            };
          case 'positional':
            return (key: string, o: PositionalOptions) => {
              declare(positionals, spec(key, o));
              return recorder;
            };
          case 'hide':
            return (key: string) => {
              hide.add(key);
              return recorder;
            };
          case 'then':
            return undefined; // not a promise
          default:
            return () => recorder;
        }
      },
    },
  );
  build(recorder as Argv<GlobalArgs>);
  return {
    options: options.map((o) => (hide.has(o.key) ? { ...o, hidden: true } : o)),
    positionals,
  };
}
