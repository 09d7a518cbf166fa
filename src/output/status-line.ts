// One live line on stderr while capturing: packets, bytes, rate and tcpdump's kernel drops.
// Only on a terminal and without -q; redrawn in place, cleared before anything else is printed.
import { writeStderr } from '../log.ts';

export interface StatusSnapshot {
  packets: number;
  bytes: number;
  elapsedMs: number;
  droppedByKernel?: number | undefined;
  /** Spooled: what the node's ring holds that has not reached us yet. */
  behindBytes?: number | undefined;
}

/** Human byte count: 512 B, 1.5 KiB, 12.0 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

/** The text of the status line. Pure. */
export function renderStatus(s: StatusSnapshot, rate: { pps: number; bps: number }): string {
  const drops = s.droppedByKernel === undefined ? '' : `, ${s.droppedByKernel} dropped by kernel`;
  // A few KiB behind is a packet in flight; past 1 MiB the stream reads from the node's ring.
  const behind =
    s.behindBytes !== undefined && s.behindBytes >= 1 << 20 ? `, ${formatBytes(s.behindBytes)} behind` : '';
  return `capturing: ${s.packets} packets, ${formatBytes(s.bytes)} (${rate.pps.toFixed(0)} pkt/s, ${formatBytes(Math.round(rate.bps))}/s)${drops}${behind}, ${(s.elapsedMs / 1000).toFixed(0)}s`;
}

export class StatusLine {
  private readonly out: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private timer: NodeJS.Timeout | undefined;
  private last = { packets: 0, bytes: 0, at: 0 };
  private rate = { pps: 0, bps: 0 };
  private drawn = false;

  constructor(out: NodeJS.WriteStream, enabled: boolean) {
    this.out = out;
    this.enabled = enabled && out.isTTY === true;
  }

  /** Redraws every `intervalMs` from `read()`. */
  start(read: () => StatusSnapshot, intervalMs = 500): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.draw(read()), intervalMs);
    this.timer.unref();
  }

  private draw(s: StatusSnapshot): void {
    const dt = (s.elapsedMs - this.last.at) / 1000;
    if (dt > 0) {
      // Smoothed so the rate does not flicker with bursty traffic.
      this.rate.pps = 0.5 * this.rate.pps + 0.5 * ((s.packets - this.last.packets) / dt);
      this.rate.bps = 0.5 * this.rate.bps + 0.5 * ((s.bytes - this.last.bytes) / dt);
    }
    this.last = { packets: s.packets, bytes: s.bytes, at: s.elapsedMs };
    // A pty without a size (script(1), some CI runners) reports 0 columns.
    const cols = this.out.columns || 100;
    writeStderr(`\r\x1b[K${renderStatus(s, this.rate).slice(0, Math.max(10, cols - 1))}`);
    this.drawn = true;
  }

  /** Runs `fn` only when the line is shown (e.g. to start polling that only the line needs). */
  enabledFor<T>(fn: () => T): T | undefined {
    return this.enabled ? fn() : undefined;
  }

  /** Removes the line so the summary starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) writeStderr('\r\x1b[K');
    this.drawn = false;
  }
}
