// Starts Wireshark reading pcap from its stdin (`wireshark -k -i -`) and hands back a sink. The
// only place that uses execa. Wireshark is looked up on PATH, then where installers put it.
import { existsSync } from 'node:fs';
import { ExitCode, UserError } from '../errors.ts';
import { watchErrors, type CaptureSink } from './sink.ts';

/** Install locations outside PATH, by platform. */
function wiresharkCandidates(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform === 'darwin')
    return [
      '/Applications/Wireshark.app/Contents/MacOS/Wireshark',
      `${env.HOME ?? ''}/Applications/Wireshark.app/Contents/MacOS/Wireshark`,
    ];
  if (platform === 'win32') {
    const roots = [env.ProgramFiles, env['ProgramFiles(x86)'], 'C:\\Program Files'].filter((r): r is string => !!r);
    return roots.map((r) => `${r}\\Wireshark\\Wireshark.exe`);
  }
  return ['/usr/bin/wireshark', '/usr/local/bin/wireshark', '/snap/bin/wireshark'];
}

/** The Wireshark executable, or a clear error naming where we looked. */
export function findWireshark(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string {
  const exe = platform === 'win32' ? 'Wireshark.exe' : 'wireshark';
  const pathDirs = (env.PATH ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
  for (const dir of pathDirs) {
    const p = `${dir}${platform === 'win32' ? '\\' : '/'}${exe}`;
    if (exists(p)) return p;
  }
  const found = wiresharkCandidates(platform, env).find((p) => exists(p));
  if (found) return found;
  throw new UserError('Wireshark is not installed (not on PATH nor in the usual install locations)', {
    exitCode: ExitCode.output,
    hint: 'install it, or write a file with -o capture.pcap, or pipe: -o - | /path/to/wireshark -k -i -',
  });
}

/**
 * Launches Wireshark reading our stream, and returns a sink feeding its stdin. Wireshark runs in
 * its own session (detached: Ctrl-C in our terminal is not its business) and is not killed when we
 * exit, so its window stays open with the packets after the capture ends, the way
 * `cat x.pcap | wireshark -k -i -` does.
 */
export async function wiresharkSink(executable: string): Promise<CaptureSink> {
  // execa costs ~0.1 s to load: only the one command path that starts Wireshark pays it.
  const { execa } = await import('execa');
  const child = execa(executable, ['-k', '-i', '-'], {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
    detached: true,
    cleanup: false,
  });
  const stdin = child.stdin;
  // Wireshark quitting closes its stdin: writes then fail with EPIPE, which means "stop", not "crash".
  const { gone, failed } = watchErrors(stdin, false);
  const exited = new Promise<void>((resolve) => {
    void child.then(() => resolve());
  });
  // Wireshark gone, our end of its stdin goes too: a dumpcap it started can outlive it (after a
  // SIGTERM it does) and hold the pipe without reading, so writes would wait for ever; closing it
  // drops them, and that dumpcap reads the end of its input and exits.
  void exited.then(() => stdin.destroy());
  return {
    stream: stdin,
    description: 'Wireshark',
    gone: Promise.race([gone, exited]),
    failed,
    finish: () => (stdin.destroyed ? Promise.resolve() : new Promise<void>((resolve) => stdin.end(() => resolve()))),
    discard: () => {
      // Nothing reached it: no window worth keeping.
      stdin.end();
      child.kill();
      return Promise.resolve();
    },
  };
}
