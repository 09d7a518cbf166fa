// The detached-capture listing in each output format, from spools as the agent reports them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load as parseYaml } from 'js-yaml';
import { renderCaptures, ringSummary, spoolState, type DetachedSpool } from '../../../src/output/captures-view.ts';
import { parseSpools } from '../../../src/node/spool-list.ts';

const NOW = new Date('2026-12-07T12:00:00Z');
const listed = parseSpools(
  [
    'spool\tab12cd34\trunning\t104857600\t4\t0\t3\t0\t0\t1796641200',
    'meta\tab12cd34\ttarget\tshop/web-1',
    'meta\tab12cd34\tring_files\t16',
    'meta\tab12cd34\tfile_mb\t32',
    'meta\tab12cd34\tiface\teth0',
    'spool\tef56\tended:0\t2000000\t2\t5\t6\t5\t4731\t1796637600',
    'meta\tef56\ttarget\tshop/web-2',
    'meta\tef56\tring_files\t2',
    'meta\tef56\tfile_mb\t1',
  ].join('\n'),
);
const spools: DetachedSpool[] = [
  {
    id: 'k7f3a9c2',
    namespace: 'shop',
    pod: 'netns-web-1-a1b2c3',
    node: 'n1',
    startedBy: 'alice',
    deadline: new Date('2026-12-07T14:00:00Z'),
    spool: listed[0]!,
  },
  {
    id: 'k0000001',
    namespace: 'shop',
    pod: 'netns-web-2-d4e5f6',
    node: 'n2',
    startedBy: undefined,
    deadline: undefined,
    spool: listed[1]!,
  },
];

test('table: ID, target, node, age, size, ring, state, who; oldest first; wide adds the pod and the deadline', () => {
  const table = renderCaptures(spools, 'table', NOW, false).split('\n');
  assert.match(table[0]!, /^ID\s+TARGET\s+NODE\s+AGE\s+SIZE\s+RING\s+STATE\s+STARTED BY$/);
  assert.match(
    table[1]!,
    /^k0000001\s+shop\/web-2\s+n2\s+2h\s+1\.9 MiB\s+2\/2 × 1MB, wrapped: 4731 packets lost\s+done\s*$/,
  );
  assert.match(table[2]!, /^k7f3a9c2\s+shop\/web-1\s+n1\s+60m\s+100\.0 MiB\s+4\/16 × 32MB\s+running\s+alice$/);
  const wide = renderCaptures(spools, 'wide', NOW, false).split('\n');
  assert.match(wide[0]!, /STARTED BY\s+DEBUG POD\s+KEPT UNTIL$/);
  assert.match(wide[2]!, /shop\/netns-web-1-a1b2c3\s+in 2h$/);
});

test('json/yaml: the DetachedCaptureList document; name: capture/ID once per ID', () => {
  const doc = JSON.parse(renderCaptures(spools, 'json', NOW, false)) as {
    kind: string;
    items: Array<Record<string, unknown>>;
  };
  assert.equal(doc.kind, 'DetachedCaptureList');
  assert.deepEqual(doc.items[1], {
    id: 'k7f3a9c2',
    target: 'shop/web-1',
    node: 'n1',
    debugPod: { namespace: 'shop', name: 'netns-web-1-a1b2c3' },
    startedBy: 'alice',
    startedAt: '2026-12-07T11:00:00.000Z',
    deadline: '2026-12-07T14:00:00.000Z',
    state: 'running',
    bytes: 104857600,
    ring: { files: 4, ringFiles: 16, fileMB: 32, lostFiles: 0, lostPackets: 0 },
    spoolId: 'ab12cd34',
    interface: 'eth0',
  });
  assert.deepEqual(parseYaml(renderCaptures(spools, 'yaml', NOW, false)), doc);
  assert.equal(
    renderCaptures([...spools, { ...spools[0]!, node: 'n3' }], 'name', NOW, false),
    'capture/k0000001\ncapture/k7f3a9c2\n',
  );
  assert.equal(renderCaptures([], 'table', NOW, false), '');
});

test('state and ring in words', () => {
  assert.equal(spoolState({ ...listed[0]!, state: { running: false, exitStatus: 1 } }), 'failed (1)');
  assert.equal(ringSummary({ ...listed[0]!, meta: {} }), '4 files');
});
