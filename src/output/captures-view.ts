// `kubectl netns captures`: the detached captures on the cluster, one row per captured target, in
// kubectl's output formats. Pure.
import type { SpoolInfo } from '../node/spool-list.ts';
import { renderDocument, renderNames } from './document.ts';
import type { OutputFormat } from './formats.ts';
import { API_VERSION } from './netns-views.ts';
import { formatBytes } from './status-line.ts';
import { renderTable } from './table.ts';

/** One target's spool in a detached capture's debug pod. */
export interface DetachedSpool {
  /** The ID `capture --detach` printed (all its targets share it). */
  id: string;
  /** The debug pod that keeps it. */
  namespace: string;
  pod: string;
  node: string;
  /** Who started it (the API server's name for them). */
  startedBy: string | undefined;
  /** When the debug pod ends by itself, and the spool with it. */
  deadline: Date | undefined;
  spool: SpoolInfo;
}

/** The state people see: running, done, failed (tcpdump's status), or on a pod that ended. */
export function spoolState(s: SpoolInfo): string {
  if (s.state.running) return 'running';
  return s.state.exitStatus === 0 ? 'done' : `failed (${s.state.exitStatus ?? '?'})`;
}

/** RING: how full the ring is, and what it lost. */
export function ringSummary(s: SpoolInfo): string {
  const total = Number(s.meta.ring_files) || undefined;
  const mb = Number(s.meta.file_mb) || undefined;
  const shape = total && mb ? `${s.files}/${total} × ${mb}MB` : `${s.files} files`;
  if (s.lostFiles === 0) return shape;
  return `${shape}, wrapped: ${s.lostPackets} packets lost`;
}

/** kubectl's AGE column: 45s, 12m, 3h, 2d. */
export function age(from: Date | undefined, now: Date): string {
  if (!from) return '';
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** The document -o json / -o yaml prints. */
export interface DetachedCaptureList {
  apiVersion: typeof API_VERSION;
  kind: 'DetachedCaptureList';
  items: Array<{
    id: string;
    target: string;
    node: string;
    debugPod: { namespace: string; name: string };
    startedBy: string | null;
    startedAt: string | null;
    deadline: string | null;
    state: string;
    bytes: number;
    ring: { files: number; ringFiles: number | null; fileMB: number | null; lostFiles: number; lostPackets: number };
    spoolId: string;
    interface: string | null;
  }>;
}

/** The rows, oldest first within an ID, IDs in the order they were started. Pure. */
export function renderCaptures(
  list: readonly DetachedSpool[],
  format: OutputFormat,
  now: Date,
  color: boolean,
): string {
  const started = (d: DetachedSpool) =>
    d.spool.startedAt === undefined ? undefined : new Date(d.spool.startedAt * 1000);
  const sorted = [...list].sort(
    (a, b) => (started(a)?.getTime() ?? 0) - (started(b)?.getTime() ?? 0) || a.id.localeCompare(b.id),
  );
  if (format === 'json' || format === 'yaml') {
    const doc: DetachedCaptureList = {
      apiVersion: API_VERSION,
      kind: 'DetachedCaptureList',
      items: sorted.map((d) => ({
        id: d.id,
        target: d.spool.meta.target ?? '',
        node: d.node,
        debugPod: { namespace: d.namespace, name: d.pod },
        startedBy: d.startedBy ?? null,
        startedAt: started(d)?.toISOString() ?? null,
        deadline: d.deadline?.toISOString() ?? null,
        state: spoolState(d.spool),
        bytes: d.spool.bytes,
        ring: {
          files: d.spool.files,
          ringFiles: Number(d.spool.meta.ring_files) || null,
          fileMB: Number(d.spool.meta.file_mb) || null,
          lostFiles: d.spool.lostFiles,
          lostPackets: d.spool.lostPackets,
        },
        spoolId: d.spool.id,
        interface: d.spool.meta.iface ?? null,
      })),
    };
    return renderDocument(doc, format);
  }
  if (format === 'name') return renderNames([...new Set(sorted.map((d) => `capture/${d.id}`))]);
  if (sorted.length === 0) return '';
  const rows = sorted.map((d) => ({
    id: d.id,
    target: d.spool.meta.target ?? '',
    node: d.node,
    age: age(started(d), now),
    size: formatBytes(d.spool.bytes),
    ring: ringSummary(d.spool),
    state: spoolState(d.spool),
    by: d.startedBy ?? '',
    pod: `${d.namespace}/${d.pod}`,
    deadline: d.deadline ? `in ${age(now, d.deadline)}` : '',
  }));
  const columns = [
    { key: 'id', header: 'ID' },
    { key: 'target', header: 'TARGET' },
    { key: 'node', header: 'NODE' },
    { key: 'age', header: 'AGE' },
    { key: 'size', header: 'SIZE' },
    { key: 'ring', header: 'RING' },
    { key: 'state', header: 'STATE' },
    { key: 'by', header: 'STARTED BY' },
    ...(format === 'wide'
      ? [
          { key: 'pod', header: 'DEBUG POD' },
          { key: 'deadline', header: 'KEPT UNTIL' },
        ]
      : []),
  ];
  return renderTable(columns, rows, { color });
}
