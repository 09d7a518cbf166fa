// The yargs parser of the command line: the global flags, then one entry per command of the
// command table, each running its command. Loaded only when a command line is to be parsed.
import yargs, { type Argv } from 'yargs';
import { usageError } from '../errors.ts';
import { configureLog } from '../log.ts';
import { versionLine } from '../version.ts';
import type { Runner } from './command.ts';
import { commands } from './commands.ts';
import { addGlobalOptions, type GlobalArgs } from './global.ts';

/** yargs settings every parser of ours uses (the real one and completion's). */
function baseParser(args: string[]): Argv<GlobalArgs> {
  return addGlobalOptions(yargs(args)).parserConfiguration({
    'populate--': true,
    'strip-aliased': true,
    'strip-dashed': false,
    // Words after -- and positionals reach the node exactly as typed: 0x10 stays 0x10, not 16.
    'parse-positional-numbers': false,
  });
}

/** The parser, separate from running it so tests can parse real argv strings (with RUNNER recording instead of running). */
export function buildParser(args: string[], runner?: Runner, result: { code?: number } = {}): Argv<GlobalArgs> {
  let y = baseParser(args)
    .scriptName('kubectl netns')
    .usage("$0 <command> [options]\n\nCapture packets and run tools inside a pod's network namespace.")
    .middleware((argv) => configureLog({ level: argv.quiet ? 'quiet' : argv.verbose ? 'verbose' : 'normal' }));
  for (const c of commands) y = c.register(y, result, runner);
  return y
    .demandCommand(1, 'a command is required')
    .strict()
    .recommendCommands()
    .version(versionLine())
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stderr.columns ?? 100))
    .epilogue(
      "Exit codes: 0 ok, 2 usage, 3 kubeconfig, 4 not found, 5 target not running, 6 forbidden, 7 debug pod failed, 8 connection lost, 9 agent/tcpdump, 10 output, 11 timeout, 130 interrupted.\nexec returns the command's own exit code.",
    )
    .fail((msg, err) => {
      if (err) throw err;
      throw usageError(msg ?? 'invalid arguments');
    })
    .exitProcess(false);
}
