// Which folder Wireshark looks for extcaps in, asked of the installed Wireshark itself. Where it
// has a personal folder we use it (no administrator rights, nothing shared with other users):
//   - Wireshark 4.1 and later: `tshark -G folders` names it ("Personal Extcap path", e.g.
//     ~/.local/lib/wireshark/extcap on Linux and macOS, %APPDATA%\Wireshark\extcap on Windows);
//   - before 4.1: `tshark -G folders` lists only the global folder ("Extcap path"), but Wireshark
//     also runs what it finds in the extcap folder of its personal configuration folder
//     (~/.config/wireshark/extcap; checked with Debian 12's Wireshark 4.0.17).
// Without tshark, the version that dumpcap or wireshark reports decides between those two.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, posix, win32 } from 'node:path';

/** What `tshark -G folders` says, by its labels. */
export interface FolderReport {
  personalExtcap?: string | undefined;
  globalExtcap?: string | undefined;
  personalConfig?: string | undefined;
}

/** Parses `tshark -G folders` ("Label:<tabs>path" lines). Pure. */
export function parseFolders(text: string): FolderReport {
  const report: FolderReport = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([^:\t]+):\s*\t\s*(.+?)\s*$/.exec(line);
    const label = m?.[1];
    const path = m?.[2];
    if (label === undefined || path === undefined) continue;
    if (label === 'Personal Extcap path') report.personalExtcap = path;
    else if (label === 'Global Extcap path' || label === 'Extcap path') report.globalExtcap = path;
    else if (label === 'Personal configuration') report.personalConfig = path;
  }
  return report;
}

/** [major, minor] from a `-v` banner such as "TShark (Wireshark) 4.0.17 (...)". Pure. */
export function parseVersion(text: string): [number, number] | undefined {
  const m = /\b(\d+)\.(\d+)\.\d+/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Wireshark 4.1 moved the personal extcap folder and started listing it. */
function before41(v: [number, number] | undefined): boolean {
  return v !== undefined && (v[0] < 4 || (v[0] === 4 && v[1] < 1));
}

export interface FolderChoice {
  dir: string;
  /** Why this one, for the user. */
  why: string;
}

/** Picks the folder from what tshark reported. Pure. */
export function chooseReported(
  report: FolderReport,
  version: [number, number] | undefined,
  label: string,
): FolderChoice | undefined {
  if (report.personalExtcap) return { dir: report.personalExtcap, why: `${label}'s personal extcap folder` };
  if (report.personalConfig && (before41(version) || version === undefined)) {
    return {
      dir: join(report.personalConfig, 'extcap'),
      why: `${label} reads extcaps from the "extcap" folder of its personal configuration folder (it lists only its global one)`,
    };
  }
  if (report.globalExtcap)
    return { dir: report.globalExtcap, why: `${label} has no personal extcap folder: its global one` };
  return undefined;
}

/** The personal folder by platform and version, for when tshark cannot tell. Pure. */
export function personalFolderByRule(
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
  version: [number, number] | undefined,
): string {
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (platform === 'win32')
    return win32.join(env.APPDATA ?? win32.join(home, 'AppData', 'Roaming'), 'Wireshark', 'extcap');
  if (before41(version)) return posix.join(env.XDG_CONFIG_HOME || posix.join(home, '.config'), 'wireshark', 'extcap');
  return posix.join(home, '.local', 'lib', 'wireshark', 'extcap');
}

/** Where installers put Wireshark's programs, by platform (besides PATH). */
function installDirs(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform === 'darwin') return ['/Applications/Wireshark.app/Contents/MacOS'];
  if (platform === 'win32') {
    return [env.ProgramFiles, env['ProgramFiles(x86)'], 'C:\\Program Files']
      .filter((r): r is string => !!r)
      .map((r) => win32.join(r, 'Wireshark'));
  }
  return ['/usr/bin', '/usr/local/bin'];
}

/** The path of Wireshark's program NAME (tshark, dumpcap, wireshark), if installed. */
export function findWiresharkProgram(
  name: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  const exe = platform === 'win32' ? `${name}.exe` : name;
  const sep = platform === 'win32' ? ';' : ':';
  const join2 = (...parts: string[]) => (platform === 'win32' ? win32.join(...parts) : posix.join(...parts));
  const dirs = [...(env.PATH ?? '').split(sep).filter(Boolean), ...installDirs(platform, env)];
  const names = platform === 'darwin' && name === 'wireshark' ? [exe, 'Wireshark'] : [exe];
  for (const dir of dirs) for (const n of names) if (exists(join2(dir, n))) return join2(dir, n);
  return undefined;
}

/** Runs PROGRAM ARGS and returns its stdout ('' when it fails). */
function output(program: string, args: string[], env: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env, timeout: 20_000 });
  } catch {
    return '';
  }
}

/** The extcap folder of the installed Wireshark, and why; undefined when no Wireshark is found. */
export function wiresharkExtcapFolder(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): FolderChoice | undefined {
  const tshark = findWiresharkProgram('tshark', platform, env);
  if (tshark) {
    const version = parseVersion(output(tshark, ['-v'], env));
    const label = `Wireshark ${version ? version.join('.') : '(unknown version)'} (${tshark} -G folders)`;
    const choice = chooseReported(parseFolders(output(tshark, ['-G', 'folders'], env)), version, label);
    if (choice) return choice;
  }
  for (const name of ['dumpcap', 'wireshark']) {
    const program = findWiresharkProgram(name, platform, env);
    if (!program) continue;
    const version = parseVersion(output(program, ['-v'], { ...env, DISPLAY: '' }));
    return {
      dir: personalFolderByRule(platform, env, version),
      why: `the personal extcap folder of Wireshark ${version ? version.join('.') : '(unknown version)'} (${program}; tshark, which would say, is not installed)`,
    };
  }
  return undefined;
}

/** Every folder our launcher may have been installed in, for uninstall. */
export function candidateFolders(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const dirs = new Set<string>();
  const chosen = wiresharkExtcapFolder(platform, env);
  if (chosen) dirs.add(chosen.dir);
  const tshark = findWiresharkProgram('tshark', platform, env);
  if (tshark) {
    const report = parseFolders(output(tshark, ['-G', 'folders'], env));
    for (const d of [report.personalExtcap, report.globalExtcap]) if (d) dirs.add(d);
    if (report.personalConfig) dirs.add(join(report.personalConfig, 'extcap'));
  }
  dirs.add(personalFolderByRule(platform, env, [4, 0]));
  dirs.add(personalFolderByRule(platform, env, [4, 2]));
  return [...dirs];
}
