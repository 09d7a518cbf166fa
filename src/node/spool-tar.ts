// A spool fetched as it stands (agent op spool-tar: a tar stream over exec, as `kubectl cp` reads
// one) turned back into the spool stream of spool-stream.ts, so the same SpoolDemux makes one pcap
// of it: each ring file announced, the files the ring deleted before the fetch as "lost" (with the
// counts the node kept), and the end with tcpdump's counts once the capture has ended. The file
// tcpdump still writes may end inside a record; it is always the last one, and the demux keeps
// only its whole records.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { parseTcpdumpStats } from './agent.ts';
import { SPOOL_MARK } from './spool-stream.ts';

/** What a fetched spool said about itself besides its packets. */
export interface FetchedSpool {
  /** Its meta lines (id, started, iface, and what the client stored). */
  meta: Record<string, string>;
  /** The capture's log: tcpdump's stderr and the agent's lines. */
  log: string;
  /** tcpdump's exit status, once it has ended. */
  exitStatus: number | undefined;
  /** The ring files in the tar. */
  files: number[];
}

const RING = /^ring\.pcap([0-9]*)$/;

function marker(text: string): Buffer {
  return Buffer.concat([SPOOL_MARK, Buffer.from(`${text}\n`, 'latin1')]);
}

/** Writes BUF to OUT, waiting while OUT is full. */
async function put(out: Writable, buf: Buffer): Promise<void> {
  if (!out.write(buf)) await once(out, 'drain');
}

/** Reads a spool's tar stream from INPUT and writes the spool stream to OUT (which it does not end). */
export async function spoolTarToStream(input: Readable, out: Writable): Promise<FetchedSpool> {
  const text: Record<string, string> = {};
  const lost = new Map<number, string>();
  const files: number[] = [];
  let next = 0;
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, '');
      const ring = RING.exec(name);
      if (!ring) {
        const parts: Buffer[] = [];
        for await (const c of entry) parts.push(c as Buffer);
        const body = Buffer.concat(parts).toString('utf8');
        text[name] = body;
        if (name === 'lost') {
          for (const line of body.split('\n')) {
            const [seq, bytes, packets] = line.split(' ');
            if (seq && /^[0-9]+$/.test(seq)) lost.set(Number(seq), `${bytes ?? '-'} ${packets ?? '-'}`);
          }
        }
        continue;
      }
      const seq = ring[1] ? Number(ring[1]) : 0;
      // Files before this one that the tar does not hold: the ring deleted them.
      for (; next < seq; next++) await put(out, marker(`lost ${next} ${lost.get(next) ?? '- -'}`));
      await put(out, marker(`file ${seq} 0`));
      for await (const c of entry) await put(out, c as Buffer);
      files.push(seq);
      next = seq + 1;
    }
  })();
  input.pipe(extract);
  await done;
  const exitStatus = text.end !== undefined && /^[0-9]+\s*$/.test(text.end) ? Number(text.end.trim()) : undefined;
  if (exitStatus !== undefined) {
    const st = parseTcpdumpStats(text.log ?? '');
    const n = (v: number | undefined) => (v === undefined ? '-' : String(v));
    await put(out, marker(`end ${exitStatus} ${n(st?.captured)} ${n(st?.receivedByFilter)} ${n(st?.droppedByKernel)}`));
  }
  const meta: Record<string, string> = {};
  for (const line of (text.meta ?? '').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) meta[line.slice(0, sp)] = line.slice(sp + 1);
  }
  return { meta, log: text.log ?? '', exitStatus, files };
}
