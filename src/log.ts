// Everything meant for people goes to stderr; stdout carries data only (pcap, command output,
// tables, JSON). One logger for the whole process, configured once from -v/-q. Writing to stderr
// is never fatal: a closed pipe or a hung-up terminal (EPIPE, EIO) silences it, and the command's
// cleanup goes on regardless.
import { safeText } from './output/terminal.ts';

type Level = 'quiet' | 'normal' | 'verbose';

let level: Level = 'normal';
let sink: NodeJS.WritableStream = process.stderr;
let sinkDead = false;

function markDead(): void {
  sinkDead = true;
}
process.stderr.on('error', markDead);

/** Sets verbosity once at start-up (from -q / -v). */
export function configureLog(opts: { level?: Level; stream?: NodeJS.WritableStream }): void {
  if (opts.level) level = opts.level;
  if (opts.stream) {
    sink = opts.stream;
    sinkDead = false;
    sink.on('error', markDead);
  }
}

/** Writes TEXT to stderr as it is (already safe: our own words, or escaped); never throws. */
export function writeStderr(text: string): void {
  if (sinkDead) return;
  try {
    sink.write(text);
  } catch {
    // A terminal that hung up can throw EIO synchronously; nobody is there to read it anyway.
    sinkDead = true;
  }
}

/**
 * Passes a remote command's stderr bytes through unchanged (they are its output, like kubectl
 * exec's), honouring backpressure; CB runs once they are written or stderr is gone.
 */
export function passStderr(chunk: Buffer, cb: () => void): void {
  if (sinkDead) return cb();
  try {
    if (sink.write(chunk)) return cb();
  } catch {
    sinkDead = true;
    return cb();
  }
  const done = () => {
    sink.off('drain', done);
    sink.off('error', done);
    cb();
  };
  sink.once('drain', done);
  sink.once('error', done);
}

/** Progress and results a person wants to see; silenced by -q. */
export function info(message: string): void {
  if (level !== 'quiet') writeStderr(`${safeText(message)}\n`);
}

/** Something that may surprise the user (hostNetwork pod, leftovers); shown even with -q. */
export function warn(message: string): void {
  writeStderr(`warning: ${safeText(message)}\n`);
}

/** Detail for -v: API calls, agent argv, timings. */
export function debug(message: string): void {
  if (level === 'verbose') writeStderr(`debug: ${safeText(message)}\n`);
}
