// `kubectl netns version`: the version and git commit of this build (as `--version`), for bug
// reports and for checking what krew or npm installed. -o json adds the runtime it runs on.
import { defineCommand } from '../cli/command.ts';
import type { GlobalArgs } from '../cli/global.ts';
import { COMMIT, VERSION, versionLine } from '../version.ts';

export interface VersionArgs extends GlobalArgs {
  output?: 'json' | undefined;
}

/** What `version -o json` prints: kubectl's names (gitVersion, gitCommit) where they fit. Pure. */
export function versionInfo(): { gitVersion: string; gitCommit: string; nodeVersion: string; platform: string } {
  return {
    gitVersion: `v${VERSION}`,
    gitCommit: COMMIT,
    nodeVersion: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}

export const version = defineCommand<VersionArgs>({
  name: 'version',
  summary: 'Print the version and git commit of kubectl-netns',
  usage: 'version [-o json]',
  examples: [
    ['Print the version and commit (as --version does)', 'version'],
    ['Add the Node.js version and platform, as JSON', 'version -o json'],
  ],
  builder: (y) =>
    y.option('output', { alias: 'o', choices: ['json'] as const, describe: 'Print JSON instead of one line' }),
  run: (a) => {
    process.stdout.write(a.output === 'json' ? `${JSON.stringify(versionInfo(), null, 2)}\n` : `${versionLine()}\n`);
    return Promise.resolve(0);
  },
});
