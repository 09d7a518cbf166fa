// What a person sees while a many-pod capture runs and when it ends: one live line per target on
// a terminal (packets, bytes, rate, tcpdump's kernel drops), and a final table per target with
// tcpdump's own counters, followed by a warning with the remedy when packets were dropped.
import { writeStderr } from '../log.ts';
import { formatBytes } from './status-line.ts';
import { renderTable } from './table.ts';
import { safeText } from './terminal.ts';

/** One target's numbers as they stand. */
export interface TargetProgress {
  label: string;
  node: string;
  packets: number;
  bytes: number;
  /** tcpdump's counters, once it has printed any. */
  captured?: number | undefined;
  receivedByFilter?: number | undefined;
  droppedByKernel?: number | undefined;
  /** starting, capturing, ended, failed: why. */
  state: string;
}

/** The final per-target table (people's text: it goes to stderr). Pure. */
export function renderSummary(rows: readonly TargetProgress[], color: boolean): string {
  return renderTable(
    [
      { key: 'label', header: 'TARGET' },
      { key: 'node', header: 'NODE' },
      { key: 'packets', header: 'PACKETS', align: 'right' },
      { key: 'bytes', header: 'BYTES', align: 'right' },
      { key: 'received', header: 'RECEIVED', align: 'right' },
      { key: 'dropped', header: 'DROPPED', align: 'right' },
      { key: 'state', header: 'STATE' },
    ],
    rows.map((r) => ({
      label: r.label,
      node: r.node,
      packets: r.packets,
      bytes: formatBytes(r.bytes),
      received: r.receivedByFilter ?? '-',
      dropped: r.droppedByKernel ?? '-',
      state: r.state,
    })),
    { color },
  );
}

/** The warning for dropped packets, with what to do about it; undefined when nothing was dropped. Pure. */
export function dropWarning(rows: readonly TargetProgress[]): string | undefined {
  const dropped = rows.filter((r) => (r.droppedByKernel ?? 0) > 0);
  if (dropped.length === 0) return undefined;
  const total = dropped.reduce((sum, r) => sum + (r.droppedByKernel ?? 0), 0);
  const who = dropped.map((r) => `${r.label} ${r.droppedByKernel}`).join(', ');
  return `tcpdump dropped ${total} packets in the kernel (${who}): raise --buffer-size, keep less of each packet with -s 128, or narrow the filter`;
}

/** The live lines, redrawn in place on a terminal (one per target, summarised past a screenful), cleared before other output. */
export class MultiStatus {
  readonly #enabled: boolean;
  readonly #columns: () => number;
  readonly #rows: () => number;
  #lines = 0;
  #last = new Map<string, { packets: number; bytes: number; at: number }>();
  #rate = new Map<string, number>();

  constructor(stream: { isTTY?: boolean; columns?: number; rows?: number }, enabled: boolean) {
    this.#enabled = enabled && stream.isTTY === true;
    this.#columns = () => stream.columns || 100;
    this.#rows = () => stream.rows || 24;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * Redraws every target's line. More targets than fit on the screen (less two lines) show the
   * first ones that are not done, then one line for the rest: lines that scroll off a terminal
   * cannot be redrawn in place, and would pile up.
   */
  draw(rows: readonly TargetProgress[], nowMs = Date.now()): void {
    if (!this.#enabled) return;
    const width = Math.max(20, this.#columns() - 1);
    const room = Math.max(2, this.#rows() - 2);
    const seen = new Set<string>();
    const line = (r: TargetProgress) => {
      seen.add(r.label);
      const last = this.#last.get(r.label);
      if (last && nowMs > last.at) {
        const bps = ((r.bytes - last.bytes) * 1000) / (nowMs - last.at);
        this.#rate.set(r.label, 0.5 * (this.#rate.get(r.label) ?? bps) + 0.5 * bps);
      }
      this.#last.set(r.label, { packets: r.packets, bytes: r.bytes, at: nowMs });
      const drops = r.droppedByKernel ? `, ${r.droppedByKernel} dropped by kernel` : '';
      const rate = formatBytes(Math.round(this.#rate.get(r.label) ?? 0));
      return safeText(
        `${r.label} (${r.node}): ${r.state}, ${r.packets} packets, ${formatBytes(r.bytes)} (${rate}/s)${drops}`,
      ).slice(0, width);
    };
    let text: string[];
    if (rows.length <= room) text = rows.map(line);
    else {
      // Running ones first: what is over only needs its count.
      const shown = [...rows.filter((r) => !isDone(r)), ...rows.filter(isDone)].slice(0, room - 1);
      const rest = rows.filter((r) => !shown.includes(r));
      text = [...shown.map(line), summaryLine(rest).slice(0, width)];
    }
    // Rates of targets no longer shown are forgotten: the maps stay as small as the screen.
    for (const k of [...this.#last.keys()]) if (!seen.has(k)) this.#last.delete(k);
    for (const k of [...this.#rate.keys()]) if (!seen.has(k)) this.#rate.delete(k);
    this.clear();
    writeStderr(text.map((l) => `${l}\n`).join(''));
    this.#lines = text.length;
  }

  /** Removes the lines, so the summary starts on a clean screen. */
  clear(): void {
    if (!this.#enabled || this.#lines === 0) return;
    // Up to the first line, then erase to the end of the screen.
    writeStderr(`\x1b[${this.#lines}F\x1b[J`);
    this.#lines = 0;
  }
}

/** Whether a target's capture is over (ended or failed). */
function isDone(r: TargetProgress): boolean {
  return r.state.startsWith('ended') || r.state.startsWith('failed');
}

/** One line for the targets not shown: how many, in which states, and their packets. Pure. */
export function summaryLine(rest: readonly TargetProgress[]): string {
  const states = new Map<string, number>();
  for (const r of rest) {
    const state = r.state.replace(/:.*$/, '');
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  const packets = rest.reduce((n, r) => n + r.packets, 0);
  const bytes = rest.reduce((n, r) => n + r.bytes, 0);
  const dropped = rest.reduce((n, r) => n + (r.droppedByKernel ?? 0), 0);
  const parts = [...states]
    .sort((x, y) => y[1] - x[1])
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  return `… and ${rest.length} more targets (${parts}): ${packets} packets, ${formatBytes(bytes)}${dropped ? `, ${dropped} dropped by kernel` : ''}`;
}
