// renderTable must look like `kubectl get` when piped (plain, aligned, no escape codes, no box
// glyphs) whatever the environment says about colour, and renderJson must round-trip the data.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { renderJson, renderTable, type Column, type Row } from '../../../src/output/table.ts';

const columns: Column[] = [
  { key: 'namespace', header: 'NAMESPACE' },
  { key: 'name', header: 'NAME' },
  { key: 'packets', header: 'PACKETS', align: 'right' },
  { key: 'node', header: 'NODE' },
];
const rows: Row[] = [
  { namespace: 'shop', name: 'web-7d9f8c-abcde', packets: 1234, node: 'node-1' },
  { namespace: 'kube-system', name: 'coredns-1', packets: 7, node: undefined },
  { namespace: 'default', name: 'a', packets: 0, node: 'node-22' },
];

const BOX = /[─│┌┐└┘├┤┬┴┼═║]/;

// Start offsets of each column in a line whose cells are separated by runs of 2+ spaces.
function cellStarts(line: string): number[] {
  const starts = [0];
  for (const m of line.matchAll(/ {2,}(?=\S)/g)) starts.push((m.index ?? 0) + m[0].length);
  return starts;
}

describe('renderTable', () => {
  test('plain output has no escape codes, no box glyphs, no trailing blanks, and ends with a newline', () => {
    const out = renderTable(columns, rows, { color: false });
    assert.doesNotMatch(out, /\x1b\[/);
    assert.doesNotMatch(out, BOX);
    assert.ok(out.endsWith('\n'));
    for (const line of out.slice(0, -1).split('\n')) assert.equal(line, line.trimEnd());
  });

  test('columns are aligned and separated by at least two spaces, like kubectl get', () => {
    const lines = renderTable(columns, rows, { color: false }).trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0] as string, /^NAMESPACE {2,}NAME {2,}PACKETS {2,}NODE$/);
    // Left-aligned columns (NAMESPACE, NAME, NODE) start at the same offset on every line that has them.
    const header = cellStarts(lines[0] as string);
    for (const i of [1, 3]) {
      const starts = cellStarts(lines[i] as string);
      assert.deepEqual([starts[0], starts[1], starts[3]], [header[0], header[1], header[3]], `line ${i}`);
    }
    assert.equal(cellStarts(lines[2] as string)[1], header[1]);
    // The right-aligned column ends at the same offset on every line.
    const end = (line: string, text: string) => line.indexOf(text) + text.length;
    const packetsEnd = end(lines[0] as string, 'PACKETS');
    assert.equal(end(lines[1] as string, '1234'), packetsEnd);
    assert.equal(end(lines[2] as string, ' 7'), packetsEnd);
    assert.equal(end(lines[3] as string, ' 0'), packetsEnd);
    // An undefined cell is empty, not "undefined".
    assert.doesNotMatch(lines[2] as string, /undefined/);
    assert.equal(lines[2], (lines[2] as string).trimEnd());
  });

  test('exact plain layout', () => {
    assert.equal(
      renderTable(columns, rows, { color: false }),
      [
        'NAMESPACE     NAME               PACKETS   NODE',
        'shop          web-7d9f8c-abcde      1234   node-1',
        'kube-system   coredns-1                7',
        'default       a                        0   node-22',
        '',
      ].join('\n'),
    );
  });

  test('colour (only when asked) styles the header and keeps the same layout without borders', () => {
    const colored = renderTable(columns, rows, { color: true });
    assert.match(colored, /\x1b\[1m\x1b\[36mNAMESPACE\x1b\[39m\x1b\[22m/);
    assert.doesNotMatch(colored, BOX);
    // Stripping the codes gives exactly the plain table: widths ignore the escape codes.
    assert.equal(colored.replace(/\x1b\[[0-9;]*m/g, ''), renderTable(columns, rows, { color: false }));
  });

  test('control characters in values are escaped so they cannot break alignment or the terminal', () => {
    const out = renderTable([{ key: 'm', header: 'MESSAGE' }], [{ m: 'line1\nline2\x1b[31m' }], { color: false });
    assert.equal(out, 'MESSAGE\nline1\\x0aline2\\x1b[31m\n');
  });

  test('no rows gives just the header line', () => {
    assert.equal(renderTable(columns, [], { color: false }), 'NAMESPACE   NAME   PACKETS   NODE\n');
  });

  test('piped from a real process with a colour-forcing environment, output stays plain', () => {
    // cli-table3's colour library colours piped output by default and obeys FORCE_COLOR; we must not.
    const script = `import { renderTable } from ${JSON.stringify(new URL('../../../src/output/table.ts', import.meta.url).href)};
process.stdout.write(renderTable([{ key: 'a', header: 'A' }, { key: 'b', header: 'B' }], [{ a: 'x', b: 1 }], { color: false }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '3' },
    });
    assert.equal(out, 'A   B\nx   1\n');
  });
});

describe('renderJson', () => {
  test('pretty JSON with a trailing newline that parses back to the data', () => {
    const value = { items: rows.map((r) => ({ ...r, node: r.node ?? null })), total: 3 };
    const out = renderJson(value);
    assert.ok(out.endsWith('}\n'));
    assert.match(out, /^{\n {2}"items": \[/);
    assert.deepEqual(JSON.parse(out), value);
    assert.doesNotMatch(out, /\x1b\[/);
  });
});

test('a long table is laid out in chunks that line up exactly as one table would (wide, combining and empty cells too)', () => {
  const columns: Column[] = [
    { key: 'inode', header: 'INODE', align: 'right' },
    { key: 'pod', header: 'POD' },
    { key: 'n', header: 'N', align: 'right' },
    { key: 'path', header: 'PATHS' },
  ];
  const odd = ['漢字', '🙂', 'e\u0301', 'ｱｲ', '', 'plain'];
  const rows: Row[] = Array.from({ length: 257 }, (_, i) => ({
    inode: 4026531833 + i * 97,
    pod: i % 13 === 0 ? undefined : `ns-${i % 7}/pod-${'x'.repeat((i * 13) % 23)}${odd[i % odd.length]}`,
    n: i % 5,
    // The widest cell of a column comes late, so the first chunk alone would be too narrow.
    path: i === 250 ? `/run/netns/${'w'.repeat(60)}` : `/run/netns/cni-${i}`,
  }));
  for (const color of [false, true]) {
    const chunked = renderTable(columns, rows, { color });
    assert.equal(chunked, renderTable(columns, rows, { color, chunkRows: Number.MAX_SAFE_INTEGER }));
    assert.equal(chunked.split('\n').length, rows.length + 2, 'one header line, one line per row, a final newline');
  }
});
