// Merges packet records from many capture sources (one tcpdump per pod, on several nodes) into one
// stream in timestamp order, holding records in a bounded reorder buffer. Pure and deterministic:
// no timers and no I/O; the caller injects a clock, pulls released records with next(), and sets its
// own timer from nextDeadline().
//
// Ordering uses the records' own timestamps (the kernel clock of the node that captured them), never
// the time they reached the client: the exec streams of different nodes deliver at different delays.
//
// A buffered record is released, oldest timestamp first, as soon as one of these holds:
//   watermark: every live source has already delivered a record at or after its timestamp (or has
//              ended, or was advanced past it with advance()). Sources deliver in timestamp order,
//              so nothing earlier can still come: the output is exactly sorted.
//   window:    some record has waited windowMs since it arrived; it and everything before it go out.
//              This bounds latency when a source is idle (no packets means no watermark progress)
//              and when a node's clock or stream lags.
//   memory:    the buffered bytes exceed maxBufferedBytes; the oldest records go until they fit.
//   late:      its timestamp is before that of a record already emitted, so holding it cannot
//              restore order (it arrived after its turn).
//
// Guarantees:
//   - Every pushed record is emitted exactly once (never dropped, never duplicated).
//   - The output is in timestamp order except for records that arrive after a record with a later
//     timestamp was emitted: a source more than windowMs behind the others (slow stream, node clock
//     behind), an early release forced by the memory cap, or a source whose own timestamps go
//     backwards. Such a record is emitted as soon as possible, flagged outOfOrder and counted in
//     stats.outOfOrder.
//   - A record is releasable at most windowMs after it arrived (the caller must call next() again
//     by nextDeadline()), and after next() returns undefined the buffer holds at most
//     maxBufferedBytes.
//   - Equal timestamps come out in arrival order.

import { MinHeap } from './min-heap.ts';

/** Why a record left the buffer when it did (see the file comment). */
export type ReleaseReason = 'watermark' | 'window' | 'memory' | 'late' | 'flush';

/** Settings of a PacketMerger. */
export interface PacketMergerOptions {
  /** Longest time a record waits for slower sources, in milliseconds of `now` (Infinity: no limit). */
  windowMs: number;
  /** Buffered bytes (as given to push) above which the oldest records are released regardless. */
  maxBufferedBytes: number;
  /** Monotonic clock in milliseconds; defaults to performance.now. Tests pass a fake one. */
  now?: () => number;
}

/** A record on its way out, with the source it came from. */
export interface MergedRecord<T> {
  readonly source: string;
  readonly tsSec: number;
  readonly tsNanos: number;
  readonly value: T;
  readonly reason: ReleaseReason;
  /** True when a record with a later timestamp was emitted before this one (reason 'late', or 'flush'). */
  readonly outOfOrder: boolean;
}

/** Counters for status lines and tests. */
export interface PacketMergerStats {
  readonly buffered: number;
  readonly bufferedBytes: number;
  /** Highest bufferedBytes seen after any push. */
  readonly peakBufferedBytes: number;
  readonly emitted: number;
  readonly outOfOrder: number;
  readonly released: Readonly<Record<ReleaseReason, number>>;
}

interface Time {
  sec: number;
  nanos: number;
}

interface Source {
  readonly id: string;
  live: boolean;
  /** Latest timestamp this source is known to have reached; -Infinity before its first record. */
  wm: Time;
}

interface Entry<T> extends Time {
  readonly source: Source;
  readonly seq: number;
  readonly bytes: number;
  readonly value: T;
  readonly arrivedAt: number;
  released: boolean;
}

const MINUS_INF: Time = { sec: -Infinity, nanos: 0 };
const PLUS_INF: Time = { sec: Infinity, nanos: 0 };

function before(a: Time, b: Time): boolean {
  return a.sec < b.sec || (a.sec === b.sec && a.nanos < b.nanos);
}
function atOrBefore(a: Time, b: Time): boolean {
  return !before(b, a);
}

/** Converts a classic pcap fraction (usec or nsec, per the stream's header) to nanoseconds. */
export function fractionToNanos(tsFrac: number, precision: 'usec' | 'nsec'): number {
  return precision === 'usec' ? tsFrac * 1000 : tsFrac;
}

