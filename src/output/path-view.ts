// The path report as people read it on stderr: one row per hop in path order (forward and reply
// packets seen, lost before the hop, the step into it), the clocks, and one line per flow. Pure.
import { flowText, type LatencyJson, type PathReport } from '../path/report.ts';
import { millisDecimals } from '../path/clock.ts';
import { renderTable } from './table.ts';
import { safeText } from './terminal.ts';

function step(l: LatencyJson | null): string {
  if (!l) return '-';
  // As many decimals as the figures were rounded to (millisDecimals), never more.
  const d = Math.max(0, l.uncertaintyMs > 0 ? millisDecimals(l.uncertaintyMs * 1e6) : 3);
  const u = l.uncertaintyMs > 0 ? ` ±${l.uncertaintyMs}` : '';
  return `${l.p50Ms.toFixed(d)}/${l.p99Ms.toFixed(d)}/${l.maxMs.toFixed(d)}${u}`;
}

/** Flow lines in the text report; -o json has them all. */
const MAX_FLOW_LINES = 10;

/** The report as text, ending with a newline. */
export function renderPathReport(r: PathReport, color: boolean): string {
  const out: string[] = [];
  const dst = r.dst.kind === 'service' ? `${r.dst.name} (pod ${r.dst.pod})` : r.dst.name;
  out.push(`path ${r.src.name} → ${dst}: ${r.hops.length} hops, ${r.flows.length} flow(s)`);
  out.push(
    renderTable(
      [
        { key: 'hop', header: 'HOP', align: 'right' },
        { key: 'name', header: 'WHERE' },
        { key: 'packets', header: 'PACKETS', align: 'right' },
        { key: 'fwd', header: 'FWD', align: 'right' },
        { key: 'fwdLost', header: 'LOST', align: 'right' },
        { key: 'fwdStep', header: 'STEP MS p50/p99/max', align: 'right' },
        { key: 'rev', header: 'REPLY', align: 'right' },
        { key: 'revLost', header: 'LOST', align: 'right' },
        { key: 'revStep', header: 'STEP MS p50/p99/max', align: 'right' },
        { key: 'retx', header: 'RETRANS', align: 'right' },
        { key: 'nat', header: 'NAT' },
      ],
      r.hops.map((h) => ({
        hop: h.index + 1,
        name: h.name,
        packets: h.packets,
        fwd: h.seen.forward,
        fwdLost: h.latency || h.lostBefore.forward ? h.lostBefore.forward : '-',
        fwdStep: step(h.latency),
        rev: h.seen.reply,
        revLost: h.replyLatency || h.lostBefore.reply ? h.lostBefore.reply : '-',
        revStep: step(h.replyLatency),
        retx: h.retransmissions,
        nat: h.nat.map((n) => `${n.kind.toUpperCase()} ${n.from}→${n.to}`).join(', ') || '-',
      })),
      { color },
    ).trimEnd(),
  );
  out.push(
    'FWD/REPLY: packets of the flows seen at the hop; LOST: reached the previous hop on their way and never this one; STEP: from the previous hop on their way (replies travel from the last hop back)',
  );
  if (r.clock) {
    out.push(
      r.clock.offsetMs === null
        ? `clocks: no packets crossed between ${r.clock.reference} and ${r.clock.node} both ways: steps between them are not reported`
        : `clocks: ${r.clock.node} is ${r.clock.offsetMs} ms ahead of ${r.clock.reference}, ±${r.clock.uncertaintyMs} ms (from ${r.clock.crossings.forward} and ${r.clock.crossings.reply} crossings); steps between them are corrected and shown to that precision`,
    );
  }
  // The flows worth a look first: those that stopped or went elsewhere, then those that lost
  // packets; a long list of healthy ones is left to -o json.
  const rank = (f: PathReport['flows'][number]) =>
    f.status !== 'complete' ? 0 : f.lost.forward + f.lost.reply + f.retransmissions > 0 ? 1 : 2;
  const ordered = [...r.flows].sort((a, b) => rank(a) - rank(b) || a.id - b.id);
  const shown = ordered.slice(0, MAX_FLOW_LINES);
  const rest = ordered.slice(MAX_FLOW_LINES);
  for (const f of shown) {
    const where =
      f.status === 'stopped' && f.stoppedAfter !== null
        ? f.stoppedBefore !== null
          ? `stopped: last seen at hop ${f.stoppedAfter + 1} (${r.hops[f.stoppedAfter]?.name}), never reached hop ${f.stoppedBefore + 1} (${r.hops[f.stoppedBefore]?.name})`
          : `stopped: reached hop ${f.stoppedAfter + 1} (${r.hops[f.stoppedAfter]?.name}), no reply`
        : f.status === 'other-endpoint'
          ? 'went to a pod of the Service that was not followed'
          : 'complete';
    const lost = f.lost.forward + f.lost.reply > 0 ? `, lost ${f.lost.forward}→ ${f.lost.reply}←` : '';
    const retx = f.retransmissions ? `, ${f.retransmissions} retransmitted` : '';
    const nat = f.nat.length ? `, ${f.nat.join(', ')}` : '';
    out.push(
      `flow ${f.id} ${flowText({ ...f, echoId: f.echoId ?? undefined })}: ${where}; ${f.packets.forward}→ ${f.packets.reply}← packets${lost}${retx}${nat}`,
    );
  }
  if (rest.length > 0) {
    const healthy = rest.every((f) => rank(f) === 2);
    out.push(`${rest.length} more flow(s)${healthy ? ', complete without loss' : ''}: -o json lists every flow`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  if (r.file) out.push(`every hop's packets, with a comment per packet of the flows, in ${r.file}`);
  return `${out
    .flatMap((l) => l.split('\n'))
    .map((l) => safeText(l))
    .join('\n')}\n`;
}
