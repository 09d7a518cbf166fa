// The state of one pcapng section as a capture grows: which interfaces exist (their ids and
// timestamp precisions) and which names are known. It keeps every EPB and ISB consistent with its
// interface's if_tsresol, and rebuilds the preamble (SHB, every IDB so far in id order, the names)
// that each rotated file must start with so its interface ids mean the same as in the first file.

import { Buffer } from 'node:buffer';
import type { PcapRecord, TimestampPrecision } from './format.ts';
import {
  enhancedPacketBlockFromRecord,
  interfaceDescriptionBlock,
  interfaceStatisticsBlock,
  nameResolutionBlock,
  sectionHeaderBlock,
  type InterfaceDescriptionInput,
  type InterfaceStatisticsInput,
  type NameRecord,
  type SectionHeaderInput,
} from './pcapng-writer.ts';

/** Interfaces and names of a pcapng section; hands out blocks to write and the preamble of new files. */
export class PcapngSection {
  readonly #shb: Buffer;
  readonly #idbs: Buffer[] = [];
  readonly #precisions: TimestampPrecision[] = [];
  // Latest names per address, in first-seen order (a Map keeps insertion order).
  readonly #names = new Map<string, readonly string[]>();

  constructor(header: SectionHeaderInput = {}) {
    this.#shb = sectionHeaderBlock(header);
  }

  /** Number of interfaces so far (the next interface's id). */
  get interfaceCount(): number {
    return this.#idbs.length;
  }

  /** Adds an interface: its id, and the IDB to write to the current file before its first packet. */
  addInterface(input: InterfaceDescriptionInput): { id: number; block: Buffer } {
    const block = interfaceDescriptionBlock(input);
    this.#idbs.push(block);
    this.#precisions.push(input.precision);
    return { id: this.#idbs.length - 1, block };
  }

  /** Records names (a later record for the same address replaces it) and returns the NRB to write now. */
  addNames(records: readonly NameRecord[]): Buffer {
    const block = nameResolutionBlock(records);
    for (const r of records) {
      // Delete first so a renamed address moves to the end, after the names it replaced.
      this.#names.delete(r.address);
      this.#names.set(r.address, r.names);
    }
    return block;
  }

  /** The EPB of a classic pcap record on interface `id`, in that interface's precision (with opt_comments). */
  packet(id: number, record: PcapRecord, comments?: readonly string[]): Buffer {
    return enhancedPacketBlockFromRecord(id, record, this.#precision(id), comments);
  }

  /** The ISB of interface `id`; its times are in that interface's precision. */
  statistics(input: Omit<InterfaceStatisticsInput, 'precision'>): Buffer {
    return interfaceStatisticsBlock({ ...input, precision: this.#precision(input.interfaceId) });
  }

  /** What a new file starts with: SHB, every interface so far in id order, and one NRB if any names are known. */
  preamble(): Buffer {
    const parts = [this.#shb, ...this.#idbs];
    if (this.#names.size > 0)
      parts.push(nameResolutionBlock([...this.#names].map(([address, names]) => ({ address, names }))));
    return Buffer.concat(parts);
  }

  #precision(id: number): TimestampPrecision {
    const p = this.#precisions[id];
    if (p === undefined) throw new RangeError(`pcapng interface ${id} was never added (${this.#idbs.length} so far)`);
    return p;
  }
}
