// --help as kubectl lays it out (what it does, Examples with # comments, Options, Usage), for every
// command in the table, at the widths terminals have (80–120 columns), without a line that breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { commands } from '../../../src/cli/commands.ts';
import { commandHelp, globalOptionsHelp, rootHelp, wantsHelp } from '../../../src/cli/help.ts';

const MAIN = new URL('../../../src/main.ts', import.meta.url).pathname;

for (const width of [80, 100, 120]) {
  test(`every command's help at ${width} columns: Examples, Options, Usage, in that order, nothing over the width`, async () => {
    for (const c of commands) {
      const help = commandHelp(c, width);
      const at = (s: string) => help.indexOf(s);
      assert.ok(
        at('Examples:\n') > 0 && at('Examples:\n') < at('Options:\n') && at('Options:\n') < at('Usage:\n'),
        `${c.name}: ${help}`,
      );
      assert.ok(help.startsWith(`${c.summary.split(' ')[0]}`), c.name);
      const lines = help.split('\n');
      for (const [comment, command] of c.examples) {
        assert.ok(
          lines.includes(`  # ${comment}`) && lines.includes(`  kubectl netns ${command}`),
          `${c.name}: example ${command}`,
        );
      }
      const examples = new Set(c.examples.map(([, command]) => `  kubectl netns ${command}`));
      for (const line of lines) {
        // A flag's description is tab-indented as in kubectl: a terminal shows the tab as 8 columns.
        const shown = line.replace(/^\t/, ' '.repeat(8));
        if (!examples.has(line)) assert.ok(shown.length <= width, `${c.name} at ${width}: ${JSON.stringify(line)}`);
      }
      // Global flags have their own page: a command's help shows only its own.
      assert.doesNotMatch(help, /--kubeconfig|--request-timeout/, c.name);
    }
  });
}

test('exec and capture show where the command or the filter goes: after --', async () => {
  const exec = commands.find((c) => c.name === 'exec')!;
  assert.match(commandHelp(exec, 100), /Usage:\n {2}kubectl netns exec .* -- COMMAND \[args\.\.\.\]/);
  const capture = commands.find((c) => c.name === 'capture')!;
  assert.match(commandHelp(capture, 100), /Usage:\n {2}kubectl netns capture .*\[-- FILTER\.\.\.\]/);
});

test('the root help lists every command of the table; kubectl netns options lists the global flags', async () => {
  const root = rootHelp(commands, 100, 'Exit codes: ...');
  for (const c of commands) assert.match(root, new RegExp(`^ {2}${c.name} +\\S`, 'm'));
  const global = globalOptionsHelp(100);
  for (const flag of [
    '--kubeconfig',
    '--context',
    '--namespace',
    '--as',
    '--token',
    '--request-timeout',
    '--image',
    '--debug-namespace',
  ]) {
    assert.ok(global.includes(flag), flag);
  }
});

test('-h after -- belongs to the remote command, not to us', () => {
  assert.equal(wantsHelp(['exec', 'web', '--help']), true);
  assert.equal(wantsHelp(['exec', 'web', '--', 'ip', '-h']), false);
});

test('the real executable prints help on stdout with exit 0, also with a required argument missing', () => {
  const r = spawnSync(process.execPath, [MAIN, 'capture', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Capture packets/);
  // Flags as kubectl lists them: the spellings with the default, then the description after a tab.
  assert.match(r.stdout, /\n {4}-w, -o, --output='':\n\tWrite the capture to FILE/);
  assert.match(r.stdout, /\n {4}--overwrite, --force=false:\n\t/);
  assert.match(r.stdout, /\n {4}-i, --interface='auto':\n\t/);
  assert.equal(r.stderr, '');
});

test('kubectl netns options lists the flags every command takes, in their groups', () => {
  const r = spawnSync(process.execPath, [MAIN, 'options'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Global options:\n {4}-n, --namespace='':\n\t/m);
  assert.match(r.stdout, /^kubectl options .*\n {4}--kubeconfig='':\n\t/m);
  assert.match(r.stdout, /\n {4}--as-group=\[\]:\n\t/);
});
