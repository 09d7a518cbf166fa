// What the plugin asked of the API server, read from the local cluster's audit log (up.sh's audit
// policy records every exec, attach and port-forward request at metadata level: URI, user, time).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AUDIT_LOG } from '../../cluster/paths.ts';

/** One exec request as the API server recorded it. */
export interface ExecRequestRecord {
  auditId: string;
  /** When the API server received it (ms since the epoch). */
  atMs: number;
  pod: string;
  /** The request URI, as long as the client sent it. */
  uri: string;
  /** The command's argv, from the URI's command= parameters. */
  command: string[];
  user: string;
  /** The HTTP status the API server answered with (101 for an upgraded stream). */
  code: number | undefined;
}

interface AuditEvent {
  auditID: string;
  stage: string;
  requestURI: string;
  requestReceivedTimestamp: string;
  user?: { username?: string };
  objectRef?: { namespace?: string; name?: string; resource?: string; subresource?: string };
  responseStatus?: { code?: number };
}

/** Whether the local cluster writes the audit log these figures come from. */
export function auditLogProblem(): string | undefined {
  return existsSync(AUDIT_LOG) ? undefined : `no audit log at ${AUDIT_LOG} (scripts/cluster/up.sh starts the API server with one)`;
}

/** Exec requests into pods of NAMESPACE received at or after SINCE_MS, one record per request. */
export function execRequests(namespace: string, sinceMs: number): ExecRequestRecord[] {
  const byId = new Map<string, ExecRequestRecord>();
  // The current file and the one rotated before it (kube-apiserver-audit-TIME.log).
  const dir = dirname(AUDIT_LOG);
  const stem = basename(AUDIT_LOG, '.log');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith(`${stem}-`) && f.endsWith('.log'))
        .map((f) => join(dir, f))
    : [];
  for (const file of [...files, AUDIT_LOG]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('"exec"') || !line.includes(namespace)) continue;
      let e: AuditEvent;
      try {
        e = JSON.parse(line) as AuditEvent;
      } catch {
        continue;
      }
      if (e.objectRef?.subresource !== 'exec' || e.objectRef.namespace !== namespace) continue;
      const atMs = Date.parse(e.requestReceivedTimestamp);
      if (atMs < sinceMs) continue;
      const url = new URL(e.requestURI, 'https://api');
      const rec: ExecRequestRecord = {
        auditId: e.auditID,
        atMs,
        pod: e.objectRef.name ?? '',
        uri: e.requestURI,
        command: url.searchParams.getAll('command'),
        user: e.user?.username ?? '',
        code: e.responseStatus?.code ?? byId.get(e.auditID)?.code,
      };
      byId.set(e.auditID, rec);
    }
  }
  return [...byId.values()].sort((a, b) => a.atMs - b.atMs);
}
