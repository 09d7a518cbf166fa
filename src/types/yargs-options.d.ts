// yargs has getOptions() at run time (every version since 3), but @types/yargs does not declare it.
// Completion reads the real parser's options through it instead of keeping its own flag list.
import 'yargs';

declare module 'yargs' {
  // T must repeat the original declaration's parameter for the interfaces to merge.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Argv<T> {
    getOptions(): {
      key: Record<string, boolean>;
      boolean: string[];
      string: string[];
      number: string[];
      alias: Record<string, string[]>;
      choices: Record<string, readonly string[]>;
      hiddenOptions: string[];
    };
  }
}
