// Wireshark's extcap sentences, one per line: `KEYWORD {key=value}{key=value}...`. Wireshark's
// parser (extcap_parser.c) has no escapes: a value ends at the first "}" followed by "{", a space
// or the end of the line, and a sentence ends at the newline. So text that comes from elsewhere
// (context names, pod names, API messages) is made safe here, once, instead of trusted. Pure.

/** A parameter value; `{ raw }` is written as it is (a regular expression, whose braces are its own). */
export type ParamValue = string | number | boolean | { raw: string } | undefined;
export type Params = ReadonlyArray<readonly [string, ParamValue]>;

/** One parameter's text. */
function paramValue(v: Exclude<ParamValue, undefined>): string {
  if (typeof v === 'string') return paramText(v);
  if (typeof v === 'object') return v.raw.replace(/[\r\n]+/g, ' ');
  return String(v);
}

/** TEXT as one parameter value: one line, no braces, no control characters. */
export function paramText(text: string): string {
  return text
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .replace(/\{/g, '(')
    .replace(/\}/g, ')')
    .trim();
}

/** One sentence; parameters whose value is undefined are left out. */
export function sentence(
  keyword: 'extcap' | 'interface' | 'dlt' | 'arg' | 'value' | 'control',
  params: Params,
): string {
  const parts = params.filter(([, v]) => v !== undefined).map(([k, v]) => `{${k}=${paramValue(v!)}}`);
  return `${keyword} ${parts.join('')}`;
}

/** The sentences as Wireshark reads them: one per line, each ended by a newline. */
export function sentences(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

/** One option of the dialog (an `arg` sentence). */
export interface ArgSpec {
  number: number;
  /** The command-line option, e.g. --namespace. */
  call: string;
  display: string;
  type: 'string' | 'integer' | 'unsigned' | 'boolflag' | 'selector';
  tooltip?: string;
  placeholder?: string;
  default?: string | number | boolean;
  range?: readonly [number, number];
  required?: boolean;
  /** A selector whose values a button reloads (`--extcap-reload-option`). */
  reload?: boolean;
  /** A regular expression the GUI checks the value against (Qt syntax). */
  validation?: string;
  /** The dialog's tab. */
  group?: string;
}

/** An `arg` sentence. */
export function argSentence(a: ArgSpec): string {
  return sentence('arg', [
    ['number', a.number],
    ['call', a.call],
    ['display', a.display],
    ['tooltip', a.tooltip],
    ['placeholder', a.placeholder],
    ['type', a.type],
    ['default', a.default],
    ['range', a.range ? `${a.range[0]},${a.range[1]}` : undefined],
    ['required', a.required ? 'true' : undefined],
    ['reload', a.reload ? 'true' : undefined],
    // A regular expression is passed as written: replacing its braces would change it.
    ['validation', a.validation === undefined ? undefined : { raw: a.validation }],
    ['group', a.group],
  ]);
}

/** One choice of a selector (a `value` sentence). */
export interface ValueSpec {
  arg: number;
  value: string;
  display: string;
  default?: boolean;
}

/** A `value` sentence. */
export function valueSentence(v: ValueSpec): string {
  return sentence('value', [
    ['arg', v.arg],
    ['value', v.value],
    ['display', v.display],
    ['default', v.default ? 'true' : undefined],
  ]);
}
