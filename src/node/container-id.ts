// Container ids as the API writes them (`containerd://abc…`) and as the node's cgroups name them
// (`abc…`): the one place that knows the difference.

/** Splits `containerd://abc` into runtime and bare id; an id without a prefix has runtime "unknown". */
export function splitContainerId(full: string): { runtime: string; id: string } {
  const m = /^([a-z0-9.+-]+):\/\/([0-9a-zA-Z]+)$/.exec(full);
  return m ? { runtime: m[1]!, id: m[2]! } : { runtime: 'unknown', id: full };
}
