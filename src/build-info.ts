// Where the version and git commit come from at run time. The npm build (scripts/build.ts) writes
// build-info.json next to the compiled JS; package.json sits one level above src/ and dist/ alike.
// The single executable has no files to read: scripts/release/bundle.ts replaces this module with
// the same export holding literal values, so keep its shape (one `BUILD_INFO` constant).
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  /** package.json's version, without a leading v. */
  readonly version: string;
  /** Short git commit the build came from (with -dirty for uncommitted changes), or 'unknown'. */
  readonly commit: string;
}

function readJson(relative: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const pkg = readJson('../package.json');
const recorded = readJson('./build-info.json');

export const BUILD_INFO: BuildInfo = {
  version: typeof pkg?.version === 'string' ? pkg.version : '0.0.0',
  // Running from src/ (tests, node src/main.ts) has no recorded commit.
  commit: typeof recorded?.commit === 'string' ? recorded.commit : 'unknown',
};
