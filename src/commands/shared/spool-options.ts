// The spool's share of a capture: what the RemoteCaptures and the debug pods get from the plan,
// what people are told when a stream breaks and comes back, and the exit for a ring that wrapped.
import { ExitCode, UserError } from '../../errors.ts';
import { debug, info, warn } from '../../log.ts';
import type { RemoteCaptureHooks, RemoteCaptureOptions } from '../../node/remote-capture.ts';
import { spoolDiskBytes, spoolGeometry } from '../../node/spool-plan.ts';
import { formatBytes } from '../../output/status-line.ts';

/** What of the capture plan the spool needs. */
export interface SpoolPlan {
  /** Bytes of each capture's ring; undefined: --no-spool. */
  spoolBytes: number | undefined;
  /** How long to keep reconnecting after a stream breaks. */
  reconnectSeconds: number;
}

/** The exit for a capture whose node ring wrapped before it was read: the file has everything else. */
export function incomplete(lost: { packets: number | undefined; bytes: number | undefined }): UserError {
  const what = lost.packets === undefined ? 'some packets' : `${lost.packets} packets`;
  const size = lost.bytes === undefined ? '' : ` (${formatBytes(lost.bytes)})`;
  return new UserError(
    `the capture is incomplete: ${what}${size} were lost on the node, its spool wrapped before they were read`,
    {
      exitCode: ExitCode.incomplete,
      hint: 'the connection to the API server was slower than the traffic for longer than the spool holds: raise --spool-size, narrow the filter or -s, or use --detach and fetch it later',
    },
  );
}

/** What the debug pod needs for N spooled captures of PLAN: their disk, and how long it waits for a reconnect. Pure. */
export function podSpool(
  plan: SpoolPlan,
  captures: number,
): { spoolBytes?: number; reconnectSeconds: number | undefined } {
  // Without a spool nothing can continue after a break: the pod's own short default applies.
  if (plan.spoolBytes === undefined) return { reconnectSeconds: undefined };
  // The pod outlives the client's own attempts, so a reconnect that succeeds finds it.
  const reconnectSeconds = plan.reconnectSeconds === 0 ? undefined : plan.reconnectSeconds + 30;
  return { spoolBytes: captures * spoolDiskBytes(plan.spoolBytes), reconnectSeconds };
}

/** Hooks that tell people when TARGET's stream broke and when it came back. */
export function reconnectReports(
  target: string,
  reconnectSeconds: number,
): Pick<RemoteCaptureHooks, 'onReconnecting' | 'onResumed'> {
  return {
    onReconnecting: (r) => {
      if (r.attempt === 1) {
        warn(
          `the stream of ${target} broke (${r.error.message}); the node keeps capturing into its spool; reconnecting for up to ${reconnectSeconds}s`,
        );
      } else debug(`reconnecting to ${target}: attempt ${r.attempt} (${r.error.message})`);
    },
    onResumed: (r) =>
      info(
        `${target}: reconnected after ${(r.lostForMs / 1000).toFixed(1)}s (${r.attempts} attempt${r.attempts === 1 ? '' : 's'}); continuing from the node's spool${r.position ? ` at ring file ${r.position.seq}, byte ${r.position.offset}` : ''}, nothing lost`,
      ),
  };
}

/** The spool and reconnect options of a RemoteCapture for PLAN; META lines go with the spool. Pure. */
export function remoteSpool(plan: SpoolPlan, meta: string[]): Pick<RemoteCaptureOptions, 'spool' | 'reconnectMs'> {
  if (plan.spoolBytes === undefined) return {};
  return { spool: { ...spoolGeometry(plan.spoolBytes), meta }, reconnectMs: plan.reconnectSeconds * 1000 };
}
