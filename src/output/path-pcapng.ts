// The pcapng of a path capture: one interface per hop (named where it is), every packet in the
// order of its node's timestamp, each packet of the path's flows with a comment naming its flow
// and its step from the previous hop, and each hop's tcpdump counters at the end. Written through
// a file sink, so a reader never sees half a file.
import { once } from 'node:events';
import type { PcapHeader, PcapRecord } from '../pcap/format.ts';
import {
  enhancedPacketBlock,
  interfaceDescriptionBlock,
  interfaceStatisticsBlock,
  nameResolutionBlock,
  sectionHeaderBlock,
  timestampFromMillis,
  type NameRecord,
  type PcapngTimestamp,
} from '../pcap/pcapng-writer.ts';
import type { CaptureSink } from './sink.ts';

/** One hop's packets and what the file says about it. */
export interface PathInterface {
  header: PcapHeader;
  records: readonly PcapRecord[];
  name: string;
  description: string;
  filter: string;
  stats: { receivedByFilter?: number | undefined; droppedByKernel?: number | undefined } | undefined;
  /** When its tcpdump started and ended, in its node's clock (ns since the epoch): isb_starttime/endtime. */
  window: { start?: bigint | undefined; end?: bigint | undefined };
}

/** NS since the epoch as a timestamp in PRECISION. */
function at(ns: bigint | undefined, precision: PcapHeader['precision']): PcapngTimestamp | undefined {
  if (ns === undefined) return undefined;
  const frac = ns % 1_000_000_000n;
  return { tsSec: Number(ns / 1_000_000_000n), tsFrac: Number(precision === 'usec' ? frac / 1000n : frac) };
}

export interface PathPcapngInput {
  userAppl: string;
  /** Section comments: the path, the clock handling. */
  comments: readonly string[];
  interfaces: readonly PathInterface[];
  names: readonly NameRecord[];
  /** The comment of packet INDEX of interface HOP, if any. */
  comment: (hop: number, index: number) => string | undefined;
}

function nanos(header: PcapHeader, r: PcapRecord): bigint {
  return BigInt(r.tsSec) * 1_000_000_000n + BigInt(header.precision === 'usec' ? r.tsFrac * 1000 : r.tsFrac);
}

/** Writes the file into SINK and finishes it; resolves with the number of packets written. */
export async function writePathPcapng(sink: CaptureSink, o: PathPcapngInput): Promise<number> {
  const out = sink.stream;
  const write = async (b: Buffer) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(
    sectionHeaderBlock({ userAppl: o.userAppl, os: `${process.platform} ${process.arch}`, comments: o.comments }),
  );
  for (const i of o.interfaces) {
    await write(
      interfaceDescriptionBlock({
        linkType: i.header.linkType,
        snaplen: i.header.snaplen,
        precision: i.header.precision,
        name: i.name,
        description: i.description,
        filter: i.filter,
      }),
    );
  }
  if (o.names.length > 0) await write(nameResolutionBlock(o.names));
  // Every packet by its node's own timestamp (not corrected: the comments carry the corrected steps).
  const order: Array<{ hop: number; index: number; t: bigint }> = [];
  o.interfaces.forEach((i, hop) => i.records.forEach((r, index) => order.push({ hop, index, t: nanos(i.header, r) })));
  order.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.hop - b.hop));
  for (const { hop, index } of order) {
    const i = o.interfaces[hop]!;
    const r = i.records[index]!;
    const comment = o.comment(hop, index);
    await write(
      enhancedPacketBlock(
        {
          interfaceId: hop,
          tsSec: r.tsSec,
          tsFrac: r.tsFrac,
          data: r.data,
          origLen: r.origLen,
          comments: comment ? [comment] : undefined,
        },
        i.header.precision,
      ),
    );
  }
  const now = Date.now();
  for (const [id, i] of o.interfaces.entries()) {
    await write(
      interfaceStatisticsBlock({
        interfaceId: id,
        precision: i.header.precision,
        time: timestampFromMillis(now, i.header.precision),
        startTime: at(i.window.start, i.header.precision),
        endTime: at(i.window.end, i.header.precision),
        filterAccept: i.stats?.receivedByFilter,
        ifDrop: i.stats?.droppedByKernel,
        usrDeliv: i.records.length,
      }),
    );
  }
  await sink.finish((written) => written);
  return order.length;
}
