// Tables and JSON for stdout, in the style of `kubectl get`: aligned columns, no borders.
// The only place that imports cli-table3, so its quirks stay here. The caller decides colour
// (stdout is a TTY and NO_COLOR unset); we never let cli-table3 or its colour library guess,
// because they colour output even when it is piped.

import Table from 'cli-table3';
import { safeText } from './terminal.ts';

/** One column: which row key it shows, its header text, and its alignment (numbers read best right-aligned). */
export interface Column {
  key: string;
  header: string;
  align?: 'left' | 'right';
}

/** A row: values by column key; undefined shows as an empty cell. */
export type Row = Record<string, string | number | undefined>;

// Every border glyph off; the gap between columns is the only separator, as in kubectl.
const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '   ',
} as const;

// Raw SGR codes rather than cli-table3's `style.head`: its colour library decides on its own
// (from argv and the environment) whether to emit them, and the caller has already decided.
const BOLD_CYAN = '\x1b[1m\x1b[36m';
const RESET_BOLD_CYAN = '\x1b[39m\x1b[22m';

/** Renders rows under a header line as aligned columns, ending with a newline; plain text unless color is set. */
export function renderTable(columns: readonly Column[], rows: readonly Row[], opts: { color: boolean }): string {
  const table = new Table({
    head: columns.map((c) => (opts.color ? `${BOLD_CYAN}${c.header}${RESET_BOLD_CYAN}` : c.header)),
    chars: NO_BORDERS,
    // Empty head/border styles keep cli-table3 from adding its own red/grey codes.
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: columns.map((c) => c.align ?? 'left'),
    wordWrap: false,
  });
  for (const row of rows) {
    table.push(columns.map((c) => cellText(row[c.key])));
  }
  // cli-table3 pads the last column too; kubectl does not leave trailing blanks.
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

// Control characters in a value (a pod name cannot have them, an error message might) would break
// alignment or smuggle escape codes into a terminal, so they are shown escaped.
function cellText(value: string | number | undefined): string {
  if (value === undefined) return '';
  return safeText(String(value));
}

/** Pretty-printed JSON (2-space indent) with a trailing newline, for -o json. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
