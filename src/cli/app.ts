// The command-line application: parses argv with yargs, runs one command from the command table,
// and formats any error exactly once. stdout carries data only; everything for people goes to stderr.
import yargs, { type Argv } from 'yargs';
import { ExitCode, exitCodeOf, formatError, usageError } from '../errors.ts';
import { configureLog, writeStderr } from '../log.ts';
import { outputFailure } from '../output/sink.ts';
import { stdoutFailure, watchStdout } from '../output/stdout.ts';
import { versionLine } from '../version.ts';
import type { Runner } from './command.ts';
import { commands } from './commands.ts';
import { commandHelp, commandIn, helpWidth, rootHelp, wantsHelp, wrapText } from './help.ts';
import { addGlobalOptions, type GlobalArgs } from './global.ts';
import { exitCodeForSignal, installSignalHandlers, Interrupted, receivedSignal } from '../signals.ts';

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

/** Runs the command line; resolves with the exit code. */
/** What `kubectl netns --help` ends with. */
const EXIT_CODES =
  "Exit codes: 0 ok, 2 usage, 3 kubeconfig, 4 not found, 5 target not running, 6 forbidden, 7 debug pod failed, 8 connection lost, 9 agent/tcpdump, 10 output, 11 timeout, 129/130/143 signal, 141 reader gone. exec returns the command's own exit code.";

export async function main(args: string[]): Promise<number> {
  installSignalHandlers();
  watchStdout();
  const verbose = args.includes('-v') || args.includes('--verbose');
  const result: { code?: number } = {};
  try {
    if (args.length === 0 || wantsHelp(args)) {
      const cmd = commandIn(args, commands);
      const columns = process.stdout.columns;
      process.stdout.write(
        `${cmd ? await commandHelp(cmd, columns) : rootHelp(commands, columns, wrapText(EXIT_CODES, helpWidth(columns)))}\n`,
      );
      return ExitCode.ok;
    }
    await buildParser(args, undefined, result).parseAsync();
    const broken = stdoutFailure();
    if (broken) throw outputFailure(broken, 'stdout', undefined);
    return result.code ?? ExitCode.ok;
  } catch (err) {
    const sig = receivedSignal();
    if (err instanceof Interrupted || (sig && !(err as { exitCode?: number }).exitCode)) {
      return exitCodeForSignal(sig ?? 'SIGINT');
    }
    writeStderr(`${formatError(err, verbose)}\n`);
    if ((err as { showUsage?: boolean }).showUsage) {
      writeStderr(`run "kubectl netns --help" or "kubectl netns COMMAND --help" for usage\n`);
    }
    return exitCodeOf(err);
  }
}
