// capture --detach's flags, checked before anything touches the cluster. A detached capture runs
// as root on a node with nobody watching, so it must end by itself: --duration is required, and
// with the time its data is kept afterwards (--keep) it must fit the debug pod's 4-hour ceiling
// (the admission policy's bound too). Its packets go to the node's spool, never to a local output.
import { parseDuration } from '../../cli/parse.ts';
import { usageError } from '../../errors.ts';
import { DEADLINE_SLACK_SECONDS, DEFAULT_DEADLINE_SECONDS } from '../../kube/debug-pod.ts';

/** How long a detached capture's data is kept after its --duration, unless --keep says. */
export const DEFAULT_KEEP_SECONDS = 3600;

/** What of capture's flags the detach plan reads. */
export interface DetachArgs {
  detach?: boolean | undefined;
  keep?: string | undefined;
  output?: string | undefined;
  wireshark?: boolean | undefined;
  follow?: boolean | undefined;
  wait?: boolean | undefined;
  spool?: boolean | undefined;
  format?: string | undefined;
  'rotate-size'?: string | undefined;
  'rotate-every'?: string | undefined;
  'rotate-count'?: number | undefined;
  'reconnect-timeout'?: string | undefined;
  'pod-timeout'?: string | undefined;
}

/** --detach and --keep: undefined without --detach; a usage error for what cannot go with it. Pure. */
export function planDetach(a: DetachArgs, durationSeconds: number | undefined): { keepSeconds: number } | undefined {
  if (!a.detach) {
    if (a.keep !== undefined)
      throw usageError('--keep goes with --detach', 'e.g. capture web-7d9 --detach --duration 30m --keep 2h');
    return undefined;
  }
  const clash = [
    [a.output !== undefined, '-w/--output', 'fetch it later: kubectl netns fetch ID -w FILE'],
    [a.wireshark === true, '--wireshark', 'follow it later: kubectl netns fetch ID --follow -w - | wireshark -k -i -'],
    [a.follow === true || a.wait === true, '--follow/--wait', 'a detached capture takes the pods running now'],
    [a.spool === false, '--no-spool', 'a detached capture is kept in the spool on the node'],
    [a.format !== undefined, '--format', 'fetch writes pcap for one pod, pcapng for several'],
    [
      a['rotate-size'] !== undefined || a['rotate-every'] !== undefined || a['rotate-count'] !== undefined,
      '--rotate-*',
      'the ring on the node is sized with --spool-size',
    ],
    [a['reconnect-timeout'] !== undefined, '--reconnect-timeout', 'nothing streams while it is detached'],
  ] as const;
  for (const [set, flag, hint] of clash) if (set) throw usageError(`--detach and ${flag} cannot go together`, hint);
  if (durationSeconds === undefined) {
    throw usageError(
      '--detach needs --duration: a detached capture must end by itself',
      'e.g. capture web-7d9 --detach --duration 30m',
    );
  }
  const keepSeconds = a.keep === undefined ? DEFAULT_KEEP_SECONDS : parseDuration(a.keep, '--keep');
  const podTimeout = parseDuration(a['pod-timeout'] ?? '60s', '--pod-timeout');
  const room = DEFAULT_DEADLINE_SECONDS - DEADLINE_SLACK_SECONDS - Math.ceil(podTimeout);
  if (Math.ceil(durationSeconds) + Math.ceil(keepSeconds) > room) {
    throw usageError(
      `--duration plus --keep is ${fmt(Math.ceil(durationSeconds) + Math.ceil(keepSeconds))}, more than a debug pod may live (${fmt(room)} after its start-up)`,
      'shorten --duration or --keep: a detached capture and its data end within 4 hours',
    );
  }
  return { keepSeconds };
}

/** 1h30m, 45m, 20s. Pure. */
function fmt(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}
