// What `ls` and `whohas` print: the JSON items (the shape docs/output.md documents) and the table
// columns, each column defined by the JSON field it shows, so a table and -o json can never
// disagree (a unit test renders both from the same items and compares them cell by cell).
import type { NetnsEntry, NetnsState } from '../node/netns-table.ts';
import type { OutputFormat } from './formats.ts';
import { renderDocument, renderNames } from './document.ts';
import { renderTable, type Column, type Row } from './table.ts';

export const API_VERSION = 'kubectl-netns/v1';

/** One network namespace on one node, as -o json writes it. */
export interface NetnsItem {
  node: string;
  inode: number;
  state: NetnsState;
  pod: { namespace: string | null; name: string | null; uid: string | null } | null;
  processes: number;
  pid: number | null;
  command: string | null;
  /** Interfaces including lo; null when the namespace could not be entered. */
  interfaces: number | null;
  /** Addresses without loopback and link-local ones; whohas matches those too. */
  ipv4: string[];
  ipv6: string[];
  paths: string[];
  /** Mount namespaces other than the node's whose mounts keep it alive: lowest PID, its command, how many processes. */
  holders: Array<{ pid: number; command: string; mountNamespace: number; processes: number }>;
  enter: string;
}

export interface WhoHasItem extends NetnsItem {
  matches: Array<{ interface: string; address: string }>;
}

export interface NetnsList {
  apiVersion: string;
  kind: 'NetnsList';
  items: NetnsItem[];
}

export interface WhoHasResult {
  apiVersion: string;
  kind: 'WhoHas';
  query: string;
  /** Nodes searched to the end. */
  nodes: string[];
  /** Nodes that could not be searched, and why. */
  errors: Array<{ node: string; message: string }>;
  items: WhoHasItem[];
}

/** The JSON item for one namespace. */
export function netnsItem(node: string, e: NetnsEntry): NetnsItem {
  const addrs = (e.interfaces ?? [])
    .flatMap((i) => i.addresses)
    .filter((a) => a.scope !== 'host' && a.scope !== 'link');
  const first = e.procs[0];
  return {
    node,
    inode: Number(e.inode),
    state: e.state,
    pod: e.owner
      ? { namespace: e.owner.namespace ?? null, name: e.owner.name ?? null, uid: e.owner.uid ?? null }
      : null,
    processes: e.procs.length,
    pid: first?.pid ?? null,
    command: first?.comm ?? null,
    interfaces: e.interfaces ? e.interfaces.length : null,
    ipv4: addrs.filter((a) => a.family === 'inet').map((a) => a.address),
    ipv6: addrs.filter((a) => a.family === 'inet6').map((a) => a.address),
    paths: e.paths,
    holders: e.holders.map((h) => ({
      pid: h.pid,
      command: h.comm,
      mountNamespace: Number(h.mntns),
      processes: h.processes,
    })),
    enter: e.enter,
  };
}

/** A table column defined by the JSON field it shows (a dotted path into the item). */
export interface FieldColumn extends Column {
  field: string;
  /** Only with -o wide. */
  wide?: boolean;
  /** How the cell shows the field's value; default cellOf. */
  format?: (value: unknown) => string | number;
}

/** How a table cell shows a JSON value: lists comma-joined, and <none> where there is nothing (as kubectl). */
export function cellOf(value: unknown): string | number {
  if (value === null || value === undefined || value === '') return '<none>';
  if (Array.isArray(value)) return value.length === 0 ? '<none>' : value.map(scalarText).join(',');
  if (typeof value === 'number') return value;
  return scalarText(value);
}

/** A string or number as itself; anything else as JSON, never "[object Object]". */
function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** NAMESPACE/NAME, or uid:UID when only the UID is known. */
function podCell(value: unknown): string {
  const pod = value as NetnsItem['pod'];
  if (pod?.name) return `${pod.namespace ?? '?'}/${pod.name}`;
  return pod?.uid ? `uid:${pod.uid}` : '<none>';
}

/** "eth0=10.214.0.4/24": where a whohas match sits. */
function matchesCell(value: unknown): string | number {
  return cellOf(((value ?? []) as WhoHasItem['matches']).map((m) => `${m.interface}=${m.address}`));
}

/** "sleep/12808": the lowest process of each mount namespace that holds a mount of it. */
function holdersCell(value: unknown): string | number {
  return cellOf(((value ?? []) as NetnsItem['holders']).map((h) => `${h.command}/${h.pid}`));
}

/** Reads a dotted path ("pod.uid") out of an item. */
export function fieldOf(item: object, path: string): unknown {
  let cur: unknown = item;
  for (const k of path.split('.'))
    cur = cur === null || cur === undefined ? undefined : (cur as Record<string, unknown>)[k];
  return cur;
}

