// Builders and parsers of the on-node agent. The stderr strings are real tcpdump 4.99.3 / nsenter
// (util-linux 2.38.1) output captured on a Debian 12 node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AGENT_EXIT,
  agentExitName,
  captureArgv,
  execArgv,
  parseAgentError,
  parseAgentInfo,
  parseCaptureInfo,
  parsePidOutput,
  parseTcpdumpStats,
  parseTcpdumpStatsLine,
  pidArgv,
  statsArgv,
  stopArgv,
} from '../../../src/node/agent.ts';
import { agentPath, agentScript } from '../../../src/node/agent-install.ts';

const script = readFileSync(new URL('../../../src/node/agent.sh', import.meta.url), 'utf8');
const head = ['sh', agentPath()];

// Real stderr of a capture that got SIGUSR1 twice and then SIGINT.
const CAPTURE_STDERR = [
  'kubectl-netns-agent: info: capturing on eth0 in netns 4026532177 (pid 11381)',
  'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
  'tcpdump: 0 packets captured, 4 packets received by filter, 0 packets dropped by kernel',
  'tcpdump: 0 packets captured, 6 packets received by filter, 0 packets dropped by kernel',
  '6 packets captured',
  '6 packets received by filter',
  '0 packets dropped by kernel',
  '',
].join('\n');

test('agentScript() is agent.sh, read once', () => {
  assert.equal(agentScript(), script);
  assert.equal(agentScript(), agentScript());
});

test('pidArgv: uid, then container ids with the runtime prefix removed', () => {
  const argv = pidArgv({
    podUid: '78659545-8c40-4e11-8998-4d5eb7e553e5',
    containerIds: ['containerd://1285db52efdd', 'cri-o://9f31', 'abc'],
  });
  assert.deepEqual(argv, [
    ...head,
    'pid',
    '--uid',
    '78659545-8c40-4e11-8998-4d5eb7e553e5',
    '1285db52efdd',
    '9f31',
    'abc',
  ]);
  assert.deepEqual(pidArgv({ podUid: 'a-b', containerIds: [] }), [...head, 'pid', '--uid', 'a-b']);
});

test('pidArgv rejects what is not a pod UID or container id', () => {
  assert.throws(() => pidArgv({ podUid: '', containerIds: [] }), RangeError);
  assert.throws(() => pidArgv({ podUid: 'x;rm -rf /', containerIds: [] }), RangeError);
  assert.throws(() => pidArgv({ podUid: 'ab', containerIds: ['$(id)'] }), RangeError);
  assert.throws(() => pidArgv({ podUid: 'ab', containerIds: ['containerd://'] }), RangeError);
  assert.throws(() => pidArgv({ podUid: 'ab', containerIds: ['../x'] }), RangeError);
});

test('captureArgv: every option, then -- and the filter words untouched', () => {
  const filter = ['tcp', 'port', '80', ';', '$(touch /tmp/x)', '`id`', "'", '"', '&&', 'a\nb', '-w', '/tmp/x'];
  const argv = captureArgv({
    pid: 4242,
    iface: 'eth0',
    snaplen: 96,
    count: 10,
    durationSeconds: 30,
    id: 'ab12cd34',
    filter,
  });
  assert.deepEqual(argv, [
    ...head,
    'capture',
    '--pid',
    '4242',
    '--iface',
    'eth0',
    '--snaplen',
    '96',
    '--count',
    '10',
    '--duration',
    '30',
    '--id',
    'ab12cd34',
    '--',
    ...filter,
  ]);
});

test('captureArgv: defaults to -i auto, omits unset options, always ends options with --', () => {
  assert.deepEqual(captureArgv({ pid: 7, filter: [] }), [...head, 'capture', '--pid', '7', '--iface', 'auto', '--']);
  assert.deepEqual(
    captureArgv({ pid: 7, iface: 'any', snaplen: undefined, count: undefined, id: undefined, filter: ['icmp'] }).slice(
      2,
    ),
    ['capture', '--pid', '7', '--iface', 'any', '--', 'icmp'],
  );
});

