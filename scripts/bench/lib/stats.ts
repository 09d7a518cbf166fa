// Summaries the tables print: min / median / max of repeated runs, and ratios between contenders.

export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
}

/** min/median/max of the finite values in XS; undefined when there are none. */
export function spread(xs: readonly (number | undefined)[]): Spread | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, min: v[0]!, median, max: v.at(-1)! };
}

/** "12.3 (11.0–14.1)": the median, then the range when there is more than one run. */
export function fmtSpread(s: Spread | undefined, digits = 1, unit = ''): string {
  if (!s) return 'n/a';
  const f = (x: number) => x.toFixed(digits);
  return s.n > 1 ? `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})` : `${f(s.median)}${unit}`;
}

/** Ratio of medians A / B, as "0.81×"; n/a when either is missing or B is 0. */
export function fmtRatio(a: Spread | undefined, b: Spread | undefined): string {
  if (!a || !b || b.median === 0) return 'n/a';
  return `${(a.median / b.median).toFixed(2)}×`;
}

/** A GitHub-flavoured Markdown table. */
export function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
