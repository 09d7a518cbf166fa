// --help laid out the way kubectl's is: what the command does, Examples with `#` comment lines
// first, then its Options, then the Usage line (with `-- COMMAND` where it takes one). Global
// flags have their own page, `kubectl netns options`, as kubectl has `kubectl options`. yargs
// renders the option tables (wrapped to the terminal), loaded only for them; the rest is laid out here.
import type { Argv } from 'yargs';
import type { Command } from './command.ts';
import { addGlobalOptions } from './global.ts';

/** Help never wraps narrower than this, nor wider than that, whatever the terminal says. */
const MIN_COLUMNS = 80;
const MAX_COLUMNS = 120;

/** The width to lay help out for: the terminal's, within 80–120 columns. */
export function helpWidth(columns: number | undefined): number {
  return Math.max(MIN_COLUMNS, Math.min(MAX_COLUMNS, columns || 100));
}

/** TEXT wrapped at WIDTH on spaces, each line indented by INDENT. Pure. */
export function wrapText(text: string, width: number, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

/** Does ARGS ask for help (before any `--`, after which words belong to the remote command)? */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
}

/** The command ARGS name, if any: the first word that is not a flag or a flag's value. */
export function commandIn(args: readonly string[], commands: readonly Command[]): Command | undefined {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).map((a) => commands.find((c) => c.name === a)).find(Boolean);
}

/** The option tables yargs lays out for Y, without its own usage line. */
async function optionTables<T>(y: Argv<T>, width: number): Promise<string> {
  return (await y.scriptName('kubectl netns').wrap(width).getHelp()).trim();
}

type Yargs = typeof import('yargs').default;

/** A parser without yargs' built-in --help and --version, whose tables we print ourselves. */
function bare(yargs: Yargs): Argv {
  return yargs([]).help(false).version(false);
}

/** The global flags' names, which a command's own help leaves to `kubectl netns options`. */
function globalKeys(yargs: Yargs): string[] {
  return Object.keys(addGlobalOptions(yargs([])).getOptions().key).filter((k) => k !== 'help' && k !== 'version');
}

/** One command's help. */
export async function commandHelp(cmd: Command, columns: number | undefined): Promise<string> {
  const width = helpWidth(columns);
  const examples = cmd.examples.map(([comment, command]) => `  # ${comment}\n  kubectl netns ${command}`).join('\n\n');
  const { default: yargs } = await import('yargs');
  // yargs' own help option is off (ours is answered before parsing); -h is listed as an option.
  const y = cmd.options(
    addGlobalOptions(bare(yargs)).option('help', { alias: 'h', type: 'boolean', describe: 'Show this help' }),
  );
  for (const k of globalKeys(yargs)) y.hide(k);
  const options = await optionTables(y, width);
  return [
    wrapText(`${cmd.summary}.`, width),
    `Examples:\n${examples}`,
    options,
    `Usage:\n  kubectl netns ${cmd.usage}`,
    ...(cmd.notes ? [wrapText(cmd.notes, width)] : []),
    wrapText(
      'Use "kubectl netns options" for the options every command takes (kubeconfig, namespace, debug image, ...).',
      width,
    ),
  ].join('\n\n');
}

/** `kubectl netns --help`: what it is, the commands, how to go on. */
export function rootHelp(commands: readonly Command[], columns: number | undefined, epilogue: string): string {
  const width = helpWidth(columns);
  const nameWidth = Math.max(...commands.map((c) => c.name.length)) + 2;
  const list = commands
    .map((c) => {
      const text = wrapText(c.summary, width, ' '.repeat(2 + nameWidth));
      return `  ${c.name.padEnd(nameWidth)}${text.trimStart()}`;
    })
    .join('\n');
  return [
    wrapText(
      "Capture packets and run tools inside a pod's network namespace, and diagnose a node's network namespaces.",
      width,
    ),
    `Commands:\n${list}`,
    'Usage:\n  kubectl netns COMMAND [options]',
    wrapText(
      'Use "kubectl netns COMMAND --help" for more about a command, and "kubectl netns options" for the options every command takes.',
      width,
    ),
    epilogue,
  ].join('\n\n');
}

/** `kubectl netns options`: the flags every command takes. */
export async function globalOptionsHelp(columns: number | undefined): Promise<string> {
  const width = helpWidth(columns);
  const { default: yargs } = await import('yargs');
  const tables = await optionTables(addGlobalOptions(bare(yargs)), width);
  return [wrapText('The following options can be passed to any command:', width), tables].join('\n\n');
}
