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

// cli-table3 lays a table out in time quadratic in its rows (each cell looks at every earlier row
// for spans): 1,000 rows took 1.9 s, 2,000 rows 5 s. Longer tables are laid out CHUNK_ROWS at a
// time, every chunk with the column widths the whole table would get, so they line up as one.
const CHUNK_ROWS = 100;

function newTable(columns: readonly Column[], head: string[], colWidths?: number[]): InstanceType<typeof Table> {
  return new Table({
    head,
    chars: NO_BORDERS,
    // Empty head/border styles keep cli-table3 from adding its own red/grey codes.
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: columns.map((c) => c.align ?? 'left'),
    wordWrap: false,
    ...(colWidths ? { colWidths } : {}),
  });
}

// The width cli-table3 gives a cell (string-width without escape codes). Printable ASCII is one
// column a character; anything else is measured by cli-table3 itself, in a table of that one cell.
function cellWidth(text: string): number {
  const plain = text.replaceAll(BOLD_CYAN, '').replaceAll(RESET_BOLD_CYAN, '');
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length;
  const t = newTable([{ key: '', header: '' }], []);
  t.push([text]);
  t.toString();
  return t.options.colWidths[0] ?? 0;
}

/** Renders rows under a header line as aligned columns, ending with a newline; plain text unless color is set. */
export function renderTable(
  columns: readonly Column[],
  rows: readonly Row[],
  opts: { color: boolean; chunkRows?: number },
): string {
  const head = columns.map((c) => (opts.color ? `${BOLD_CYAN}${c.header}${RESET_BOLD_CYAN}` : c.header));
  const cells = rows.map((row) => columns.map((c) => cellText(row[c.key])));
  const size = opts.chunkRows ?? CHUNK_ROWS;
  let text: string;
  if (cells.length <= size) {
    const table = newTable(columns, head);
    table.push(...cells);
    text = table.toString();
  } else {
    const widths = head.map(cellWidth);
    for (const row of cells) row.forEach((c, k) => (widths[k] = Math.max(widths[k]!, cellWidth(c))));
    const parts: string[] = [];
    for (let i = 0; i < cells.length; i += size) {
      const table = newTable(columns, i === 0 ? head : [], widths);
      table.push(...cells.slice(i, i + size));
      parts.push(table.toString());
    }
    text = parts.join('\n');
  }
  // cli-table3 pads the last column too; kubectl does not leave trailing blanks.
  return `${text
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
