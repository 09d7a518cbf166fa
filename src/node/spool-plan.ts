// How big a capture's ring on the node is, where it lives in the debug pod, and what the pod's
// storage limit must allow for it. Pure.

/** The debug pod's spool volume (an emptyDir): every capture's ring is a directory under it. */
export const SPOOL_ROOT = '/spool';
/** A ring of 512 MB: about 4 s of 1 Gbit/s, or hours of a quiet pod's traffic. */
export const DEFAULT_SPOOL_BYTES = 512_000_000;
/** Two files of tcpdump's smallest size (-C 1: a million bytes). */
export const MIN_SPOOL_BYTES = 2_000_000;
/** Files in a default-sized ring: a wrap loses one file (1/16 of the ring) at a time. */
const TARGET_FILES = 16;
/** Largest ring file, in million bytes: what one wrap loses at most. */
const MAX_FILE_MB = 64;

/** A ring of BYTES as tcpdump writes it: RINGFILES files of FILEMB million bytes. */
export interface SpoolGeometry {
  ringFiles: number;
  fileMB: number;
}

/** The ring for a spool of (about) BYTES: at least 2 files, files of 1 to 64 million bytes. */
export function spoolGeometry(bytes: number): SpoolGeometry {
  const fileMB = Math.max(1, Math.min(MAX_FILE_MB, Math.floor(bytes / TARGET_FILES / 1e6)));
  const ringFiles = Math.max(2, Math.floor(bytes / (fileMB * 1e6)));
  return { ringFiles, fileMB };
}

/**
 * Disk a spool of BYTES may take at most: its files (tcpdump starts a new one only after the
 * packet that passed the size), one file a reader still holds open after the ring deleted it, one
 * the ring deletes late (its deletions run at the lowest priority), and its small files.
 */
export function spoolDiskBytes(bytes: number): number {
  const g = spoolGeometry(bytes);
  const file = g.fileMB * 1e6 + 262_144 + 16;
  return (g.ringFiles + 2) * file + 1_000_000;
}

/** Capture ID's spool directory in the debug pod. */
export function spoolDir(id: string): string {
  return `${SPOOL_ROOT}/${id}`;
}
