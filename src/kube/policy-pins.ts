// What the shipped admission policy (deploy/policy/debug-pod-policy.yaml) pins of the debug pod,
// derived from the pod builder so the two cannot drift: the container's command word for word
// (only the deadline may differ) and the volumes it may mount. `node scripts/policy.ts` writes the
// block into the policy; a unit test fails when the file and the builder disagree. Pure.
import { buildDebugPod, DEFAULT_DEADLINE_SECONDS, MAX_RECONNECT_SECONDS } from './debug-pod.ts';

/** The lines between these markers in the policy are generated. */
export const BEGIN_MARKER =
  '    # BEGIN pinned from src/kube/debug-pod.ts by `node scripts/policy.ts` (do not edit by hand)';
export const END_MARKER = '    # END pinned';

/** The debug pod as two different runs build it: what differs between them is not pinned exactly. */
function samples(): [ReturnType<typeof buildDebugPod>, ReturnType<typeof buildDebugPod>] {
  const base = {
    namespace: 'ns',
    nodeName: 'n',
    image: 'img',
    privileged: false,
    target: undefined,
    sessionId: 's',
    suffix: 'x',
    podTimeoutSeconds: 60,
    version: 'v',
  };
  return [
    buildDebugPod({ ...base, durationSeconds: 1 }),
    buildDebugPod({ ...base, durationSeconds: undefined, reconnectSeconds: MAX_RECONNECT_SECONDS, spoolBytes: 1e6 }),
  ];
}

/** A CEL string literal for S (JSON's escapes are CEL's). */
function cel(s: string): string {
  return JSON.stringify(s);
}

/** The CEL expression that holds when `variables.c.command` is exactly what the builder makes. */
export function commandExpression(): string {
  const [a, b] = samples();
  const one = a.spec!.containers[0]!.command!;
  const two = b.spec!.containers[0]!.command!;
  if (one.length !== two.length) throw new Error('the debug container command changes length between pods');
  const n = one.length;
  const varying = one.flatMap((w, i) => (w === two[i] ? [] : [i]));
  if (varying.join() !== `${n - 2},${n - 1}`)
    throw new Error(`only the last two command words may depend on the pod; these do: ${varying.join(', ')}`);
  // The last two words: how long the pod waits for its client to come back, and the container's
  // own deadline; numbers of seconds, bounded.
  const maxWindow = MAX_RECONNECT_SECONDS;
  const maxLast = DEFAULT_DEADLINE_SECONDS + 60;
  if (two[n - 2] !== String(maxWindow)) throw new Error('the command word before the last is not the reconnect window');
  if (two[n - 1] !== String(maxLast)) throw new Error('the last command word is not the deadline + 60');
  const c = 'variables.c.command';
  const fixed = one.slice(0, -2).map((w, i) => `${c}[${i}] == ${cel(w)}`);
  return [
    `has(variables.c.command) && size(${c}) == ${n}`,
    ...fixed,
    `${c}[${n - 2}].matches('^[0-9]{1,4}$') && int(${c}[${n - 2}]) <= ${maxWindow}`,
    `${c}[${n - 1}].matches('^[0-9]{1,6}$') && int(${c}[${n - 1}]) <= ${maxLast}`,
  ].join(' && ');
}

/** The names of the emptyDir volumes the builder gives the debug pod (its spool). */
export function emptyDirNames(): string[] {
  const [, b] = samples();
  return (b.spec!.volumes ?? []).map((v) => {
    if (!v.emptyDir)
      throw new Error(`the debug pod's volume ${v.name} is not an emptyDir: pin it in the policy by hand`);
    return v.name;
  });
}

/** The policy's generated block: its `variables` entries, indented as in the file, markers included. */
export function pinnedBlock(): string {
  return [
    BEGIN_MARKER,
    '    - name: commandPinned',
    '      expression: >-',
    `        ${commandExpression()}`,
    '    - name: emptyDirs',
    // Double-quoted YAML (prettier's choice for a string holding single quotes) around a CEL list
    // of single-quoted names.
    `      expression: "[${emptyDirNames()
      .map((n) => `'${n}'`)
      .join(', ')}]"`,
    END_MARKER,
  ].join('\n');
}

/** POLICY (the file's text) with its generated block replaced by the builder's. */
export function withPinnedBlock(policy: string): string {
  const start = policy.indexOf(BEGIN_MARKER);
  const end = policy.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error('the policy has no generated block (its BEGIN/END markers)');
  return policy.slice(0, start) + pinnedBlock() + policy.slice(end + END_MARKER.length);
}
