// What the agent's `spools ROOT` says about the captures kept on a node (one debug pod's spool
// volume): parsed into records, pure. See agent.sh's header for the line format.

/** One capture's spool on a node. */
export interface SpoolInfo {
  /** The capture's id (its directory's name). */
  id: string;
  /** Whether tcpdump still writes it, and how it ended. */
  state: { running: true } | { running: false; exitStatus: number | undefined };
  /** What the ring holds now. */
  bytes: number;
  files: number;
  /** Oldest and newest ring file numbers, when it holds any. */
  firstFile: number | undefined;
  lastFile: number | undefined;
  /** Files the ring deleted before anyone read them, and the packets they held. */
  lostFiles: number;
  lostPackets: number;
  /** When the capture started (seconds since the epoch, the node's clock). */
  startedAt: number | undefined;
  /** Its meta lines: iface, netns, ring_files, file_mb, and what the client stored (target, by, ...). */
  meta: Record<string, string>;
}

const int = (s: string | undefined): number | undefined =>
  s !== undefined && /^[0-9]{1,15}$/.test(s) ? Number(s) : undefined;

/** Parses `spools` output; lines it does not know are skipped (a newer agent may say more). */
export function parseSpools(stdout: string): SpoolInfo[] {
  const byId = new Map<string, SpoolInfo>();
  for (const line of stdout.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'spool' && f.length >= 10) {
      const [, id, state, bytes, files, first, last, lostFiles, lostPackets, started] = f as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      byId.set(id, {
        id,
        state:
          state === 'running' ? { running: true } : { running: false, exitStatus: int(state.replace(/^ended:/, '')) },
        bytes: int(bytes) ?? 0,
        files: int(files) ?? 0,
        firstFile: int(first),
        lastFile: int(last),
        lostFiles: int(lostFiles) ?? 0,
        lostPackets: int(lostPackets) ?? 0,
        startedAt: int(started),
        meta: {},
      });
    } else if (f[0] === 'meta' && f.length >= 4) {
      const s = byId.get(f[1]!);
      if (s) s.meta[f[2]!] = f.slice(3).join('\t');
    }
  }
  return [...byId.values()];
}