test('captureArgv: a running pod found by the agent itself, one --cid per container, and --compress', () => {
  const argv = captureArgv({
    find: { podUid: '0f1e2d3c-aaaa-bbbb-cccc-001122334455', containerIds: ['containerd://abc123', 'def456'] },
    compress: 'auto',
    filter: [],
  });
  assert.deepEqual(argv.slice(2), [
    'capture',
    '--uid',
    '0f1e2d3c-aaaa-bbbb-cccc-001122334455',
    '--cid',
    'abc123',
    '--cid',
    'def456',
    '--iface',
    'auto',
    '--compress',
    'auto',
    '--',
  ]);
  assert.throws(() => captureArgv({ find: { podUid: 'x;y', containerIds: [] }, filter: [] }), RangeError);
  assert.throws(() => captureArgv({ find: { podUid: 'ab', containerIds: ['$(id)'] }, filter: [] }), RangeError);
  assert.throws(() => captureArgv({ pid: 7, compress: 'xz' as 'gzip', filter: [] }), RangeError);
});

test('captureArgv rejects bad numbers, interface names, ids and NUL bytes', () => {
  const ok = { pid: 7, filter: [] as string[] };
  for (const pid of [0, -1, 1.5, Number.NaN, 1e10])
    assert.throws(() => captureArgv({ ...ok, pid }), RangeError, `pid ${pid}`);
  for (const iface of ['', '-i', 'a b', 'eth0;id', 'x'.repeat(16), '../x', '@if2']) {
    assert.throws(() => captureArgv({ ...ok, iface }), RangeError, `iface ${iface}`);
  }
  assert.doesNotThrow(() => captureArgv({ ...ok, iface: 'eth0@if9' }));
  assert.throws(() => captureArgv({ ...ok, snaplen: 262145 }), RangeError);
  assert.throws(() => captureArgv({ ...ok, count: 0 }), RangeError);
  assert.throws(() => captureArgv({ ...ok, durationSeconds: 2.5 }), RangeError);
  assert.throws(() => captureArgv({ ...ok, id: '../../etc/x' }), RangeError);
  assert.throws(() => captureArgv({ ...ok, filter: ['a\0b'] }), RangeError);
});

test('stopArgv, statsArgv, execArgv', () => {
  assert.deepEqual(stopArgv('ab12'), [...head, 'stop', 'ab12']);
  assert.deepEqual(statsArgv('ab12'), [...head, 'stats', 'ab12']);
  assert.throws(() => stopArgv('a/b'), RangeError);
  assert.deepEqual(execArgv({ pid: 5, command: ['sh', '-c', 'exit 7'] }), [
    ...head,
    'exec',
    '--pid',
    '5',
    '--',
    'sh',
    '-c',
    'exit 7',
  ]);
  assert.throws(() => execArgv({ pid: 5, command: [] }), RangeError);
  assert.throws(() => execArgv({ pid: 5, command: [''] }), RangeError);
});

test('parsePidOutput', () => {
  assert.deepEqual(parsePidOutput('4242 4026532308\n'), { pid: 4242, netnsInode: '4026532308' });
  for (const bad of ['', '4242', 'abc 1', '4242 4026532308\n1 2\n', '0 5'])
    assert.throws(() => parsePidOutput(bad), `${JSON.stringify(bad)}`);
});

