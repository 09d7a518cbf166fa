// How each contender captures the web pod, launched the way a user would launch it:
//   ours           node dist/main.js capture POD -o FILE (its own debug pod, its own protocol)
//   kubectl-ws     kubectl exec into a privileged hostPID pod: nsenter -t PID -n -- tcpdump -U -w - > FILE
//   kubectl-spdy   the same with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false
//   node-devnull   the same tcpdump writing to /dev/null in that pod: no stream at all (the ceiling)
//   node-pipe      the same tcpdump into a local pipe on the node (| wc -c): no exec stream
// Every one captures -i eth0 with a 32 MiB kernel buffer and stops itself DURATION seconds after
// it starts listening (ours with --duration, the others with timeout -s INT), so each gets the same
// window. Only `timeout` is the benchmark's addition to the manual recipe: it is how the run ends.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { KUBECTL, DEBUG_IMAGE } from './cluster.ts';
import { timed, type Timed } from './proc.ts';

export type ContenderId = 'ours' | 'ours-compress' | 'kubectl-ws' | 'kubectl-spdy' | 'node-devnull' | 'node-pipe';

export const CONTENDER_LABEL: Record<ContenderId, string> = {
  ours: 'kubectl-netns capture -o FILE',
  'ours-compress': 'kubectl-netns capture --compress -o FILE',
  'kubectl-ws': 'manual: kubectl exec … tcpdump -U -w - > FILE (websocket)',
  'kubectl-spdy': 'manual: same over SPDY',
  'node-devnull': 'ceiling: tcpdump -w /dev/null in the debug pod',
  'node-pipe': 'ceiling: tcpdump -U -w - | wc -c on the node',
};

export interface CaptureSetup {
  root: string;
  kubeconfig: string;
  namespace: string;
  /** The pod to capture. */
  target: string;
  /** Its PID on the node (the manual recipe looks it up once, as a user's script would). */
  targetPid: number;
  /** The privileged hostPID pod of the manual recipe. */
  manualPod: string;
  workDir: string;
}

export interface CaptureParams {
  durationS: number;
  snaplen?: number | undefined;
  /** ours: extra flags (e.g. --compress). */
  extra?: string[];
  /** A file name suffix, so parallel runs never share a file. */
  tag: string;
  /** Write the pcap to stdout (piped to the benchmark, which may read it slowly) instead of a file. */
  toStdout?: boolean | undefined;
  /**
   * Manual recipe only: stop when this file appears in the manual pod (for captures started at
   * different times that must all outlast the same traffic), instead of after durationS.
   */
  stopFile?: string | undefined;
}

export interface Launched {
  proc: Timed;
  /** A stderr line that says tcpdump is listening. */
  listening: RegExp;
  /** The pcap file it writes, if any (not with toStdout: then stdout is piped). */
  file: string | undefined;
  /** Closes what the launcher opened once the process has ended. */
  cleanup(): void;
}

function tcpdumpWords(p: CaptureParams, output: string): string[] {
  return ['tcpdump', '-U', '-w', output, '-i', 'eth0', '-B', '32768', ...(p.snaplen ? ['-s', String(p.snaplen)] : [])];
}

/** Starts contender C; resolve its `listening` line before offering traffic. */
export function launch(c: ContenderId, s: CaptureSetup, p: CaptureParams): Launched {
  if (c === 'ours' || c === 'ours-compress') {
    const file = join(s.workDir, `${c}-${p.tag}.pcap`);
    const argv = [
      process.execPath,
      join(s.root, 'dist/main.js'),
      '--kubeconfig', s.kubeconfig,
      '-n', s.namespace,
      '--image', DEBUG_IMAGE,
      'capture', s.target,
      ...(p.toStdout ? ['-o', '-'] : ['-o', file, '--overwrite']),
      '--duration', `${p.durationS}s`,
      '-i', 'eth0',
      ...(p.snaplen ? ['-s', String(p.snaplen)] : []),
      // -v: the agent's "compressing with zstd|gzip" line names the compressor the image had.
      ...(c === 'ours-compress' ? ['--compress', '-v'] : []),
      ...(p.extra ?? []),
    ];
    const proc = timed(argv, { stdout: p.toStdout ? 'pipe' : 'ignore' });
    return { proc, listening: /capturing on /, file: p.toStdout ? undefined : file, cleanup: () => {} };
  }
  const exec = [KUBECTL, '--kubeconfig', s.kubeconfig, '-n', s.namespace, 'exec', s.manualPod, '--'];
  const nsenter = ['nsenter', '-t', String(s.targetPid), '-n', '--', 'timeout', '-s', 'INT', String(p.durationS)];
  const env = c === 'kubectl-spdy' ? { ...process.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } : process.env;
  if (p.stopFile && c === 'kubectl-ws') {
    // tcpdump as a background job of a shell that SIGINTs it once the stop file exists; its
    // stdout is still the exec's. Every word is ours.
    const tcpdump = ['nsenter', '-t', String(s.targetPid), '-n', '--', ...tcpdumpWords(p, '-')].join(' ');
    const script = `${tcpdump} & p=$!; while [ ! -e ${p.stopFile} ] && kill -0 $p 2>/dev/null; do sleep 0.2; done; kill -INT $p 2>/dev/null; wait $p`;
    const file = join(s.workDir, `${c}-${p.tag}.pcap`);
    const fd = openSync(file, 'w', 0o600);
    const proc = timed([...exec, 'sh', '-c', script], { stdout: fd, env });
    return { proc, listening: /listening on /, file, cleanup: () => closeSync(fd) };
  }
  if (c === 'kubectl-ws' || c === 'kubectl-spdy') {
    const argv = [...exec, ...nsenter, ...tcpdumpWords(p, '-')];
    if (p.toStdout) return { proc: timed(argv, { stdout: 'pipe', env }), listening: /listening on /, file: undefined, cleanup: () => {} };
    const file = join(s.workDir, `${c}-${p.tag}.pcap`);
    const fd = openSync(file, 'w', 0o600);
    const proc = timed(argv, { stdout: fd, env });
    return { proc, listening: /listening on /, file, cleanup: () => closeSync(fd) };
  }
  if (c === 'node-devnull') {
    const proc = timed([...exec, ...nsenter, ...tcpdumpWords(p, '/dev/null')]);
    return { proc, listening: /listening on /, file: undefined, cleanup: () => {} };
  }
  // node-pipe: one shell line, since the pipe is the point; every word is ours, nothing from outside.
  const script = `${[...nsenter, ...tcpdumpWords(p, '-')].join(' ')} | wc -c`;
  const proc = timed([...exec, 'sh', '-c', script], { stdout: 'pipe' });
  return { proc, listening: /listening on /, file: undefined, cleanup: () => {} };
}

export interface TcpdumpCounts {
  captured?: number | undefined;
  received?: number | undefined;
  dropped?: number | undefined;
}

/** tcpdump's final counters, from its own three lines or from our summary line. */
export function parseCounts(stderr: string): TcpdumpCounts {
  const ours = /tcpdump: (\d+) captured, (\d+) received by filter, (\d+) dropped by kernel/.exec(stderr);
  if (ours) return { captured: Number(ours[1]), received: Number(ours[2]), dropped: Number(ours[3]) };
  const n = (re: RegExp) => {
    const all = [...stderr.matchAll(re)];
    const m = all.at(-1);
    return m ? Number(m[1]) : undefined;
  };
  return {
    captured: n(/(\d+) packets? captured/g),
    received: n(/(\d+) packets? received by filter/g),
    dropped: n(/(\d+) packets? dropped by kernel/g),
  };
}
