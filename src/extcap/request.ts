// Wireshark's extcap command line, parsed into the one request it makes. Wireshark runs an extcap
// for each step (doc/wsdg_src/wsdg_capture.adoc in Wireshark's sources):
//   --extcap-interfaces [--extcap-version=X.Y]            what interfaces there are
//   --extcap-interface IF --extcap-dlts                   the link types of one
//   --extcap-interface IF --extcap-config                 its options dialog
//     [--extcap-reload-option NAME OPTIONS...]            one list of values, for a reload button
//   --extcap-interface IF --extcap-capture-filter F       is F a valid capture filter?
//   --capture --extcap-interface IF --fifo PATH [--extcap-capture-filter F]
//     [--extcap-control-in PATH --extcap-control-out PATH] OPTIONS...
// Values come as separate words (--name VALUE, as Wireshark passes them) or as --name=value. The
// word after a value option is always its value, whatever it looks like: a dialog value such as
// `--fifo=/tmp/theirs` must stay the value it is, not replace the FIFO Wireshark passed. Pure: no I/O.
import { usageError } from '../errors.ts';
import { isOptionName, OPTION_KINDS, type ExtcapOptions } from './options.ts';

export type ExtcapRequest =
  | { kind: 'interfaces'; wiresharkVersion: string | undefined }
  | { kind: 'dlts'; iface: string }
  | { kind: 'config'; iface: string; reload: string | undefined; options: ExtcapOptions }
  | { kind: 'filter-check'; iface: string; filter: string }
  | {
      kind: 'capture';
      iface: string;
      fifo: string;
      filter: string | undefined;
      /** Where Wireshark's toolbar sends us control messages (we must open it, or the GUI waits). */
      controlIn: string | undefined;
      /** Where we send toolbar messages: the log window's lines. */
      controlOut: string | undefined;
      options: ExtcapOptions;
    };

/** Protocol options that take a value. */
const PROTOCOL_VALUES = new Set([
  'extcap-interface',
  'extcap-version',
  'extcap-capture-filter',
  'extcap-reload-option',
  'extcap-control-in',
  'extcap-control-out',
  'fifo',
  // extcap-base.c's logging options, which some Wireshark versions pass to every extcap.
  'debug-file',
]);
/** Protocol options that are flags. */
const PROTOCOL_FLAGS = new Set(['extcap-interfaces', 'extcap-dlts', 'extcap-config', 'capture', 'debug']);

/** Splits WORDS into option names and values, checking each name. */
function scan(words: readonly string[]): { values: Map<string, string>; flags: Set<string>; options: ExtcapOptions } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const options: Record<string, string | boolean> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith('--')) throw usageError(`unexpected word "${word}" on the extcap command line`);
    const eq = word.indexOf('=');
    const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
    const inline = eq === -1 ? undefined : word.slice(eq + 1);
    const takesValue = PROTOCOL_VALUES.has(name) || (isOptionName(name) && OPTION_KINDS[name] === 'value');
    const isFlag = PROTOCOL_FLAGS.has(name) || (isOptionName(name) && OPTION_KINDS[name] === 'flag');
    if (!takesValue && !isFlag) throw usageError(`unknown option --${name} on the extcap command line`);
    if (takesValue) {
      // Wireshark leaves empty fields out; a hand-written empty value is --name= (or the last word).
      let value = inline;
      if (value === undefined && i + 1 < words.length) value = words[++i];
      value ??= '';
      if (isOptionName(name)) options[name] = value;
      else values.set(name, value);
      continue;
    }
    // A flag: present means on. Some callers spell it out as "--flag true"/"--flag false" or "--flag=".
    let on = inline === undefined || /^(true|1|yes)$/i.test(inline);
    const next = words[i + 1];
    if (inline === undefined && next !== undefined && /^(true|false|1|0|yes|no|)$/i.test(next)) {
      on = /^(true|1|yes)$/i.test(next);
      i++;
    }
    if (isOptionName(name)) options[name] = on;
    else if (on) flags.add(name);
  }
  return { values, flags, options };
}

/** The request WORDS (everything after the launcher's `--`) make. Throws a usage error for anything else. */
export function parseExtcapRequest(words: readonly string[]): ExtcapRequest {
  const { values, flags, options } = scan(words);
  if (flags.has('extcap-interfaces')) return { kind: 'interfaces', wiresharkVersion: values.get('extcap-version') };
  const iface = values.get('extcap-interface');
  if (!iface) {
    throw usageError(
      'no extcap request: Wireshark runs this with --extcap-interfaces, or --extcap-interface IF and one of --extcap-dlts, --extcap-config, --capture',
      'install it into Wireshark with `kubectl netns wireshark-extcap install`',
    );
  }
  if (flags.has('capture')) {
    const fifo = values.get('fifo');
    if (!fifo) throw usageError('--capture needs --fifo PATH (Wireshark passes it)');
    return {
      kind: 'capture',
      iface,
      fifo,
      filter: values.get('extcap-capture-filter') || undefined,
      controlIn: values.get('extcap-control-in') || undefined,
      controlOut: values.get('extcap-control-out') || undefined,
      options,
    };
  }
  if (flags.has('extcap-dlts')) return { kind: 'dlts', iface };
  if (flags.has('extcap-config')) {
    return { kind: 'config', iface, reload: values.get('extcap-reload-option') || undefined, options };
  }
  const filter = values.get('extcap-capture-filter');
  if (filter !== undefined) return { kind: 'filter-check', iface, filter };
  throw usageError(`no extcap request for interface ${iface}: expected --extcap-dlts, --extcap-config or --capture`);
}
