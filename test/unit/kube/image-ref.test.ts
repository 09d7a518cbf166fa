// Image references as kubelet and registries read them; anything else (spaces, quotes, shell and
// cmd.exe metacharacters, a leading "-") is refused before a run starts, wherever it came from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_IMAGE } from '../../../src/kube/debug-pod.ts';
import { imageProblem } from '../../../src/kube/image-ref.ts';
import { runPlugin } from '../../helpers/plugin.ts';

test('references with registry, port, path, tag and digest are images', () => {
  for (const ref of [
    DEFAULT_IMAGE,
    'busybox',
    'busybox:1.36',
    'nicolaka/netshoot',
    'localhost:5000/tools/net-shoot_x__y:v1.2-rc.3',
    'Registry.Example.COM/a/b',
    '[fd00::1]:5000/debug:dev',
    'kubectl-netns.local/debug:dev',
    `busybox@sha256:${'0'.repeat(64)}`,
  ]) {
    assert.equal(imageProblem(ref), undefined, ref);
  }
});

test('anything else is not', () => {
  for (const ref of [
    '',
    '--kubeconfig=/tmp/x',
    '-busybox',
    'busybox&calc',
    'busybox|x',
    'busybox>x',
    'busy box',
    '"busybox"',
    'busybox%PATH%',
    'busybox^x',
    'Busybox',
    'busybox:',
    'busybox:-x',
    'busybox@sha256:abc',
    'a/'.repeat(128) + 'b',
  ]) {
    assert.notEqual(imageProblem(ref), undefined, ref);
  }
});

test('a bad image from the environment stops a run before any API call, naming where it came from', async () => {
  const r = await runPlugin(['capture', 'web', '-w', '-'], {
    env: { KUBECTL_NETNS_IMAGE: 'busybox&calc', KUBECONFIG: '/nonexistent' },
  });
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /^error: invalid debug image "busybox&calc" \(from \$KUBECTL_NETNS_IMAGE\): it is not an image reference/,
  );
  const flag = await runPlugin(['capture', 'web', '-w', '-', '--image', 'busybox "x"'], {
    env: { KUBECONFIG: '/nonexistent' },
  });
  assert.equal(flag.code, 2, flag.stderr);
  assert.match(flag.stderr, /invalid debug image "busybox \\?"x\\?"" \(from --image\)/);
});
