// What may reach a person's terminal: colour only where it helps (a terminal, NO_COLOR unset).
/** Colour for STREAM: only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}
