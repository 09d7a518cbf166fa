// What we answer to Wireshark's questions that need no cluster: which interfaces there are, their
// link type, and their options dialog. Wireshark asks the first and the last at every start-up for
// every interface, so these answers come from the kubeconfig and a local cache only. Pure.
import { VERSION } from '../version.ts';
import type { Choice, CachedChoices } from './choices-cache.ts';
import type { WiresharkInterface } from './interfaces.ts';
import { argSentence, sentence, sentences, valueSentence, type ArgSpec } from './sentences.ts';

/** The toolbar control that shows the debug pod's life in Wireshark (View → Interface Toolbars). */
export const LOGGER_CONTROL = 0;

/** `--extcap-interfaces`: the tool, one interface per context, and the toolbar's log window. */
export function interfacesAnswer(ifaces: readonly WiresharkInterface[]): string {
  return sentences([
    sentence('extcap', [
      ['version', VERSION],
      ['display', 'Kubernetes pods (kubectl-netns)'],
    ]),
    ...ifaces.map((i) =>
      sentence('interface', [
        ['value', i.name],
        ['display', i.display],
      ]),
    ),
    sentence('control', [
      ['number', LOGGER_CONTROL],
      ['type', 'button'],
      ['role', 'logger'],
      ['display', 'Debug pod log'],
      ['tooltip', "The debug pod's life: scheduling, running, capturing, stopping"],
    ]),
  ]);
}

/**
 * `--extcap-dlts`: Ethernet, what one pod's main interface gives. Wireshark reads the real link
 * type from the capture itself (Linux cooked v2 with interface "any"; pcapng for several pods).
 */
export function dltsAnswer(): string {
  return sentences([
    sentence('dlt', [
      ['number', 1],
      ['name', 'EN10MB'],
      ['display', 'Ethernet'],
    ]),
  ]);
}

/** The dialog's options, by number; `value` sentences name these numbers. */
export const ARG = {
  namespace: 0,
  pod: 1,
  selector: 2,
  container: 3,
  interface: 4,
  snaplen: 5,
  hostSide: 6,
  debugNamespace: 7,
  image: 8,
  privileged: 9,
} as const;

/** Which option a reload button belongs to, by the name Wireshark passes (without dashes). */
export const RELOADABLE: Readonly<Record<string, number>> = { namespace: ARG.namespace, pod: ARG.pod };

/** Defaults the dialog shows, from the kubeconfig and kubectl-netns' own config. */
export interface DialogDefaults {
  /** The image used when the field is left empty (shown as its placeholder). */
  image: string | undefined;
  debugNamespace: string | undefined;
}

/** The dialog's options (`arg` sentences). */
export function dialogArgs(d: DialogDefaults): ArgSpec[] {
  const pod = 'Pod';
  const capture = 'Capture';
  const debugPod = 'Debug pod';
  return [
    {
      number: ARG.namespace,
      call: '--namespace',
      display: 'Namespace',
      type: 'selector',
      reload: true,
      placeholder: 'Load namespaces',
      required: true,
      tooltip: "The pod's namespace. Load namespaces lists them from the cluster",
      group: pod,
    },
    {
      number: ARG.pod,
      call: '--pod',
      display: 'Pod',
      type: 'selector',
      reload: true,
      placeholder: 'Load pods',
      required: true,
      tooltip:
        'A running pod of the namespace, or a workload (deploy/, sts/, ds/, job/: all its pods, each its own interface in pcapng). Choose the namespace first, then Load pods',
      group: pod,
    },
    {
      number: ARG.selector,
      call: '--selector',
      display: 'Label selector (instead of the pod)',
      type: 'string',
      placeholder: 'e.g. app=web',
      tooltip: 'Capture every running pod of the namespace with these labels instead of the pod above',
      // Never a leading "-" (it is a value, not a flag) nor anything cmd.exe acts on (the Windows launcher).
      validation: '^([A-Za-z0-9!(][A-Za-z0-9_./=!,() -]*)?$',
      group: pod,
    },
    {
      number: ARG.container,
      call: '--container',
      display: 'Container',
      type: 'string',
      placeholder: "the pod's default container",
      tooltip: 'Container whose network namespace to use (the containers of a pod normally share one)',
      validation: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$',
      group: pod,
    },
    {
      number: ARG.interface,
      call: '--interface',
      display: 'Interface in the pod',
      type: 'string',
      default: 'auto',
      tooltip:
        "auto: the pod's default route's interface (Ethernet); any: every interface including lo (Linux cooked); or a name such as eth0",
      validation: '^[A-Za-z0-9_.][A-Za-z0-9_.:@-]{0,14}$',
      group: capture,
    },
    {
      number: ARG.snaplen,
      call: '--snaplen',
      display: 'Snapshot length',
      type: 'unsigned',
      default: 262144,
      range: [1, 262144],
      tooltip: 'Bytes kept of each packet',
      group: capture,
    },
    {
      number: ARG.hostSide,
      call: '--host-side',
      display: "Capture on the node's end of the pod's veth",
      type: 'boolflag',
      default: false,
      tooltip: "What leaves the pod before the node's firewall sees it; needs one named interface, not any",
      group: capture,
    },
    {
      number: ARG.debugNamespace,
      call: '--debug-namespace',
      display: 'Debug pod namespace',
      type: 'string',
      placeholder: d.debugNamespace ?? "the pod's namespace",
      tooltip: 'Where the short-lived debug pod runs, e.g. a namespace whose PodSecurity admits privileged pods',
      validation: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$',
      group: debugPod,
    },
    {
      number: ARG.image,
      call: '--image',
      display: 'Debug image',
      type: 'string',
      placeholder: d.image?.replace(/@sha256:.*/, '') ?? '',
      tooltip: 'An image with sh, tcpdump, nsenter and ip that the node can pull',
      validation: '^([A-Za-z0-9\\[][A-Za-z0-9._/:@\\[\\]-]*)?$',
      group: debugPod,
    },
    {
      number: ARG.privileged,
      call: '--privileged',
      display: 'Privileged debug pod',
      type: 'boolflag',
      default: false,
      tooltip: 'Run the debug pod privileged instead of with only the capabilities nsenter and tcpdump need',
      group: debugPod,
    },
  ];
}

/** The namespace choices: the cached list, with the context's own namespace first and preselected. */
export function namespaceValues(contextNamespace: string, namespaces: readonly string[] | undefined): string[] {
  return [contextNamespace, ...(namespaces ?? []).filter((n) => n !== contextNamespace)];
}

/** `--extcap-config` without a reload: every option, with the lists remembered from the last reload. */
export function configAnswer(iface: WiresharkInterface, cached: CachedChoices, defaults: DialogDefaults): string {
  const namespaces = namespaceValues(iface.namespace, cached.namespaces);
  return sentences([
    ...dialogArgs(defaults).map(argSentence),
    ...namespaces.map((n) =>
      valueSentence({ arg: ARG.namespace, value: n, display: n, default: n === iface.namespace }),
    ),
    ...(cached.pods?.choices ?? []).map((c) => valueSentence({ arg: ARG.pod, value: c.value, display: c.display })),
  ]);
}

/** `--extcap-config --extcap-reload-option NAME`: the fresh values of one selector. */
export function reloadAnswer(arg: number, choices: readonly Choice[], preselect?: string): string {
  return sentences(
    choices.map((c) => valueSentence({ arg, value: c.value, display: c.display, default: c.value === preselect })),
  );
}
