// `kubectl netns wireshark-extcap install|uninstall`: puts Kubernetes pods into Wireshark's own
// interface list (one interface per kubeconfig context) by writing a small launcher into
// Wireshark's extcap folder, or takes it out again. `wireshark-extcap run -- ARGS` is what the
// launcher runs: Wireshark's extcap protocol (src/extcap/), handed the capture command's own code.
import { defineCommand } from '../cli/command.ts';
import type { GlobalArgs } from '../cli/global.ts';
import { usageError, UserError, ExitCode } from '../errors.ts';
import { info, warn } from '../log.ts';
import { candidateFolders, wiresharkExtcapFolder, type FolderChoice } from '../extcap/folders.ts';
import { checkLauncher, removeLaunchers, selfCommand, writeLauncher } from '../extcap/install.ts';
import { RUN_ARGS } from '../extcap/launcher.ts';
import { runExtcap } from '../extcap/run.ts';
import { resolve } from 'node:path';
import { extcapHost } from './shared/extcap-host.ts';

export interface WiresharkExtcapArgs extends GlobalArgs {
  action: string;
  dir?: string | undefined;
  '--'?: Array<string | number> | undefined;
}

export const ACTIONS = ['install', 'uninstall'] as const;

export const wiresharkExtcap = defineCommand<WiresharkExtcapArgs>({
  name: 'wireshark-extcap',
  positionals: '<action>',
  completes: ACTIONS,
  summary: "Show Kubernetes pods in Wireshark's interface list (install), or stop showing them (uninstall)",
  usage: 'wireshark-extcap (install | uninstall) [--dir DIR]',
  examples: [
    ['Add a "Kubernetes pods" interface per kubeconfig context to Wireshark', 'wireshark-extcap install'],
    ['Into another extcap folder (Wireshark: Help > About > Folders)', 'wireshark-extcap install --dir ~/extcap'],
    ['Remove them again', 'wireshark-extcap uninstall'],
  ],
  notes:
    "install writes a small launcher into Wireshark's personal extcap folder (found with tshark -G folders; the global one where Wireshark has no personal one) and says where and why. The launcher runs this kubectl-netns by its absolute path: run install again after moving or upgrading kubectl-netns or Node.js. In Wireshark, open an interface's options (the gear), choose the namespace, press Load pods, choose a pod and start. Stopping the capture deletes the debug pod. Nothing is installed in the cluster.",
  builder: (y) =>
    y.positional('action', { type: 'string', demandOption: true, describe: 'install or uninstall' }).option('dir', {
      type: 'string',
      describe: "Wireshark's extcap folder to use instead of the one found (install and uninstall)",
    }),
  run: (a) => {
    if (a.action === 'install') return install(a);
    if (a.action === 'uninstall') return Promise.resolve(uninstall(a));
    // What the launcher runs; not for people, so not in the usage line.
    if (a.action === 'run') return runExtcap((a['--'] ?? []).map(String), extcapHost);
    throw usageError(`unknown action "${a.action}"`, 'use install or uninstall');
  },
});

/** The folder to install into: --dir, else what the installed Wireshark reads. */
function targetFolder(dir: string | undefined): FolderChoice {
  if (dir !== undefined) return { dir: resolve(dir), why: 'given with --dir' };
  const found = wiresharkExtcapFolder();
  if (found) return found;
  throw new UserError(
    'Wireshark is not installed (no tshark, dumpcap or wireshark on PATH or where installers put it)',
    {
      exitCode: ExitCode.notFound,
      hint: 'install Wireshark first, or give its extcap folder with --dir (Wireshark: Help > About Wireshark > Folders)',
    },
  );
}

async function install(a: WiresharkExtcapArgs): Promise<number> {
  const folder = targetFolder(a.dir);
  const self = await selfCommand();
  if (self.script && /[\\/]_npx[\\/]/.test(self.script)) {
    warn(
      `this kubectl-netns runs from npx's cache (${self.script}), which npm may empty: install kubectl-netns for good, then run install again`,
    );
  }
  const kubeconfig = a.kubeconfig ? resolve(a.kubeconfig) : process.env.KUBECONFIG;
  const { path, replaced } = writeLauncher(folder.dir, process.platform, self, { kubeconfig, path: process.env.PATH });
  info(`${replaced ? 'replaced' : 'installed'} ${path}`);
  info(`  folder: ${folder.why}`);
  info(`  it runs: ${[self.program, ...(self.script ? [self.script] : []), ...RUN_ARGS].join(' ')} ARGS`);
  if (kubeconfig) info(`  with KUBECONFIG=${kubeconfig} unless Wireshark's environment sets one`);
  const interfaces = checkLauncher(path, process.platform);
  info(`Wireshark will list ${interfaces.length} interface${interfaces.length === 1 ? '' : 's'}:`);
  for (const i of interfaces) info(`  ${i}`);
  info('restart Wireshark, or press F5 (Capture > Refresh Interfaces), to see them');
  return 0;
}

function uninstall(a: WiresharkExtcapArgs): number {
  const dirs = a.dir !== undefined ? [resolve(a.dir)] : candidateFolders();
  const { removed, foreign } = removeLaunchers(dirs, process.platform);
  for (const p of removed) info(`removed ${p}`);
  for (const p of foreign) warn(`left ${p} alone: it is not a kubectl-netns launcher`);
  if (removed.length === 0) info(`no kubectl-netns launcher found in ${dirs.join(', ')}`);
  return 0;
}
