// What a command is: its name, its yargs builder and its run function, in one object. The
// command table (commands.ts) lists them; the parser, the runner and completion all read that
// table, so nothing keeps a second list of command names or flags.
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { GlobalArgs } from './global.ts';

/** One command, typed by the arguments its builder produces. */
export interface CommandSpec<A extends GlobalArgs> {
  /** The word typed after `kubectl netns`. */
  readonly name: string;
  /** Positionals after the name, in yargs notation, e.g. `<target>` or `[where]`. */
  readonly positionals?: string;
  /** One line for `kubectl netns --help`. */
  readonly summary: string;
  /** What shell completion offers for the first positional. */
  readonly completes?: PositionalCompletion;
  /** The Usage line after `kubectl netns`, kubectl-style: `exec (POD | TYPE/NAME) [-c CONTAINER] -- COMMAND [args...]`. */
  readonly usage: string;
  /** [comment, command after `kubectl netns`] pairs: --help shows them first, as kubectl does. */
  readonly examples: ReadonlyArray<readonly [string, string]>;
  /** Anything the help should say after the usage line. */
  readonly notes?: string;
  /** Adds the command's own options (examples and usage come from the fields above). */
  readonly builder: (y: Argv<GlobalArgs>) => Argv<A>;
  /** Runs the command; resolves with the process exit code. */
  readonly run: (args: ArgumentsCamelCase<A>) => Promise<number>;
}

/** Completion candidates for a positional: running pods, nodes and pods, or fixed words. */
export type PositionalCompletion = 'pods' | 'nodes-and-pods' | readonly string[];

/** Replaces `run` in tests: receives the command and its parsed arguments instead of running it. */
export type Runner = (command: string, argv: Readonly<Record<string, unknown>>) => Promise<number>;

/** A command with its argument type hidden, so commands of different shapes share one table. */
export interface Command {
  readonly name: string;
  readonly positionals: string | undefined;
  readonly summary: string;
  readonly completes: PositionalCompletion | undefined;
  readonly usage: string;
  readonly examples: ReadonlyArray<readonly [string, string]>;
  readonly notes: string | undefined;
  /** Adds the command to the parser; its handler stores the exit code in `result`. */
  register(y: Argv<GlobalArgs>, result: { code?: number }, runner?: Runner): Argv<GlobalArgs>;
  /** The command's own options on a fresh parser, for completion and help checks. */
  options(y: Argv<GlobalArgs>): Argv<GlobalArgs>;
}

/** Wraps a typed command spec as a table entry. */
export function defineCommand<A extends GlobalArgs>(spec: CommandSpec<A>): Command {
  const usage = spec.positionals ? `${spec.name} ${spec.positionals}` : spec.name;
  return {
    name: spec.name,
    positionals: spec.positionals,
    summary: spec.summary,
    completes: spec.completes,
    usage: spec.usage,
    examples: spec.examples,
    notes: spec.notes,
    register(y, result, runner) {
      return y.command(usage, spec.summary, spec.builder, async (argv) => {
        result.code = runner ? await runner(spec.name, argv) : await spec.run(argv);
      });
    },
    options(y) {
      spec.builder(y);
      return y;
    },
  };
}
