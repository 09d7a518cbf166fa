// The capture Wireshark asked for, as the `kubectl netns capture` command line that does it. The
// extcap runs that command through the same parser a person's command line goes through, so it
// gets the same checks, defaults and capture path (one pod → pcap; a workload or a label selector
// → pcapng, each pod its own interface), and the log can show a command to reproduce it. Pure.
import type { ExtcapOptions } from './options.ts';

export interface CaptureRequestParts {
  /** The kubeconfig context of the interface; undefined: the kubeconfig's current one. */
  context: string | undefined;
  /** The namespace when the options do not name one: the context's. */
  namespace: string;
  /** Wireshark's FIFO. */
  fifo: string;
  /** Wireshark's capture filter. */
  filter: string | undefined;
  options: ExtcapOptions;
  /** Every step in the log (-v). */
  verbose: boolean;
}

/** The words after `kubectl netns`. */
export function captureArgv(p: CaptureRequestParts): string[] {
  const o = p.options;
  const selector = o.selector?.trim();
  const argv = ['capture'];
  // A label selector replaces the pod: the dialog asks for a pod either way.
  if (selector) argv.push('-l', selector);
  else if (o.pod) argv.push(o.pod);
  if (p.context !== undefined) argv.push('--context', p.context);
  argv.push('-n', o.namespace || p.namespace);
  if (o.container) argv.push('-c', o.container);
  if (o.interface && o.interface !== 'auto') argv.push('-i', o.interface);
  if (o.snaplen && o.snaplen !== '262144') argv.push('-s', o.snaplen);
  if (o['host-side']) argv.push('--host-side');
  if (o['debug-namespace']) argv.push('--debug-namespace', o['debug-namespace']);
  if (o.image) argv.push('--image', o.image);
  if (o.privileged) argv.push('--privileged');
  argv.push('-w', p.fifo);
  if (p.verbose) argv.push('-v');
  // Last, after --, as a person would type it: a filter is free text.
  if (p.filter?.trim()) argv.push('--', p.filter.trim());
  return argv;
}

/** ARGV as one line a person can paste into a POSIX shell. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((w) => (/^[A-Za-z0-9_./:=@,+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
