// Which program this process is: kubectl-netns, or kubectl_complete-netns (the helper kubectl runs
// for `kubectl netns <TAB>`). The single executable is both: it answers completion when invoked
// under the helper's name (a link or copy named kubectl_complete-netns) or with the hidden first
// argument __complete (what the shipped helper script runs). The npm package has a file per bin.
// `wireshark-extcap run -- ARGS` (what Wireshark's extcap launcher runs, for every interface at
// every Wireshark start-up) goes straight to the extcap, without loading the command-line parser
// (~0.3 s); it is also an ordinary command of the table and works through it, only slower.
// `--version` and a bare `version` print one line and need nothing else: no parser either.
import { basename } from 'node:path';

/** The helper's name, as kubectl looks it up on PATH (kubectl >= 1.26). */
export const COMPLETE_NAME = 'kubectl_complete-netns';
/** Hidden first argument that turns kubectl-netns into its completion helper (as cobra's). */
export const COMPLETE_ARG = '__complete';

/** What the extcap launcher passes before Wireshark's arguments. */
const EXTCAP_ARGS = ['wireshark-extcap', 'run', '--'];

export interface Dispatch {
  program: 'plugin' | 'complete' | 'extcap' | 'version';
  /** The arguments after the program name (and after __complete). */
  args: string[];
}

/** Chooses the program from process.argv ([node or executable, invoked path, ...args]). Pure. */
export function dispatch(argv: readonly string[]): Dispatch {
  const invoked = basename(argv[1] ?? '').replace(/\.(exe|cmd|js)$/i, '');
  const args = argv.slice(2);
  if (invoked === COMPLETE_NAME) return { program: 'complete', args };
  if (args[0] === COMPLETE_ARG) return { program: 'complete', args: args.slice(1) };
  if (EXTCAP_ARGS.every((a, i) => args[i] === a)) return { program: 'extcap', args: args.slice(EXTCAP_ARGS.length) };
  if (args.length === 1 && (args[0] === '--version' || args[0] === 'version')) return { program: 'version', args: [] };
  return { program: 'plugin', args };
}

/** Runs the chosen program and exits with its code once stdout has drained. */
export async function runEntry(argv: readonly string[]): Promise<void> {
  const { program, args } = dispatch(argv);
  let code: number;
  if (program === 'complete') {
    const { completions } = await import('./complete.ts');
    process.stdout.write(await completions(args));
    code = 0;
  } else if (program === 'version') {
    const { versionLine } = await import('./version.ts');
    process.stdout.write(`${versionLine()}\n`);
    code = 0;
  } else if (program === 'extcap') {
    const [{ runExtcap }, { extcapHost }] = await Promise.all([
      import('./extcap/run.ts'),
      import('./commands/shared/extcap-host.ts'),
    ]);
    code = await runExtcap(args, extcapHost);
  } else {
    const { main } = await import('./cli/app.ts');
    code = await main(args);
  }
  // Exit explicitly once stdout has drained: idle keep-alive sockets to the API server must not
  // hold the terminal for seconds after the work is done.
  if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => process.exit(code));
  else process.exit(code);
}
