// The command-line application: runs one command from the command table (parser.ts parses argv
// with yargs), and formats any error exactly once. stdout carries data only; everything for people
// goes to stderr. --help is answered without yargs where it can be: loading yargs is ~0.1 s of CPU.
import { ExitCode, exitCodeOf, formatError } from '../errors.ts';
import { writeStderr } from '../log.ts';
import { outputFailure } from '../output/sink.ts';
import { stdoutFailure, watchStdout } from '../output/stdout.ts';
import { commands } from './commands.ts';
import { commandHelp, commandIn, globalOptionsHelp, helpWidth, rootHelp, wantsHelp, wrapText } from './help.ts';
import { exitCodeForSignal, installSignalHandlers, Interrupted, receivedSignal } from '../signals.ts';

/** What `kubectl netns --help` ends with. */
const EXIT_CODES =
  "Exit codes: 0 ok, 2 usage, 3 kubeconfig, 4 not found, 5 target not running, 6 forbidden, 7 debug pod failed, 8 connection lost, 9 agent/tcpdump, 10 output, 11 timeout, 12 some targets failed, 13 over a limit, 14 packets lost to the node's ring, 129/130/143 signal, 141 reader gone. exec returns the command's own exit code.";

/** Runs the command line; resolves with the exit code. */
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
        `${cmd ? commandHelp(cmd, columns) : rootHelp(commands, columns, wrapText(EXIT_CODES, helpWidth(columns)))}\n`,
      );
      return ExitCode.ok;
    }
    if (args.length === 1 && args[0] === 'options') {
      // The flags page, like --help, needs no parser.
      process.stdout.write(`${globalOptionsHelp(process.stdout.columns)}\n`);
      return ExitCode.ok;
    }
    const { buildParser } = await import('./parser.ts');
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
