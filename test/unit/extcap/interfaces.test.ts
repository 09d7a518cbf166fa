// One Wireshark interface per kubeconfig context, named so that `tshark -i NAME` and
// `-o extcap.NAME.option:VALUE` use the same NAME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contextInterfaces, findInterface, NO_CONTEXT_IFACE } from '../../../src/extcap/interfaces.ts';
import type { KubeContexts } from '../../../src/kube/kubeconfig-contexts.ts';

const kube = (names: string[], current?: string): KubeContexts => ({
  files: ['/k'],
  contexts: names.map((name) => ({ name, namespace: name === 'prod' ? 'shop' : undefined, cluster: 'c' })),
  current,
  problem: undefined,
});

/** The preference name Wireshark derives from an interface name (extcap.c). */
const prefName = (iface: string) => iface.replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();

test('each context is an interface whose name is its own preference name', () => {
  const ifaces = contextInterfaces(kube(['prod', 'kind-dev', 'arn:aws:eks:eu-west-1:1234:cluster/Staging'], 'prod'));
  assert.deepEqual(
    ifaces.map((i) => [i.name, i.context, i.namespace]),
    [
      ['kubectl_netns_prod', 'prod', 'shop'],
      ['kubectl_netns_kind_dev', 'kind-dev', 'default'],
      [
        'kubectl_netns_arn_aws_eks_eu_west_1_1234_cluster_staging',
        'arn:aws:eks:eu-west-1:1234:cluster/Staging',
        'default',
      ],
    ],
  );
  for (const i of ifaces) assert.equal(prefName(i.name), i.name);
  assert.equal(ifaces[0]!.display, 'Kubernetes pods: prod (kubectl-netns, current context)');
  assert.equal(ifaces[1]!.display, 'Kubernetes pods: kind-dev (kubectl-netns)');
});

test('contexts whose names differ only in punctuation or case get distinct, stable names', () => {
  const first = contextInterfaces(kube(['kind-dev', 'kind_dev', 'other']));
  assert.equal(new Set(first.map((i) => i.name)).size, 3);
  assert.match(first[0]!.name, /^kubectl_netns_kind_dev_[0-9a-f]{6}$/);
  assert.equal(first[2]!.name, 'kubectl_netns_other');
  // The same context keeps its name when the order changes.
  const again = contextInterfaces(kube(['other', 'kind_dev', 'kind-dev']));
  assert.equal(again.find((i) => i.context === 'kind-dev')!.name, first[0]!.name);
});

test('without a usable kubeconfig there is one interface that says why', () => {
  const [only, ...rest] = contextInterfaces({
    files: [],
    contexts: [],
    current: undefined,
    problem: 'no kubeconfig at /h/.kube/config',
  });
  assert.deepEqual(rest, []);
  assert.equal(only!.name, NO_CONTEXT_IFACE);
  assert.match(only!.display, /no kubeconfig at \/h\/\.kube\/config/);
  assert.equal(only!.context, undefined);
});

test('an interface is found again by its name, and not once its context is gone', () => {
  assert.equal(findInterface(kube(['prod', 'dev']), 'kubectl_netns_dev')?.context, 'dev');
  assert.equal(findInterface(kube(['prod']), 'kubectl_netns_dev'), undefined);
});
