// Packets and bytes in a pcap file, counted by Wireshark's capinfos (not by our own parser): a
// file cut short in the middle of a record still counts every whole packet before the cut.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';

export interface FileCount {
  packets: number;
  /** Size of the file, header and record headers included: the pcap bytes that were delivered. */
  fileBytes: number;
}

/** Counts FILE with capinfos; a missing or empty file counts as nothing delivered. */
export function countPcap(file: string): Promise<FileCount> {
  let fileBytes = 0;
  try {
    fileBytes = statSync(file).size;
  } catch {
    return Promise.resolve({ packets: 0, fileBytes: 0 });
  }
  if (fileBytes < 24) return Promise.resolve({ packets: 0, fileBytes });
  return new Promise((resolve, reject) => {
    // Exit status 1 for a file cut short: the count on stdout is still right.
    execFile('capinfos', ['-c', '-M', '-T', '-r', file], (err, stdout) => {
      const packets = Number(stdout.trim().split('\t')[1]);
      if (Number.isInteger(packets)) resolve({ packets, fileBytes });
      else reject(new Error(`capinfos ${file}: ${err?.message ?? stdout}`));
    });
  });
}
