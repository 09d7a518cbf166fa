// The one error the pcap code throws. It stays free of CLI concerns (no exit codes, no hints):
// callers that show it to people wrap it in a UserError with their own context.

/** Why a byte stream is not a capture we can read. */
export type PcapFormatProblem =
  'bad-magic' | 'unsupported-version' | 'record-too-large' | 'bad-block' | 'truncated-header';

/** A malformed or unsupported capture; `offset` is the stream position of the offending bytes. */
export class PcapFormatError extends Error {
  readonly problem: PcapFormatProblem;
  readonly offset: number;

  constructor(problem: PcapFormatProblem, offset: number, message: string) {
    super(`${message} (at byte ${offset})`);
    this.name = 'PcapFormatError';
    this.problem = problem;
    this.offset = offset;
  }
}
