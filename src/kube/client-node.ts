// Loads @kubernetes/client-node on first use. Importing it costs most of a second and ~90 MB
// (its HTTP stack, YAML, every API group), which `--help`, `--version` and completion of static
// words must not pay; everything that talks to a cluster awaits this once. The import goes through
// a local module that names what we use, so a bundle tree-shakes the rest (client-node-exports.ts).
type ClientNode = typeof import('./client-node-exports.ts');

let loading: Promise<ClientNode> | undefined;

/** The client-node classes we use, imported once. */
export function loadClientNode(): Promise<ClientNode> {
  loading ??= import('./client-node-exports.ts');
  return loading;
}
