// The live status of many targets on a terminal: one line each while they fit on the screen;
// past a screenful, the running ones first and one line for the rest, so nothing scrolls away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultiStatus, summaryLine, type TargetProgress } from '../../../src/output/capture-status.ts';

const row = (i: number, state = 'capturing'): TargetProgress => ({
  label: `shop/web-${i}`,
  node: 'n1',
  packets: 10,
  bytes: 1000,
  captured: 10,
  receivedByFilter: 10,
  droppedByKernel: 0,
  state,
});

/** What MultiStatus writes to stderr during FN. */
function stderrOf(fn: () => void): string {
  const write = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stderr.write = (chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  };
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

test('500 targets on a 24-row terminal: 21 lines of targets (running first) and one summary line', () => {
  const status = new MultiStatus({ isTTY: true, columns: 120, rows: 24 }, true);
  const rows = [
    ...Array.from({ length: 100 }, (_, i) => row(i, 'ended')),
    ...Array.from({ length: 398 }, (_, i) => row(100 + i)),
    row(498, 'failed: node gone'),
    row(499, 'starting'),
  ];
  const first = stderrOf(() => status.draw(rows, 1000));
  const lines = first.split('\n').filter(Boolean);
  assert.equal(lines.length, 22);
  assert.ok(
    lines.slice(0, 21).every((l) => /: (capturing|starting),/.test(l)),
    lines.join('\n'),
  );
  assert.equal(
    lines[21],
    '… and 479 more targets (377 capturing, 100 ended, 1 failed, 1 starting): 4790 packets, 467.8 KiB',
  );
  // The next redraw goes back up exactly as many lines as it wrote: none are left behind.
  const second = stderrOf(() => status.draw(rows, 2000));
  assert.ok(second.startsWith('\x1b[22F\x1b[J'), JSON.stringify(second.slice(0, 12)));
});

test('what fits is shown whole', () => {
  const status = new MultiStatus({ isTTY: true, columns: 120, rows: 24 }, true);
  const out = stderrOf(() => status.draw([row(1), row(2, 'ended')], 1000));
  assert.equal(out.split('\n').filter(Boolean).length, 2);
  assert.equal(summaryLine([row(1, 'ended: pod ended')]), '… and 1 more targets (1 ended): 10 packets, 1000 B');
});
