// Option builders that several commands share, so a flag means the same thing (and reads the
// same in --help) wherever it appears.
import type { Argv } from 'yargs';
import { usageError } from '../errors.ts';
import { OUTPUT_FORMATS, type OutputFormat } from '../output/formats.ts';

export const TARGET_KINDS =
  'POD, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME or svc/NAME (one of its pods)';

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

/**
 * `-A` means --all-namespaces in kubectl, and here too where namespaces apply; commands about
 * nodes accept it only to say what to type instead.
 */
export function withAllNodes<T>(
  y: Argv<T>,
  describe: string,
): Argv<T & { 'all-nodes': boolean; 'all-namespaces': boolean | undefined }> {
  return y
    .option('all-nodes', { type: 'boolean', default: false, describe })
    .option('all-namespaces', { alias: 'A', type: 'boolean', hidden: true });
}

/** The usage error for -A on a command about nodes. */
export function rejectAllNamespaces(a: { 'all-namespaces'?: boolean | undefined }): void {
  if (a['all-namespaces']) {
    throw usageError(
      '-A (--all-namespaces) has no meaning here: this command is about nodes',
      'for every node, use --all-nodes',
    );
  }
}
