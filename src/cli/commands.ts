// The command table: every command kubectl-netns has, in the order --help lists them. The parser,
// the runner and shell completion all read this list.
import { capture } from '../commands/capture.ts';
import { captures } from '../commands/captures.ts';
import { fetch } from '../commands/fetch.ts';
import { stop } from '../commands/stop.ts';
import { cleanup } from '../commands/cleanup.ts';
import { completion } from '../commands/completion.ts';
import { exec } from '../commands/exec.ts';
import { inspect } from '../commands/inspect.ts';
import { ls } from '../commands/ls.ts';
import { options } from '../commands/options.ts';
import { path } from '../commands/path.ts';
import { shell } from '../commands/shell.ts';
import { version } from '../commands/version.ts';
import { whohas } from '../commands/whohas.ts';
import { wiresharkExtcap } from '../commands/wireshark-extcap.ts';
import type { Command } from './command.ts';

export const commands: readonly Command[] = [
  capture,
  captures,
  fetch,
  stop,
  path,
  exec,
  shell,
  inspect,
  ls,
  whohas,
  cleanup,
  wiresharkExtcap,
  completion,
  version,
  options,
];
