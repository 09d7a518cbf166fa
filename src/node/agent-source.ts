// Reads the on-node agent's source. The npm build copies agent.sh next to the compiled JS; the
// single executable has no files to read, so scripts/release/bundle.ts replaces this module with
// the same export returning the script's text (keep its shape: one `readAgentSource` function).
import { readFileSync } from 'node:fs';

/** agent.sh's text, read from beside this module. */
export function readAgentSource(): string {
  return readFileSync(new URL('./agent.sh', import.meta.url), 'utf8');
}
