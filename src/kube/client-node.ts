// Loads @kubernetes/client-node on first use. Importing it costs most of a second and ~90 MB
// (its HTTP stack, YAML, every API group), which `--help`, `--version` and completion of static
// words must not pay; everything that talks to a cluster awaits this once.
type ClientNode = typeof import('@kubernetes/client-node');

let loading: Promise<ClientNode> | undefined;

/** The client-node module, imported once. */
export function loadClientNode(): Promise<ClientNode> {
  loading ??= import('@kubernetes/client-node');
  return loading;
}