export const LS_COLUMNS: readonly FieldColumn[] = [
  { key: 'node', header: 'NODE', field: 'node', wide: true },
  { key: 'inode', header: 'INODE', field: 'inode', align: 'right' },
  { key: 'state', header: 'STATE', field: 'state' },
  { key: 'pod', header: 'POD', field: 'pod', format: podCell },
  { key: 'uid', header: 'POD-UID', field: 'pod.uid', wide: true },
  { key: 'processes', header: 'PROCS', field: 'processes', align: 'right' },
  { key: 'pid', header: 'PID', field: 'pid', align: 'right' },
  { key: 'command', header: 'COMMAND', field: 'command' },
  { key: 'interfaces', header: 'IFACES', field: 'interfaces', align: 'right' },
  { key: 'ipv4', header: 'IPV4', field: 'ipv4' },
  { key: 'ipv6', header: 'IPV6', field: 'ipv6', wide: true },
  { key: 'holders', header: 'HELD-BY', field: 'holders', wide: true, format: holdersCell },
  { key: 'paths', header: 'PATHS', field: 'paths' },
  { key: 'enter', header: 'ENTER', field: 'enter', wide: true },
];

export const WHOHAS_COLUMNS: readonly FieldColumn[] = [
  { key: 'node', header: 'NODE', field: 'node' },
  { key: 'inode', header: 'INODE', field: 'inode', align: 'right' },
  { key: 'state', header: 'STATE', field: 'state' },
  { key: 'pod', header: 'POD', field: 'pod', format: podCell },
  { key: 'uid', header: 'POD-UID', field: 'pod.uid', wide: true },
  { key: 'matches', header: 'INTERFACE', field: 'matches', format: matchesCell },
  { key: 'processes', header: 'PROCS', field: 'processes', align: 'right', wide: true },
  { key: 'pid', header: 'PID', field: 'pid', align: 'right' },
  { key: 'command', header: 'COMMAND', field: 'command' },
  { key: 'interfaces', header: 'IFACES', field: 'interfaces', align: 'right', wide: true },
  { key: 'ipv4', header: 'IPV4', field: 'ipv4', wide: true },
  { key: 'ipv6', header: 'IPV6', field: 'ipv6', wide: true },
  { key: 'holders', header: 'HELD-BY', field: 'holders', wide: true, format: holdersCell },
  { key: 'paths', header: 'PATHS', field: 'paths' },
  { key: 'enter', header: 'ENTER', field: 'enter', wide: true },
];

/** The cell text of one column for one item. */
export function cell(item: object, c: FieldColumn): string | number {
  return (c.format ?? cellOf)(fieldOf(item, c.field));
}

/** The columns a format shows; NODE also in the narrow table when several nodes are listed. */
export function columnsFor(all: readonly FieldColumn[], format: 'table' | 'wide', manyNodes = false): FieldColumn[] {
  return all.filter((c) => format === 'wide' || !c.wide || (manyNodes && c.field === 'node'));
}

/** Renders items as a table (plain unless color) in the given format. */
function renderItems(
  items: readonly object[],
  all: readonly FieldColumn[],
  format: 'table' | 'wide',
  color: boolean,
  manyNodes = false,
): string {
  const cols = columnsFor(all, format, manyNodes);
  const rows: Row[] = items.map((item) => Object.fromEntries(cols.map((c) => [c.key, cell(item, c)])));
  return renderTable(cols, rows, { color });
}

/** `netns/NODE/INODE`, or `pod/NAMESPACE/NAME` for a namespace a pod owns: what -o name prints. */
export function itemName(item: NetnsItem): string {
  if (item.state === 'pod' && item.pod?.name) return `pod/${item.pod.namespace ?? ''}/${item.pod.name}`;
  return `netns/${item.node}/${item.inode}`;
}

/** `ls` output in any format. */
export function renderNetnsList(items: NetnsItem[], format: OutputFormat, color: boolean, manyNodes = false): string {
  if (format === 'json' || format === 'yaml') {
    return renderDocument({ apiVersion: API_VERSION, kind: 'NetnsList', items } satisfies NetnsList, format);
  }
  if (format === 'name') return renderNames(items.map(itemName));
  return renderItems(items, LS_COLUMNS, format, color, manyNodes);
}

/** `whohas` output in any format. */
export function renderWhoHas(result: WhoHasResult, format: OutputFormat, color: boolean): string {
  if (format === 'json' || format === 'yaml') return renderDocument(result, format);
  if (format === 'name') return renderNames(result.items.map(itemName));
  return renderItems(result.items, WHOHAS_COLUMNS, format, color);
}
