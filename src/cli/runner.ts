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
    case 'shell':
      return (await import('../commands/shell.ts')).runShell(argv as never);
    case 'inspect':
      return (await import('../commands/inspect.ts')).runInspect(argv as never);
    case 'ls':
      return (await import('../commands/ls.ts')).runLs(argv as never);
    case 'whohas':
      return (await import('../commands/whohas.ts')).runWhoHas(argv as never);
    case 'cleanup':
      return (await import('../commands/cleanup.ts')).runCleanup(argv as never);
    default:
      throw new Error(`unknown command ${command}`);
  }
};
