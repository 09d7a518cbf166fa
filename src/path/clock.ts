// How far apart two nodes' clocks are, from the packets that crossed between them, and how sure
// that figure is. Pure.
//
// Each node stamps packets with its own wall clock. A packet that leaves node A at a (A's clock)
// and reaches node B at b (B's clock) gives b - a = delay + θ, where θ is how far B's clock is
// ahead of A's; one that goes back gives a' - b' = delay' - θ. Delays are never negative, so
//   -min(a' - b') <= θ <= min(b - a)
// over every crossing: θ lies in an interval as wide as the fastest round trip between the two
// capture points. We take its middle and report half its width as the uncertainty (the bound
// NTP uses, with the same assumption at its centre: the fastest crossing each way took equally
// long). A cross-node step is then (b - a) - θ, known to ± that half-width, and is never shown
// finer than it. Without crossings in both directions there is no bound: no cross-node figure.

/** One packet's step across the node boundary, in raw (uncorrected) nanoseconds. */
export interface Crossing {
  /** true: from the reference node to the other; false: back. */
  outbound: boolean;
  rawNs: number;
}

export interface ClockEstimate {
  /** How far the other node's clock is ahead of the reference node's (ns). */
  offsetNs: number;
  /** Half the width of the interval the offset must lie in (ns). */
  uncertaintyNs: number;
  outbound: number;
  inbound: number;
}

/** The offset interval's middle and half-width, or undefined without crossings both ways. */
export function estimateOffset(crossings: readonly Crossing[]): ClockEstimate | undefined {
  let minOut = Infinity;
  let minIn = Infinity;
  let outbound = 0;
  let inbound = 0;
  for (const c of crossings) {
    if (c.outbound) {
      outbound++;
      if (c.rawNs < minOut) minOut = c.rawNs;
    } else {
      inbound++;
      if (c.rawNs < minIn) minIn = c.rawNs;
    }
  }
  if (outbound === 0 || inbound === 0) return undefined;
  // θ ∈ [-minIn, minOut]. A negative width means a capture point's clock stepped mid-capture,
  // or packets were matched wrongly: still an answer, but with the width it shows.
  const low = -minIn;
  const high = minOut;
  return { offsetNs: (low + high) / 2, uncertaintyNs: Math.abs(high - low) / 2, outbound, inbound };
}

/**
 * The number of decimals (of milliseconds) a figure known to ± UNCERTAINTY_NS may show: the
 * last digit's step is never finer than the uncertainty (negative: rounded to tens, hundreds of
 * ms). Same-node figures (0) get microseconds, what tcpdump's timestamps hold.
 */
export function millisDecimals(uncertaintyNs: number): number {
  if (uncertaintyNs <= 1000) return 3;
  return Math.max(-3, Math.min(3, Math.floor(-Math.log10(uncertaintyNs / 1e6))));
}

/** NS as milliseconds with DECIMALS decimals (a number, for JSON). */
export function roundMs(ns: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round((ns / 1e6) * f) / f;
}
