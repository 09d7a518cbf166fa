// The capture Wireshark asked for, as typed data: the interface's kubeconfig context, the dialog's
// values (each checked against what it names), Wireshark's FIFO and capture filter. The values never
// become command-line words that a parser reads again, so a value such as `--kubeconfig=/x` (typed
// into the dialog, saved in a shared profile, or given with tshark -o) stays a value, and is
// refused: no Kubernetes name, label selector or image starts with "-". The rules also keep out
// every character cmd.exe treats specially, for the Windows launcher. Pure.
import { ExitCode, UserError } from '../errors.ts';
import { imageProblem } from '../kube/image-ref.ts';
import { isInterfaceName } from '../node/agent.ts';
import type { WiresharkInterface } from './interfaces.ts';
import type { ExtcapOptions, OptionName } from './options.ts';

/** One capture, as the capture command takes it. */
export interface WiresharkCapture {
  /** The interface's kubeconfig context; undefined only for the interface shown when there is none. */
  context: string | undefined;
  namespace: string;
  /** A pod, or TYPE/NAME (all its pods); undefined when a selector is given. */
  target: string | undefined;
  selector: string | undefined;
  container: string | undefined;
  /** The interface in the pod: auto, any, or a name. */
  iface: string;
  snaplen: number | undefined;
  hostSide: boolean;
  debugNamespace: string | undefined;
  image: string | undefined;
  privileged: boolean;
  /** Wireshark's FIFO. */
  fifo: string;
  /** Wireshark's capture filter. */
  filter: string | undefined;
  /** Every step in the log (Wireshark has a log window open). */
  verbose: boolean;
}

export interface CaptureRequestParts {
  iface: WiresharkInterface;
  fifo: string;
  filter: string | undefined;
  options: ExtcapOptions;
  verbose: boolean;
}

/** RFC 1123 label: namespaces and container names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A pod, or TYPE/NAME; the capture command checks kind and name exactly. */
const TARGET = /^([A-Za-z][A-Za-z.]*\/)?[a-z0-9][-a-z0-9.]*$/;
/** A label selector: keys, values, =, ==, !=, !key, in (...), notin (...), commas. */
const SELECTOR = /^[A-Za-z0-9!(][A-Za-z0-9_./=!,() -]*$/;
const SNAPLEN = /^[0-9]{1,6}$/;

/** A refused value, named as the dialog names it, with where to change it. */
function badValue(iface: WiresharkInterface, option: OptionName, value: string, what: string): UserError {
  return new UserError(`the ${option} "${value}" is not ${what}`, {
    exitCode: ExitCode.usage,
    hint: `change it in the interface's options (the gear next to it; tshark: -o extcap.${iface.name}.${option.replace(/-/g, '')}:VALUE)`,
  });
}

/** OPTION's value if given and not blank, checked by OK; WHAT says what it must be. */
function checked(
  p: CaptureRequestParts,
  option: OptionName,
  ok: (v: string) => boolean,
  what: string,
): string | undefined {
  const raw = p.options[option];
  const value = typeof raw === 'string' ? raw.trim() : undefined;
  if (!value) return undefined;
  if (!ok(value)) throw badValue(p.iface, option, value, what);
  return value;
}

/** The capture P asks for, every value checked. Throws a UserError (exit 2) naming the first bad one. */
export function wiresharkCapture(p: CaptureRequestParts): WiresharkCapture {
  const selector = checked(p, 'selector', (v) => SELECTOR.test(v), 'a label selector (e.g. app=web)');
  const target = checked(p, 'pod', (v) => TARGET.test(v), 'a pod name or TYPE/NAME (e.g. deploy/web)');
  const namespace =
    checked(p, 'namespace', (v) => DNS_LABEL.test(v), 'a namespace name (lowercase letters, digits, "-")') ??
    p.iface.namespace;
  const snaplen = checked(p, 'snaplen', (v) => SNAPLEN.test(v) && Number(v) >= 1, 'a number of bytes');
  const image = checked(p, 'image', (v) => imageProblem(v) === undefined, 'an image reference');
  return {
    context: p.iface.context,
    namespace,
    // A label selector replaces the pod: the dialog asks for a pod either way.
    target: selector ? undefined : target,
    selector,
    container: checked(p, 'container', (v) => DNS_LABEL.test(v), 'a container name'),
    iface:
      checked(
        p,
        'interface',
        (v) => isInterfaceName(v) && !v.startsWith('-'),
        'an interface name (auto, any, or e.g. eth0)',
      ) ?? 'auto',
    snaplen: snaplen === undefined ? undefined : Number(snaplen),
    hostSide: p.options['host-side'] === true,
    debugNamespace: checked(p, 'debug-namespace', (v) => DNS_LABEL.test(v), 'a namespace name'),
    image,
    privileged: p.options.privileged === true,
    fifo: p.fifo,
    filter: p.filter?.trim() || undefined,
    verbose: p.verbose,
  };
}

/** C as a `kubectl netns capture` command line a person can paste into a POSIX shell (for the log). */
export function commandLine(c: WiresharkCapture): string {
  const words = ['kubectl', 'netns', 'capture'];
  if (c.selector) words.push(`--selector=${c.selector}`);
  else if (c.target) words.push(c.target);
  if (c.context !== undefined) words.push(`--context=${c.context}`);
  words.push(`--namespace=${c.namespace}`);
  if (c.container) words.push(`--container=${c.container}`);
  if (c.iface !== 'auto') words.push(`--interface=${c.iface}`);
  if (c.snaplen !== undefined && c.snaplen !== 262144) words.push(`--snaplen=${c.snaplen}`);
  if (c.hostSide) words.push('--host-side');
  if (c.debugNamespace) words.push(`--debug-namespace=${c.debugNamespace}`);
  if (c.image) words.push(`--image=${c.image}`);
  if (c.privileged) words.push('--privileged');
  words.push(`--output=${c.fifo}`);
  if (c.filter) words.push('--', c.filter);
  return words.map((w) => (/^[A-Za-z0-9_./:=@,+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
