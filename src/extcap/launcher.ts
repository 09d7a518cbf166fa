// The small program `wireshark-extcap install` puts into Wireshark's extcap folder: it runs this
// very kubectl-netns, by absolute path, as `... wireshark-extcap run -- ARGS`. A shell script on
// Linux and macOS (exec, so that Wireshark's SIGTERM reaches kubectl-netns itself), a .bat on
// Windows (Wireshark runs .bat files in its extcap folder). Pure.

/** First line after the interpreter line: how uninstall knows a launcher is ours. */
export const LAUNCHER_MARK = 'kubectl-netns wireshark-extcap launcher';

/** The launcher's file name in the extcap folder. */
export function launcherName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'kubectl-netns.bat' : 'kubectl-netns';
}

/** How to run this kubectl-netns again: the single executable, or node and the script. */
export interface SelfCommand {
  /** The single executable (Node SEA), or node. */
  program: string;
  /** The script node runs; undefined for a single executable. */
  script: string | undefined;
}

/** What the launcher passes before Wireshark's arguments. */
export const RUN_ARGS = ['wireshark-extcap', 'run', '--'];

/** WORD in single quotes for sh. */
function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The environment the launcher carries from install time to Wireshark's start-up. */
export interface LauncherEnv {
  /** KUBECONFIG, used when Wireshark's own environment has none. */
  kubeconfig?: string | undefined;
  /**
   * PATH at install time, appended to Wireshark's: a Wireshark started from a desktop menu has a
   * short PATH, and kubeconfig credential plugins (aws, gke-gcloud-auth-plugin, kubelogin) must
   * still be found.
   */
  path?: string | undefined;
}

/** The sh launcher. */
export function posixLauncher(self: SelfCommand, env: LauncherEnv): string {
  const command = [self.program, ...(self.script ? [self.script] : [])].map(shQuote).join(' ');
  return [
    '#!/bin/sh',
    `# ${LAUNCHER_MARK}: Wireshark runs it to list Kubernetes pods as capture interfaces and capture from them.`,
    '# Written by `kubectl netns wireshark-extcap install`; `kubectl netns wireshark-extcap uninstall` removes it.',
    ...(env.kubeconfig
      ? [`if [ -z "\${KUBECONFIG:-}" ]; then KUBECONFIG=${shQuote(env.kubeconfig)}; export KUBECONFIG; fi`]
      : []),
    ...(env.path ? [`PATH="\${PATH:+$PATH:}"${shQuote(env.path)}; export PATH`] : []),
    `exec ${command} ${RUN_ARGS.join(' ')} "$@"`,
    '',
  ].join('\n');
}

/** WORD in double quotes for cmd.exe, % doubled so it is not expanded. */
function batQuote(word: string): string {
  return `"${word.replace(/%/g, '%%')}"`;
}

/** The .bat launcher (CRLF line ends, as cmd.exe expects). */
export function windowsLauncher(self: SelfCommand, env: LauncherEnv): string {
  const command = [self.program, ...(self.script ? [self.script] : [])].map(batQuote).join(' ');
  return [
    '@echo off',
    `rem ${LAUNCHER_MARK}: Wireshark runs it to list Kubernetes pods as capture interfaces and capture from them.`,
    'rem Written by `kubectl netns wireshark-extcap install`; `kubectl netns wireshark-extcap uninstall` removes it.',
    ...(env.kubeconfig ? [`if not defined KUBECONFIG set "KUBECONFIG=${env.kubeconfig.replace(/%/g, '%%')}"`] : []),
    `${command} ${RUN_ARGS.join(' ')} %*`,
    '',
  ].join('\r\n');
}

/** The launcher for PLATFORM. */
export function launcherText(platform: NodeJS.Platform, self: SelfCommand, env: LauncherEnv): string {
  return platform === 'win32' ? windowsLauncher(self, env) : posixLauncher(self, env);
}
