// Where pods of a workload may run, as far as their spec says: the scheduler's hard rules that a
// client can check from a node object (nodeName, nodeSelector, required node affinity, taints
// against tolerations). Resources, pod (anti-)affinity and topology spread are left out: they
// only narrow the answer, so a node named here may still get no pod, never the reverse. Pure.
import type {
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1PodSpec,
  V1Taint,
  V1Toleration,
} from './client.ts';

/** The tolerations the DaemonSet controller adds to every pod it makes (they are not in the template). */
export const DAEMONSET_TOLERATIONS: V1Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' },
];

/** Does TOLERATION tolerate TAINT (Kubernetes' ToleratesTaint)? */
function tolerates(t: V1Toleration, taint: V1Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** One requirement against a node's labels (or, for matchFields, its name). */
function requirementHolds(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const n = Number.parseInt(value ?? '', 10);
      const bound = Number.parseInt(values[0] ?? '', 10);
      if (!/^-?\d+$/.test(value ?? '') || Number.isNaN(bound)) return false;
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

/** A node selector term: every expression and field requirement holds; an empty term matches nothing. */
function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return (
    exprs.every((r) => requirementHolds(r, labels[r.key])) &&
    fields.every((r) => r.key === 'metadata.name' && requirementHolds(r, node.metadata?.name))
  );
}

/** Can a pod with SPEC be scheduled on NODE, by the rules above? */
export function podFitsNode(spec: V1PodSpec, node: V1Node): boolean {
  const name = node.metadata?.name ?? '';
  if (spec.nodeName) return spec.nodeName === name;
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !terms.some((t) => termMatches(t, node))) return false;
  const taints: V1Taint[] = [...(node.spec?.taints ?? [])];
  if (node.spec?.unschedulable) taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  const tolerations = spec.tolerations ?? [];
  return taints
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

/** The names of NODES where a pod with any of SPECS may be scheduled, sorted. */
export function nodesForPods(nodes: readonly V1Node[], specs: readonly V1PodSpec[]): string[] {
  return nodes
    .filter((n) => specs.some((s) => podFitsNode(s, n)))
    .map((n) => n.metadata?.name ?? '')
    .sort();
}
