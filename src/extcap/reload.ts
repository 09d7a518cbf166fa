// The options dialog's reload buttons: the namespaces of the cluster, or the pods (and workloads)
// of the namespace chosen in the dialog, which Wireshark passes along with the other fields. The
// lists are remembered for the next dialog (choices-cache.ts). A failure becomes an entry of the
// list that says what went wrong: Wireshark shows no error from a reload, only the list.
import { createKubeClient } from '../kube/client.ts';
import { resolveConfig } from '../kube/config.ts';
import { ARG, namespaceValues, reloadAnswer } from './answers.ts';
import { writeChoices, type Choice } from './choices-cache.ts';
import type { WiresharkInterface } from './interfaces.ts';
import { namespaceChoices, podChoices } from './pod-choices.ts';
import type { ExtcapRequest } from './request.ts';

type ConfigRequest = Extract<ExtcapRequest, { kind: 'config' }>;

/** A reload gives up after this long: someone is waiting in front of a dialog. */
const RELOAD_TIMEOUT_MS = 15_000;

/** A list entry that reads as the problem and cannot be chosen as a value. */
function problem(err: unknown): Choice {
  const message = err instanceof Error ? err.message : String(err);
  return { value: '', display: `(${message.split('\n')[0]})` };
}

/** The values of the option REQ.reload names, fresh from the cluster. */
export async function reloadAnswerFor(req: ConfigRequest, iface: WiresharkInterface): Promise<string> {
  const namespace = req.options.namespace || iface.namespace;
  if (req.reload === 'namespace') {
    let names: string[];
    try {
      const client = await clientFor(iface);
      names = (await client.listNamespaces()).map((n) => n.metadata?.name ?? '').filter(Boolean);
      writeChoices(iface.name, { namespaces: names });
    } catch (err) {
      // Without the right to list namespaces, the context's own (and the one typed) still work.
      return reloadAnswer(ARG.namespace, [...namespaceChoices([namespace]), problem(err)], namespace);
    }
    const choices = namespaceValues(
      iface.namespace,
      namespaceChoices(names).map((c) => c.value),
    ).map((n) => ({
      value: n,
      display: n,
    }));
    return reloadAnswer(ARG.namespace, choices, namespace);
  }
  if (req.reload === 'pod') {
    let choices: Choice[];
    try {
      const client = await clientFor(iface);
      choices = podChoices(await client.listPods(namespace));
      writeChoices(iface.name, { pods: { namespace, choices } });
    } catch (err) {
      return reloadAnswer(ARG.pod, [problem(err)]);
    }
    if (choices.length === 0)
      return reloadAnswer(ARG.pod, [{ value: '', display: `(no running pod in ${namespace})` }]);
    return reloadAnswer(ARG.pod, choices, req.options.pod);
  }
  return '';
}

/** An API client for IFACE's context, with requests bounded for someone waiting in a dialog. */
async function clientFor(iface: WiresharkInterface) {
  const cfg = await resolveConfig({ context: iface.context });
  return createKubeClient(cfg, { requestMs: RELOAD_TIMEOUT_MS, cleanupMs: RELOAD_TIMEOUT_MS });
}
