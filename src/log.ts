// Everything meant for people goes to stderr; stdout carries data only (pcap, command output,
// tables, JSON). One logger for the whole process, configured once from -v/-q.

type Level = 'quiet' | 'normal' | 'verbose';

let level: Level = 'normal';
let sink: NodeJS.WritableStream = process.stderr;

/** Sets verbosity once at start-up (from -q / -v). */
export function configureLog(opts: { level?: Level; stream?: NodeJS.WritableStream }): void {
  if (opts.level) level = opts.level;
  if (opts.stream) sink = opts.stream;
}

/** Progress and results a person wants to see; silenced by -q. */
export function info(message: string): void {
  if (level !== 'quiet') sink.write(`${message}\n`);
}

/** Something that may surprise the user (hostNetwork pod, leftovers); shown even with -q. */
export function warn(message: string): void {
  sink.write(`warning: ${message}\n`);
}

/** Detail for -v: API calls, agent argv, timings. */
export function debug(message: string): void {
  if (level === 'verbose') sink.write(`debug: ${message}\n`);
}
