// ls/whohas output: the table shows exactly the JSON fields (rendered from the same items, checked
// cell by cell after parsing the plain text back), and the JSON fits the shape docs/output.md documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildNetnsTable, type PodRef } from '../../../src/node/netns-table.ts';
import { parseScan } from '../../../src/node/scan.ts';
import { parseAddressQuery } from '../../../src/node/address-match.ts';
import { whoHas } from '../../../src/commands/whohas.ts';
import {
  cellOf,
  columnsFor,
  fieldOf,
  LS_COLUMNS,
  netnsItem,
  renderNetnsList,
  renderWhoHas,
  WHOHAS_COLUMNS,
  type FieldColumn,
  type NetnsItem,
} from '../../../src/output/netns-views.ts';
import { checkShape, documentedShape } from '../../helpers/shape.ts';

const facts = parseScan(readFileSync(new URL('../node/fixtures/scan-knetns-node.txt', import.meta.url), 'utf8'));
const PODS: PodRef[] = [
  { namespace: 'knt-explore', name: 'web', uid: '8c9ee550-beaf-4c16-a94f-c7d881d918d1', containerIds: [] },
  { namespace: 'e2e-capture-10050', name: 'web', uid: '852025f0-2c63-42cd-b567-7b0a8b201898', containerIds: [] },
];
const entries = buildNetnsTable(facts, PODS);
const items = entries.map((e) => netnsItem('knetns-node', e));

/** The plain table back into cells: columns are separated by 3 spaces and cells never hold 2. */
function parseTable(text: string): { headers: string[]; rows: string[][] } {
  const [head, ...lines] = text.trimEnd().split('\n');
  const split = (l: string) => l.trim().split(/ {2,}/);
  return { headers: split(head!), rows: lines.map(split) };
}

/** What docs/forensics.md says each field looks like in a table, independent of the renderer. */
function expected(item: object, c: FieldColumn): string {
  const v = fieldOf(item, c.field);
  if (c.field === 'pod') {
    const p = v as NetnsItem['pod'];
    return p?.name ? `${p.namespace}/${p.name}` : p?.uid ? `uid:${p.uid}` : '<none>';
  }
  if (c.field === 'holders')
    return (v as NetnsItem['holders']).map((h) => `${h.command}/${h.pid}`).join(',') || '<none>';
  if (c.field === 'matches')
    return (
      (v as Array<{ interface: string; address: string }>).map((m) => `${m.interface}=${m.address}`).join(',') ||
      '<none>'
    );
  if (Array.isArray(v)) return (v as string[]).join(',') || '<none>';
  return v === null || v === undefined || v === ''
    ? '<none>'
    : typeof v === 'string' || typeof v === 'number'
      ? String(v)
      : JSON.stringify(v);
}

for (const format of ['table', 'wide'] as const) {
  test(`ls -o ${format}: every cell is its JSON field`, () => {
    const { headers, rows } = parseTable(renderNetnsList(items, format, false));
    const cols = columnsFor(LS_COLUMNS, format);
    assert.deepEqual(
      headers,
      cols.map((c) => c.header),
    );
    assert.equal(rows.length, items.length);
    rows.forEach((row, i) =>
      assert.deepEqual(
        row,
        cols.map((c) => expected(items[i]!, c)),
        `row ${i}`,
      ),
    );
  });
}

test('the narrow table names the node only when several nodes are listed', () => {
  assert.equal(parseTable(renderNetnsList(items, 'table', false)).headers[0], 'INODE');
  const many = parseTable(renderNetnsList(items, 'table', false, true));
  assert.equal(many.headers[0], 'NODE');
  assert.equal(many.rows[0]![0], 'knetns-node');
});

test('-o wide shows every JSON field of an ls item (pod as NAMESPACE/NAME plus its UID)', () => {
  const shown = new Set(columnsFor(LS_COLUMNS, 'wide').map((c) => c.field.split('.')[0]));
  assert.deepEqual([...shown].sort(), Object.keys(items[0]!).sort());
  const whoShown = new Set(columnsFor(WHOHAS_COLUMNS, 'wide').map((c) => c.field.split('.')[0]));
  assert.deepEqual([...whoShown].sort(), [...Object.keys(items[0]!), 'matches'].sort());
});

test("ls -o json fits the documented shape; the items are the fixture's namespaces", () => {
  const doc = JSON.parse(renderNetnsList(items, 'json', false));
  checkShape(doc, documentedShape('NetnsList'));
  assert.deepEqual(
    (doc.items as NetnsItem[]).map((i) => `${i.inode} ${i.state}`),
    [
      '4026531833 host',
      '4026532180 pod',
      '4026532257 pod',
      '4026532334 stale',
      '4026532410 orphaned',
      '4026532482 stale',
    ],
  );
  const orphan = (doc.items as NetnsItem[]).find((i) => i.state === 'orphaned')!;
  assert.deepEqual(orphan, {
    node: 'knetns-node',
    inode: 4026532410,
    state: 'orphaned',
    pod: null,
    processes: 0,
    pid: null,
    command: null,
    interfaces: 2,
    ipv4: ['10.232.7.9'],
    ipv6: [],
    paths: ['/proc/26930/root/tmp/knt-held-jSMNK1/net'],
    holders: [{ pid: 26930, command: 'sleep', mountNamespace: 4026532481, processes: 1 }],
    enter: 'nsenter --net=/proc/26930/root/tmp/knt-held-jSMNK1/net',
  });
});

test('whohas: table cells are the JSON fields, the JSON fits the documented shape', () => {
  const scan = { node: 'knetns-node', facts, pods: PODS, entries, scanMs: 1 };
  const result = whoHas(parseAddressQuery('10.232.7.9'), [
    { node: 'knetns-node', scan },
    { node: 'n2', error: new Error('debug pod failed') },
  ]);
  checkShape(JSON.parse(renderWhoHas(result, 'json', false)), documentedShape('WhoHas'));
  assert.deepEqual(result.nodes, ['knetns-node']);
  assert.deepEqual(result.errors, [{ node: 'n2', message: 'debug pod failed' }]);
  assert.deepEqual(
    result.items.map((i) => [i.inode, i.state, i.matches]),
    [[4026532410, 'orphaned', [{ interface: 'knt-leak0', address: '10.232.7.9/24' }]]],
  );
  for (const format of ['table', 'wide'] as const) {
    const { headers, rows } = parseTable(renderWhoHas(result, format, false));
    const cols = columnsFor(WHOHAS_COLUMNS, format);
    assert.deepEqual(
      headers,
      cols.map((c) => c.header),
    );
    assert.deepEqual(rows, [cols.map((c) => expected(result.items[0]!, c))]);
  }
});

test('cellOf: <none> for nothing, lists comma-joined, numbers as they are', () => {
  assert.deepEqual([null, undefined, '', []].map(cellOf), ['<none>', '<none>', '<none>', '<none>']);
  assert.equal(cellOf(['a', 'b']), 'a,b');
  assert.equal(cellOf(0), 0);
});
