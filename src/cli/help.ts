// --help laid out the way kubectl's is: what the command does, Examples with `#` comment lines
// first, then its Options, then the Usage line (with `-- COMMAND` where it takes one). Global
// flags have their own page, `kubectl netns options`, as kubectl has `kubectl options`. Flags are
// listed as kubectl lists them, read from the builders without loading yargs (~0.1 s of CPU).
import type { Command } from './command.ts';
import { addGlobalOptions } from './global.ts';
import { declaredOptions, type OptionSpec } from './option-specs.ts';

/** Help never wraps narrower than this, nor wider than that, whatever the terminal says. */
const MIN_COLUMNS = 80;
const MAX_COLUMNS = 120;
/** A tab, as terminals show it: the indent of a flag's description, as in kubectl. */
const TAB = 8;
/** -h, listed with a command's own options (it is answered before parsing, not by yargs). */
const HELP: OptionSpec = {
  key: 'help',
  aliases: ['h'],
  type: 'boolean',
  array: false,
  describe: 'Show this help',
  default: undefined,
  choices: undefined,
  hidden: false,
  group: undefined,
};

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

/** How one flag is spelled in help, kubectl-style: `-c, --container='':`, value shown as its default. */
function flagLine(o: OptionSpec): string {
  const spell = (k: string) => (k.length === 1 ? `-${k}` : `--${k}`);
  const names = [...o.aliases.filter((a) => a.length === 1), o.key, ...o.aliases.filter((a) => a.length > 1)];
  const d = o.default;
  const shown = typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean' ? String(d) : '';
  let value: string;
  if (o.type === 'boolean') value = `=${shown || 'false'}`;
  else if (o.array) value = `=[${Array.isArray(d) ? d.map(String).join(',') : ''}]`;
  else if (o.type === 'number' || o.type === 'count') value = shown ? `=${shown}` : '';
  else value = `='${shown}'`;
  return `    ${names.map(spell).join(', ')}${value}:`;
}

/** A list of flags as kubectl prints them: the flag, then its description on tab-indented lines. */
function flagList(title: string, options: readonly OptionSpec[], width: number): string {
  const entries = options.map((o) => {
    const choices = o.choices ? ` (one of: ${o.choices.join(', ')})` : '';
    const text = wrapText(`${o.describe ?? ''}${choices}`, width - TAB, '\t');
    return text ? `${flagLine(o)}\n${text}` : flagLine(o);
  });
  return `${title}\n${entries.join('\n\n')}`;
}

/** Positionals, listed by their usage name with the same layout. */
function argumentList(positionals: readonly OptionSpec[], width: number): string {
  const entries = positionals.map(
    (p) => `    ${p.key.toUpperCase()}:\n${wrapText(p.describe ?? '', width - TAB, '\t')}`,
  );
  return `Arguments:\n${entries.join('\n\n')}`;
}

/** One command's help. */
export function commandHelp(cmd: Command, columns: number | undefined): string {
  const width = helpWidth(columns);
  const examples = cmd.examples.map(([comment, command]) => `  # ${comment}\n  kubectl netns ${command}`).join('\n\n');
  const declared = declaredOptions((y) => cmd.options(y));
  const options = declared.options.filter((o) => !o.hidden);
  return [
    wrapText(`${cmd.summary}.`, width),
    `Examples:\n${examples}`,
    ...(declared.positionals.length ? [argumentList(declared.positionals, width)] : []),
    flagList('Options:', [HELP, ...options], width),
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
export function globalOptionsHelp(columns: number | undefined): string {
  const width = helpWidth(columns);
  const options = declaredOptions((y) => addGlobalOptions(y)).options.filter((o) => !o.hidden);
  const groups = [...new Set(options.map((o) => o.group ?? 'Options:'))];
  return [
    wrapText('The following options can be passed to any command:', width),
    ...groups.map((g) =>
      flagList(
        g,
        options.filter((o) => (o.group ?? 'Options:') === g),
        width,
      ),
    ),
  ].join('\n\n');
}
