// The version and git commit this build came from, and the line `--version` and `version` print.
import { BUILD_INFO } from './build-info.ts';

export const VERSION: string = BUILD_INFO.version;

/** Short git commit of the build, 'unknown' when not recorded (running from src/). */
export const COMMIT: string = BUILD_INFO.commit;

/** `kubectl-netns v0.1.0 (commit abc1234)`: what --version and `kubectl netns version` print. */
export function versionLine(): string {
  return `kubectl-netns v${VERSION} (commit ${COMMIT})`;
}