test('parseAgentError finds the one error line among tool output', () => {
  const stderr =
    "tcpdump: can't parse filter expression: syntax error\r\nkubectl-netns-agent: error: BAD_FILTER: tcpdump rejected the capture filter: tcpdump: can't parse filter expression: syntax error\n";
  assert.deepEqual(parseAgentError(stderr), {
    code: 'BAD_FILTER',
    message: "tcpdump rejected the capture filter: tcpdump: can't parse filter expression: syntax error",
  });
  assert.equal(parseAgentError(CAPTURE_STDERR), undefined);
  assert.equal(parseAgentError('nsenter: failed to execute nosuchcmd: No such file or directory\n'), undefined);
  assert.equal(parseAgentError('kubectl-netns-agent: error: NOT_A_CODE: x\n'), undefined);
});

test('parseAgentInfo and parseCaptureInfo', () => {
  const line = CAPTURE_STDERR.split('\n')[0]!;
  assert.equal(parseAgentInfo(line), 'capturing on eth0 in netns 4026532177 (pid 11381)');
  assert.deepEqual(parseCaptureInfo(line), { iface: 'eth0', netnsInode: '4026532177', pid: 11381 });
  assert.equal(
    parseAgentInfo('tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes'),
    undefined,
  );
  assert.equal(parseCaptureInfo('kubectl-netns-agent: info: pid 42 is in container abc'), undefined);
  assert.equal(parseAgentInfo('kubectl-netns-agent: info: pid 42 is in container abc\r'), 'pid 42 is in container abc');
});

test('parseTcpdumpStats: the latest complete set, final block or SIGUSR1 line', () => {
  assert.deepEqual(parseTcpdumpStats(CAPTURE_STDERR), { captured: 6, receivedByFilter: 6, droppedByKernel: 0 });
  assert.deepEqual(parseTcpdumpStats(CAPTURE_STDERR.split('\n')[3]!), {
    captured: 0,
    receivedByFilter: 6,
    droppedByKernel: 0,
  });
  assert.deepEqual(
    parseTcpdumpStats('1 packet captured\r\n1 packet received by filter\r\n0 packets dropped by kernel\r\n'),
    {
      captured: 1,
      receivedByFilter: 1,
      droppedByKernel: 0,
    },
  );
  assert.deepEqual(
    parseTcpdumpStats(
      '9 packets captured\n12 packets received by filter\n3 packets dropped by kernel\n2 packets dropped by interface\n',
    ),
    {
      captured: 9,
      receivedByFilter: 12,
      droppedByKernel: 3,
      droppedByInterface: 2,
    },
  );
  assert.equal(parseTcpdumpStats('tcpdump: listening on eth0\n6 packets captured\n'), undefined);
});

test('parseTcpdumpStatsLine: one line of either form', () => {
  assert.deepEqual(parseTcpdumpStatsLine(CAPTURE_STDERR.split('\n')[2]!), {
    captured: 0,
    receivedByFilter: 4,
    droppedByKernel: 0,
  });
  assert.deepEqual(parseTcpdumpStatsLine('6 packets received by filter'), { receivedByFilter: 6 });
  assert.equal(
    parseTcpdumpStatsLine('tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes'),
    undefined,
  );
});

test('AGENT_EXIT: distinct codes, 64 and up, the same table as agent.sh', () => {
  const codes = Object.values(AGENT_EXIT).map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length);
  assert.ok(codes.every((c) => c >= 64 && c < 126));
  const fromFail = Object.fromEntries(
    [...script.matchAll(/^\s+([A-Z_]+)\) fail_rc=(\d+) ;;$/gm)].map((m) => [m[1], Number(m[2])]),
  );
  const fromHeader = Object.fromEntries(
    [...script.matchAll(/^#\s+(\d+) ([A-Z_]+)\s/gm)].map((m) => [m[2], Number(m[1])]),
  );
  const table = Object.fromEntries(Object.entries(AGENT_EXIT).map(([k, v]) => [k, v.code]));
  assert.deepEqual(fromFail, table);
  assert.deepEqual(fromHeader, table);
  assert.equal(agentExitName(69), 'BAD_FILTER');
  assert.equal(agentExitName(1), undefined);
  assert.equal(agentExitName(127), undefined);
});
