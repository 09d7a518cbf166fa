// `kubectl netns options`: the flags every command takes, on their own page, as kubectl has
// `kubectl options`, so each command's help shows only its own.
import { defineCommand } from '../cli/command.ts';
import type { GlobalArgs } from '../cli/global.ts';
import { globalOptionsHelp } from '../cli/help.ts';

export const options = defineCommand<GlobalArgs>({
  name: 'options',
  summary: 'Print the options every command takes (kubeconfig, namespace, debug image, ...)',
  usage: 'options',
  examples: [['Every global option, with its default', 'options']],
  builder: (y) => y,
  run: () => {
    process.stdout.write(`${globalOptionsHelp(process.stdout.columns)}\n`);
    return Promise.resolve(0);
  },
});
