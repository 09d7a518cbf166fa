// What the Wireshark extcap (src/extcap) needs from the program it runs in, handed to it rather
// than imported by it, so the layers read one way. The capture is the capture command's own code,
// given typed values, never words for the parser: no value from Wireshark's dialog can turn into a
// flag. It loads only when a capture starts; Wireshark's listing calls at every start-up never pay
// for it.
import { userDefaults } from '../../cli/defaults.ts';
import type { WiresharkCapture } from '../../extcap/capture-request.ts';
import type { ExtcapHost } from '../../extcap/run.ts';
import type { CaptureArgs } from '../capture.ts';

type Defaults = typeof import('../capture.ts').CAPTURE_DEFAULTS & typeof import('../../cli/global.ts').GLOBAL_DEFAULTS;

/** C as the capture command's arguments, the flags' DEFAULTS for the rest. Pure. */
export function captureArgs(c: WiresharkCapture, defaults: Defaults): CaptureArgs {
  return {
    ...defaults,
    context: c.context,
    namespace: c.namespace,
    target: c.target,
    selector: c.selector,
    container: c.container,
    interface: c.iface,
    snaplen: c.snaplen,
    'host-side': c.hostSide,
    'debug-namespace': c.debugNamespace,
    image: c.image,
    privileged: c.privileged,
    verbose: c.verbose,
    filter: c.filter,
  };
}

/** Runs the capture Wireshark asked for, into Wireshark's FIFO; resolves with the exit code. */
async function captureForWireshark(c: WiresharkCapture): Promise<number> {
  const [{ CAPTURE_DEFAULTS, runCapture }, { GLOBAL_DEFAULTS }] = await Promise.all([
    import('../capture.ts'),
    import('../../cli/global.ts'),
  ]);
  return runCapture(captureArgs(c, { ...CAPTURE_DEFAULTS, ...GLOBAL_DEFAULTS }), c.fifo);
}

export const extcapHost: ExtcapHost = {
  capture: captureForWireshark,
  dialogDefaults: () => {
    const d = userDefaults();
    return { image: d.image, debugNamespace: d.debugNamespace };
  },
};
