// The options our Wireshark interfaces take, in one table: the options dialog is built from it
// (config.ts), the command-line parser reads it to know which words take a value (request.ts), and
// the capture command line is made from the values (capture-argv.ts). Wireshark passes each as
// `--NAME VALUE` (a flag as `--NAME` alone), and saves each as the preference
// extcap.<interface>.<NAME without dashes>.

/** The values of our options, as Wireshark passed them (absent: not given). */
export interface ExtcapOptions {
  namespace?: string | undefined;
  pod?: string | undefined;
  selector?: string | undefined;
  container?: string | undefined;
  interface?: string | undefined;
  snaplen?: string | undefined;
  'host-side'?: boolean | undefined;
  'debug-namespace'?: string | undefined;
  image?: string | undefined;
  privileged?: boolean | undefined;
}

export type OptionName = keyof ExtcapOptions;

/** A flag is present or not (Wireshark's boolflag); every other option takes one value. */
export type OptionKind = 'value' | 'flag';

export const OPTION_KINDS: Readonly<Record<OptionName, OptionKind>> = {
  namespace: 'value',
  pod: 'value',
  selector: 'value',
  container: 'value',
  interface: 'value',
  snaplen: 'value',
  'host-side': 'flag',
  'debug-namespace': 'value',
  image: 'value',
  privileged: 'flag',
};

/** Is NAME (without dashes) one of our options? */
export function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(OPTION_KINDS, name);
}
