// How a parsed command is run. The parser calls a runner instead of the commands directly so
// tests can parse real argv strings and inspect the result without touching a cluster.
export type CommandRunner = (command: string, argv: Record<string, unknown>) => Promise<number>;

/** Runs the real command. */
export const defaultRunner: CommandRunner = async (command, argv) => {
  switch (command) {
    case 'capture':
      return (await import('../commands/capture.ts')).runCapture(argv as never);
    case 'exec':
      return (await import('../commands/exec.ts')).runExec(argv as never);
    case 'cleanup':
      return (await import('../commands/cleanup.ts')).runCleanup(argv as never);
    default:
      throw new Error(`unknown command ${command}`);
  }
};
