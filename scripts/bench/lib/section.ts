// What each benchmark section hands back to run.ts: Markdown for results.md and plain data for
// the JSON file. Sections print their own progress on stderr.

export interface SectionResult {
  /** Markdown: a heading, the table(s), and notes on how to read them. */
  markdown: string;
  /** Raw figures, one entry per run, for anyone who wants to compute something else. */
  data: unknown;
}

/** One line of progress on stderr (stdout carries nothing in the benchmark). */
export function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}
