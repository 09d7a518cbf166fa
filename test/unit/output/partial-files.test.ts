// A capture killed with SIGKILL leaves its hidden .partial file behind: the next capture into that
// directory and `cleanup` say where it is (and never delete it: it holds the packets up to the kill).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { leftoverPartials, partialPath } from '../../../src/output/partial-files.ts';
import { runPlugin } from '../../helpers/plugin.ts';
import { tempDir } from '../../helpers/temp.ts';

const SINK = new URL('../../../src/output/sink.ts', import.meta.url).href;

/** A real capture file being written by another process, killed with SIGKILL half way; resolves with its pid. */
async function killedWriter(path: string): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { fileSink } = await import(${JSON.stringify(SINK)});
       const sink = await fileSink(${JSON.stringify(path)});
       sink.stream.write(Buffer.alloc(5000, 1), () => process.stdout.write('written\\n'));
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid as number;
}

test('a SIGKILLed capture leaves its .partial file; it is found with the name it was meant for', async () => {
  const dir = tempDir('knetns-partial-');
  const pid = await killedWriter(join(dir, 'web.pcap'));
  assert.deepEqual(readdirSync(dir), [`.web.pcap.kubectl-netns-${pid}.partial`]);
  const found = leftoverPartials(dir);
  assert.equal(found.length, 1);
  assert.equal(found[0]!.path, join(dir, `.web.pcap.kubectl-netns-${pid}.partial`));
  assert.equal(found[0]!.meantFor, join(dir, 'web.pcap'));
  assert.equal(found[0]!.bytes, 5000);
  // One being written right now (by this process) is not a leftover.
  assert.deepEqual(
    leftoverPartials(dir, (p) => p === pid),
    [],
  );
  assert.equal(partialPath(join(dir, 'x.pcap'), 7), join(dir, '.x.pcap.kubectl-netns-7.partial'));
});

test('the next capture into that directory, and cleanup run there, say where it is; neither deletes it', async () => {
  const dir = tempDir('knetns-partial-');
  const pid = await killedWriter(join(dir, 'web.pcap'));
  const left = join(dir, `.web.pcap.kubectl-netns-${pid}.partial`);
  const env = { KUBECONFIG: join(dir, 'no-kubeconfig') };
  const said = new RegExp(
    `^warning: ${left.replace(/[.]/g, '\\.')} is a capture a killed run left unfinished \\(5000 bytes, last written .*\\): it holds the packets up to the kill; rename it \\(e\\.g\\. to ${join(dir, 'web.pcap').replace(/[.]/g, '\\.')}\\) to keep it, or delete it$`,
    'm',
  );
  const next = await runPlugin(['capture', 'web', '-w', join(dir, 'web2.pcap')], { env });
  assert.equal(next.code, 3, next.stderr);
  assert.match(next.stderr, said);
  const cleanup = await runPlugin(['cleanup'], { env, cwd: dir });
  assert.equal(cleanup.code, 3, cleanup.stderr);
  assert.match(cleanup.stderr, said);
  assert.equal(statSync(left).size, 5000);
});