/** Timestamp-ordered merge of many sources through a bounded reorder buffer (see the file comment). */
export class PacketMerger<T> {
  readonly #windowMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  readonly #sources = new Map<string, Source>();
  readonly #heap = new MinHeap<Entry<T>>(
    (a, b) => before(a, b) || (a.sec === b.sec && a.nanos === b.nanos && a.seq < b.seq),
  );
  // Entries in arrival order, for the window: the oldest arrival still buffered is at #fifoHead.
  #fifo: Entry<T>[] = [];
  #fifoHead = 0;
  #seq = 0;
  #bufferedBytes = 0;
  #peakBytes = 0;
  #emitted = 0;
  #outOfOrder = 0;
  readonly #released: Record<ReleaseReason, number> = { watermark: 0, window: 0, memory: 0, late: 0, flush: 0 };
  // The latest timestamp among records whose window ran out: everything up to it may go.
  #forced: Time = MINUS_INF;
  #lastEmitted: Time = MINUS_INF;
  // A lower bound of the minimum watermark over live sources. The true minimum never falls except
  // when a source is added (which lowers this bound at once), so a stale bound is still safe to
  // release by; the O(sources) recomputation runs only when the bound is not enough and a source
  // holding the minimum has moved since.
  #minWm: Time = PLUS_INF;
  #minWmDirty = false;

  constructor(options: PacketMergerOptions) {
    if (!(options.windowMs >= 0)) throw new RangeError(`windowMs must be >= 0, got ${options.windowMs}`);
    if (!(options.maxBufferedBytes >= 0))
      throw new RangeError(`maxBufferedBytes must be >= 0, got ${options.maxBufferedBytes}`);
    this.#windowMs = options.windowMs;
    this.#maxBytes = options.maxBufferedBytes;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Registers a source (a pod's capture starting, possibly mid-merge). Until its first record it
   * holds everything back (up to the window), unless `startedAt` says how far its clock already is:
   * e.g. the node's time when tcpdump started, below which it cannot deliver anything.
   */
  addSource(id: string, startedAt?: { tsSec: number; tsNanos: number }): void {
    const existing = this.#sources.get(id);
    if (existing?.live) throw new Error(`merge source ${JSON.stringify(id)} is already live`);
    const wm = startedAt ? checkedTime(startedAt.tsSec, startedAt.tsNanos) : MINUS_INF;
    // A re-added id (a pod restarted under the same name) starts over as a new source.
    this.#sources.set(id, { id, live: true, wm });
    if (before(wm, this.#minWm)) this.#minWm = wm;
  }

  /** Marks a source finished: it no longer holds anything back. Its buffered records stay until released. */
  endSource(id: string): void {
    const s = this.#live(id);
    s.live = false;
    this.#minWmDirty = true;
  }

  /** Tells the merger that a source will deliver nothing before this time (a heartbeat without a packet). */
  advance(id: string, tsSec: number, tsNanos: number): void {
    this.#raise(this.#live(id), checkedTime(tsSec, tsNanos));
  }

  /** Buffers one record of `source`; `bytes` is what it costs in memory (counted against the cap). */
  push(id: string, tsSec: number, tsNanos: number, bytes: number, value: T): void {
    const source = this.#live(id);
    const t = checkedTime(tsSec, tsNanos);
    if (!(bytes >= 0)) throw new RangeError(`bytes must be >= 0, got ${bytes}`);
    const entry: Entry<T> = {
      sec: t.sec,
      nanos: t.nanos,
      source,
      seq: this.#seq++,
      bytes,
      value,
      arrivedAt: this.#now(),
      released: false,
    };
    this.#heap.push(entry);
    this.#fifo.push(entry);
    this.#bufferedBytes += bytes;
    if (this.#bufferedBytes > this.#peakBytes) this.#peakBytes = this.#bufferedBytes;
    this.#raise(source, t);
  }

  /** The next record that may be emitted now, in timestamp order; undefined when everything left must wait. */
  next(): MergedRecord<T> | undefined {
    const root = this.#heap.peek();
    if (!root) return undefined;
    // Already behind the output: holding it cannot put it back in order.
    if (before(root, this.#lastEmitted)) return this.#release('late');
    if (this.#passedByAll(root)) return this.#release('watermark');
    this.#expire(this.#now());
    if (atOrBefore(root, this.#forced)) return this.#release('window');
    if (this.#bufferedBytes > this.#maxBytes) return this.#release('memory');
    return undefined;
  }

  /** Every record that may be emitted now, in order. */
  drain(): MergedRecord<T>[] {
    const out: MergedRecord<T>[] = [];
    for (let r = this.next(); r; r = this.next()) out.push(r);
    return out;
  }

  /** Releases everything still buffered, in timestamp order, whatever the sources' state (shutdown). */
  flush(): MergedRecord<T>[] {
    const out: MergedRecord<T>[] = [];
    while (this.#heap.size > 0) out.push(this.#release('flush'));
    return out;
  }

  /**
   * When (on the `now` clock) the oldest buffered record's window runs out, i.e. when next() may
   * have something even if no source delivers anything; undefined when nothing is waiting on the window.
   */
  nextDeadline(): number | undefined {
    if (this.#windowMs === Infinity) return undefined;
    this.#skipReleased();
    const head = this.#fifo[this.#fifoHead];
    return head ? head.arrivedAt + this.#windowMs : undefined;
  }

  /** Ids of the sources that have not ended. */
  get liveSources(): string[] {
    return [...this.#sources.values()].filter((s) => s.live).map((s) => s.id);
  }

  get stats(): PacketMergerStats {
    return {
      buffered: this.#heap.size,
      bufferedBytes: this.#bufferedBytes,
      peakBufferedBytes: this.#peakBytes,
      emitted: this.#emitted,
      outOfOrder: this.#outOfOrder,
      released: { ...this.#released },
    };
  }

  #live(id: string): Source {
    const s = this.#sources.get(id);
    if (!s) throw new Error(`unknown merge source ${JSON.stringify(id)}`);
    if (!s.live) throw new Error(`merge source ${JSON.stringify(id)} has ended`);
    return s;
  }

  // Moves a source's watermark forward (never back: a source whose timestamps go backwards does not
  // re-block the others; its late record is emitted out of order instead).
  #raise(s: Source, t: Time): void {
    if (!before(s.wm, t)) return;
    // Only the source holding the minimum can change it.
    if (!this.#minWmDirty && !before(this.#minWm, s.wm)) this.#minWmDirty = true;
    s.wm = t;
  }

  // Whether every live source has reached t (so none can still deliver anything before it).
  #passedByAll(t: Time): boolean {
    if (atOrBefore(t, this.#minWm)) return true;
    if (!this.#minWmDirty) return false;
    let min = PLUS_INF;
    for (const s of this.#sources.values()) if (s.live && before(s.wm, min)) min = s.wm;
    this.#minWm = min;
    this.#minWmDirty = false;
    return atOrBefore(t, min);
  }

  // Lets every record whose window ran out by `now` raise #forced (the FIFO is in arrival order, so
  // the expired ones are a prefix).
  #expire(now: number): void {
    const fifo = this.#fifo;
    while (this.#fifoHead < fifo.length) {
      const head = fifo[this.#fifoHead] as Entry<T>;
      if (!head.released) {
        if (now - head.arrivedAt < this.#windowMs) break;
        if (before(this.#forced, head)) this.#forced = { sec: head.sec, nanos: head.nanos };
      }
      this.#fifoHead++;
    }
    this.#compactFifo();
  }

  #skipReleased(): void {
    const fifo = this.#fifo;
    while (this.#fifoHead < fifo.length && (fifo[this.#fifoHead] as Entry<T>).released) this.#fifoHead++;
    this.#compactFifo();
  }

  // Drops the consumed prefix once it is most of the array, so the FIFO costs O(1) amortised.
  #compactFifo(): void {
    if (this.#fifoHead === this.#fifo.length) {
      this.#fifo = [];
      this.#fifoHead = 0;
    } else if (this.#fifoHead > 1024 && this.#fifoHead * 2 > this.#fifo.length) {
      this.#fifo = this.#fifo.slice(this.#fifoHead);
      this.#fifoHead = 0;
    }
  }

  #release(reason: ReleaseReason): MergedRecord<T> {
    const e = this.#heap.pop() as Entry<T>;
    e.released = true;
    this.#bufferedBytes -= e.bytes;
    const outOfOrder = before(e, this.#lastEmitted);
    if (outOfOrder) this.#outOfOrder++;
    else this.#lastEmitted = { sec: e.sec, nanos: e.nanos };
    this.#emitted++;
    this.#released[reason]++;
    return { source: e.source.id, tsSec: e.sec, tsNanos: e.nanos, value: e.value, reason, outOfOrder };
  }
}

function checkedTime(sec: number, nanos: number): Time {
  if (!Number.isInteger(sec) || !Number.isInteger(nanos) || nanos < 0 || nanos >= 1_000_000_000) {
    throw new RangeError(`timestamp must be integer seconds and 0..999999999 nanoseconds, got ${sec}.${nanos}`);
  }
  return { sec, nanos };
}
