// Tells a node whose kubelet has stopped from one that is only slow, while a debug pod waits there.
// A live kubelet takes up a pod bound to its node within seconds, and renews its node's Lease
// (kube-node-lease/NODE) every quarter of the lease's duration (10 s of the default 40 s). A pod
// nobody takes up, on a node whose lease stands still, would otherwise wait out --pod-timeout.
import type { V1Lease, V1Pod } from './client.ts';

/** Renew intervals the lease may stand still before its kubelet counts as stopped. */
const MISSED_RENEWALS = 2;
/** The kubelet renews its lease every this fraction of the lease's duration (kubelet's constant). */
const RENEW_FRACTION = 0.25;
const DEFAULT_LEASE_SECONDS = 40;

/** Has the node's kubelet taken up the pod, i.e. written any status of its own? Pure. */
export function takenUp(pod: V1Pod): boolean {
  const st = pod.status;
  return !!(st?.startTime || st?.hostIP || (st?.containerStatuses?.length ?? 0) > 0);
}

/** A lease's renewTime, and when (on our clock) we first saw it. */
export interface LeaseSeen {
  renewTime: string;
  sinceMs: number;
}

/**
 * Follows a node's lease across reads. Only our own clock is used (the node's clock and ours may
 * differ): once the same renewTime has been read for MISSED_RENEWALS renew intervals, `stillMs` says
 * how long it has stood still. Pure.
 */
export function leaseStillness(
  prev: LeaseSeen | undefined,
  lease: V1Lease,
  nowMs: number,
): { seen: LeaseSeen; stillMs?: number } {
  const renew = lease.spec?.renewTime;
  const renewTime = renew ? new Date(renew).toISOString() : '';
  if (!prev || prev.renewTime !== renewTime) return { seen: { renewTime, sinceMs: nowMs } };
  const intervalMs = (lease.spec?.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS) * RENEW_FRACTION * 1000;
  const stillMs = nowMs - prev.sinceMs;
  return stillMs >= MISSED_RENEWALS * intervalMs ? { seen: prev, stillMs } : { seen: prev };
}
