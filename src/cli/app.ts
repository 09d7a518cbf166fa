// The command-line application: parses argv with yargs, runs one command, and formats any error
// exactly once. stdout carries data only; everything for people goes to stderr.
import yargs, { type Argv } from 'yargs';
import { ExitCode, exitCodeOf, formatError, usageError } from '../errors.ts';
import { configureLog } from '../log.ts';
import { addGlobalOptions, type GlobalArgs } from './global.ts';
import { installSignalHandlers, receivedSignal, exitCodeForSignal, Interrupted } from './signals.ts';
import { registerCapture } from '../commands/capture.ts';
import { registerCleanup } from '../commands/cleanup.ts';
import { registerExec } from '../commands/exec.ts';
import { registerInspect } from '../commands/inspect.ts';
import { registerLs } from '../commands/ls.ts';
import { registerShell } from '../commands/shell.ts';
import { registerWhoHas } from '../commands/whohas.ts';
import { VERSION } from '../version.ts';
import type { CommandRunner } from './runner.ts';

/** The parser, separate from running it so tests can parse real argv strings. */
export function buildParser(args: string[], run?: CommandRunner): Argv<GlobalArgs> {
  let y = addGlobalOptions(yargs(args))
    .scriptName('kubectl netns')
    .usage('$0 <command> [options]\n\nCapture packets and run tools inside a pod\'s network namespace.')
    .parserConfiguration({ 'populate--': true, 'strip-aliased': true, 'strip-dashed': false })
    .middleware((argv) => configureLog({ level: argv.quiet ? 'quiet' : argv.verbose ? 'verbose' : 'normal' }));
  y = registerCapture(y, run);
  y = registerExec(y, run);
  y = registerShell(y, run);
  y = registerInspect(y, run);
  y = registerLs(y, run);
  y = registerWhoHas(y, run);
  y = registerCleanup(y, run);
  return y
    .demandCommand(1, 'a command is required')
    .strict()
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stderr.columns ?? 100))
    .epilogue('Exit codes: 0 ok, 2 usage, 3 kubeconfig, 4 not found, 5 target not running, 6 forbidden, 7 debug pod failed, 8 connection lost, 9 agent/tcpdump, 10 output, 11 timeout, 130 interrupted.\nexec returns the command\'s own exit code.')
    .fail((msg, err) => {
      if (err) throw err;
      throw usageError(msg ?? 'invalid arguments');
    })
    .exitProcess(false);
}

export async function main(args: string[]): Promise<number> {
  installSignalHandlers();
  const verbose = args.includes('-v') || args.includes('--verbose');
  try {
    await buildParser(args).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    const sig = receivedSignal();
    if (err instanceof Interrupted || (sig && !(err as { exitCode?: number }).exitCode)) {
      return exitCodeForSignal(sig ?? 'SIGINT');
    }
    process.stderr.write(`${formatError(err, verbose)}\n`);
    if ((err as { showUsage?: boolean }).showUsage) {
      process.stderr.write(`run "kubectl netns --help" or "kubectl netns COMMAND --help" for usage\n`);
    }
    return exitCodeOf(err);
  }
}
