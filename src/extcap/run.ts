// The extcap program: what the launcher that `wireshark-extcap install` writes into Wireshark's
// extcap folder runs, as `kubectl-netns wireshark-extcap run -- ARGS...`. It answers the request
// ARGS make (request.ts) on stdout, the way Wireshark reads it. The answers Wireshark asks for at
// every start-up (interfaces, link types, the options dialog) read only the kubeconfig and a local
// cache: no API call, and nothing heavier loaded than a YAML parser.
import { ExitCode, exitCodeOf, formatError, UserError } from '../errors.ts';
import { readKubeContexts } from '../kube/kubeconfig-contexts.ts';
import { configAnswer, dltsAnswer, interfacesAnswer, RELOADABLE, type DialogDefaults } from './answers.ts';
import type { RunCapture } from './capture-run.ts';
import { readChoices } from './choices-cache.ts';
import { contextInterfaces, findInterface, type WiresharkInterface } from './interfaces.ts';
import { parseExtcapRequest, type ExtcapRequest } from './request.ts';

/** Writes TEXT to stdout and resolves once it is handed to the OS (Wireshark reads until we exit). */
function answer(text: string): Promise<number> {
  return new Promise((resolve) => {
    if (text === '') return resolve(ExitCode.ok);
    process.stdout.write(text, () => resolve(ExitCode.ok));
  });
}

/** What the extcap needs from the program it runs in, handed in by `wireshark-extcap run`. */
export interface ExtcapHost {
  /** Runs a capture (the capture command's own code) into Wireshark's FIFO. */
  capture: RunCapture;
  /** The dialog's placeholders: the debug image and namespace a capture would use. May throw. */
  dialogDefaults: () => DialogDefaults;
}

/** The dialog's defaults; a broken config file only loses the placeholders (the capture reports it). */
function dialogDefaults(host: ExtcapHost): DialogDefaults {
  try {
    return host.dialogDefaults();
  } catch {
    return { image: undefined, debugNamespace: undefined };
  }
}

/** The interface REQ names; an interface whose context has gone from the kubeconfig is an error. */
function interfaceFor(req: Exclude<ExtcapRequest, { kind: 'interfaces' }>): WiresharkInterface {
  const kube = readKubeContexts();
  const iface = findInterface(kube, req.iface);
  if (iface) return iface;
  throw new UserError(`interface ${req.iface} is not one of this kubeconfig's contexts`, {
    exitCode: ExitCode.config,
    hint: `refresh Wireshark's interfaces (Capture → Refresh Interfaces, F5); this kubeconfig has ${contextInterfaces(
      kube,
    )
      .map((i) => i.name)
      .join(', ')}`,
  });
}

/** Answers one extcap request; resolves with the exit code. */
export async function runExtcap(words: readonly string[], host: ExtcapHost): Promise<number> {
  try {
    const req = parseExtcapRequest(words);
    if (req.kind === 'interfaces') return await answer(interfacesAnswer(contextInterfaces(readKubeContexts())));
    if (req.kind === 'dlts') return await answer(dltsAnswer());
    // Wireshark asks us to check its capture filter. We cannot (the filter runs in tcpdump on the
    // node): failing makes Wireshark check it with its own libpcap, which has the same syntax.
    if (req.kind === 'filter-check') return ExitCode.usage;
    const iface = interfaceFor(req);
    if (req.kind === 'config') {
      if (req.reload === undefined) {
        return await answer(configAnswer(iface, readChoices(iface.name), dialogDefaults(host)));
      }
      if (!Object.hasOwn(RELOADABLE, req.reload)) return await answer('');
      const { reloadAnswerFor } = await import('./reload.ts');
      return await answer(await reloadAnswerFor(req, iface));
    }
    const { runWiresharkCapture } = await import('./capture-run.ts');
    return await runWiresharkCapture(req, iface, host.capture);
  } catch (err) {
    process.stderr.write(`${formatError(err, false)}\n`);
    return exitCodeOf(err);
  }
}
