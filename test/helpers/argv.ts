// Parses a real argv string with the real parser; the runner records the command instead of
// touching a cluster.
import assert from 'node:assert/strict';
import { buildParser } from '../../src/cli/parser.ts';

export async function parse(line: string): Promise<{ command: string; argv: Record<string, unknown> }> {
  let seen: { command: string; argv: Record<string, unknown> } | undefined;
  await buildParser(line.split(' ').filter(Boolean), async (command, argv) => {
    seen = { command, argv: { ...argv } };
    return 0;
  }).parseAsync();
  assert.ok(seen, `no command ran for: ${line}`);
  return seen;
}
