// One program, two names: the single executable answers completion when invoked as
// kubectl_complete-netns (a link or copy, .exe on Windows) or with the hidden first argument
// __complete (what the shipped helper script runs); anything else is the plugin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dispatch } from '../../src/entry.ts';

test('invoked as kubectl-netns: the plugin, with every argument', () => {
  assert.deepEqual(dispatch(['/usr/bin/node', '/usr/lib/node_modules/kubectl-netns/dist/main.js', 'capture', 'web']), {
    program: 'plugin',
    args: ['capture', 'web'],
  });
  assert.deepEqual(
    dispatch(['/home/u/.krew/bin/kubectl-netns', '/home/u/.krew/bin/kubectl-netns', 'version', '-o', 'json']),
    {
      program: 'plugin',
      args: ['version', '-o', 'json'],
    },
  );
});

test('--version, or version alone: the one line, without loading the parser', () => {
  for (const word of ['--version', 'version'])
    assert.deepEqual(dispatch(['/home/u/.krew/bin/kubectl-netns', '/home/u/.krew/bin/kubectl-netns', word]), {
      program: 'version',
      args: [],
    });
  assert.equal(dispatch(['/bin/kubectl-netns', '/bin/kubectl-netns', 'capture', '--version']).program, 'plugin');
});

test('invoked under the helper name: completion, with kubectl words unchanged', () => {
  assert.deepEqual(dispatch(['/opt/kubectl-netns', '/home/u/.krew/bin/kubectl_complete-netns', 'capture', '']), {
    program: 'complete',
    args: ['capture', ''],
  });
  assert.deepEqual(dispatch(['C:\\krew\\kubectl-netns.exe', 'kubectl_complete-netns.exe', 'ex']), {
    program: 'complete',
    args: ['ex'],
  });
});

test('__complete as the first argument: completion of the words after it; elsewhere it is a word', () => {
  assert.deepEqual(dispatch(['/bin/kubectl-netns', '/bin/kubectl-netns', '__complete', 'exec', '-n', '']), {
    program: 'complete',
    args: ['exec', '-n', ''],
  });
  assert.deepEqual(dispatch(['/bin/kubectl-netns', '/bin/kubectl-netns', 'exec', 'web', '--', '__complete']), {
    program: 'plugin',
    args: ['exec', 'web', '--', '__complete'],
  });
});

test("the Wireshark extcap launcher's words: the extcap, with Wireshark's arguments after --", () => {
  assert.deepEqual(
    dispatch([
      '/usr/bin/node',
      '/x/dist/main.js',
      'wireshark-extcap',
      'run',
      '--',
      '--extcap-interfaces',
      '--extcap-version=4.0',
    ]),
    { program: 'extcap', args: ['--extcap-interfaces', '--extcap-version=4.0'] },
  );
  assert.deepEqual(dispatch(['/k', '/k', 'wireshark-extcap', 'install']), {
    program: 'plugin',
    args: ['wireshark-extcap', 'install'],
  });
});
