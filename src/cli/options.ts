// Option builders that several commands share, so a flag means the same thing (and reads the
// same in --help) wherever it appears.
import type { Argv } from 'yargs';
import { OUTPUT_FORMATS, type OutputFormat } from '../output/formats.ts';

const TARGET_KINDS = 'POD, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME or job/NAME';

/** The `<target>` positional of commands that act on one pod. */
export function withTarget<T>(y: Argv<T>): Argv<T & { target: string }> {
  return y.positional('target', { type: 'string', demandOption: true, describe: TARGET_KINDS });
}

/** `-c/--container`: which container's network namespace (all containers of a pod share one). */
export function withContainer<T>(
  y: Argv<T>,
  describe = 'Container whose network namespace to use (default: the default container, else the first)',
): Argv<T & { container: string | undefined }> {
  return y.option('container', { alias: 'c', type: 'string', describe });
}

const TABLE: OutputFormat = 'table';

/** `-o/--output` for commands that print tables: table, wide or json. */
export function withOutputFormat<T>(y: Argv<T>, describe: string): Argv<T & { output: OutputFormat }> {
  return y.option('output', { alias: 'o', choices: OUTPUT_FORMATS, default: TABLE, describe });
}
