import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { isWatchIdleTimeout, translateApiError } from '../../../src/kube/api-errors.ts';
import { ExitCode, UserError } from '../../../src/errors.ts';

// Bodies as the API server sends them (real Status objects, as JSON text).
const status = (code: number, reason: string, message: string) =>
  new ApiException(
    code,
    'HTTP error',
    JSON.stringify({ kind: 'Status', status: 'Failure', reason, message, code }),
    {},
  );

function translated(err: unknown, action = { verb: 'create', resource: 'pods', namespace: 'shop' }): UserError {
  const out = translateApiError(err, action);
  assert.ok(out instanceof UserError, `not translated: ${String(out)}`);
  return out;
}

test('a PodSecurity rejection names the level and suggests --debug-namespace', () => {
  const e = translated(
    status(
      403,
      'Forbidden',
      'pods "netns-web-abc" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true), non-default capabilities (container "netns" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add)',
    ),
  );
  assert.equal(e.exitCode, ExitCode.forbidden);
  assert.match(e.message, /namespace "shop": its PodSecurity level is "baseline"/);
  assert.match(e.hint ?? '', /--debug-namespace/);
  assert.doesNotMatch(e.hint ?? '', /kube-system/, 'exec rights there reach every system pod');
});

test('RBAC forbidden names the missing verb and resource', () => {
  const e = translated(
    status(
      403,
      'Forbidden',
      'pods is forbidden: User "system:serviceaccount:shop:viewer" cannot create resource "pods" in API group "" in the namespace "shop"',
    ),
  );
  assert.equal(e.exitCode, ExitCode.forbidden);
  assert.match(e.message, /cannot create pods in namespace "shop" \(needs "create" on "pods"\)/);
  assert.match(e.hint ?? '', /kubectl auth can-i create pods -n shop/);
});

test('404, 401 and 5xx map to their own exit codes', () => {
  const nf = translated(status(404, 'NotFound', 'pods "web" not found'), {
    verb: 'get',
    resource: 'pods',
    namespace: 'shop',
    name: 'web',
  } as never);
  assert.equal(nf.exitCode, ExitCode.notFound);
  assert.match(nf.message, /pods "web" in namespace "shop" not found/);
  assert.equal(translated(status(401, 'Unauthorized', 'Unauthorized')).exitCode, ExitCode.config);
  assert.equal(translated(status(503, 'ServiceUnavailable', 'etcd down')).exitCode, ExitCode.connection);
});

test('network failures say the server is unreachable, with the cause code', () => {
  const err = new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }),
  });
  const e = translateApiError(err, { verb: 'get', resource: 'pods', namespace: 'shop' }, 'https://127.0.0.1:6443');
  assert.ok(e instanceof UserError);
  assert.equal(e.exitCode, ExitCode.connection);
  assert.match(e.message, /cannot reach the API server at https:\/\/127\.0\.0\.1:6443 \(ECONNREFUSED\)/);
});

test('unknown errors pass through untouched (they are bugs, shown as such at the top)', () => {
  const bug = new RangeError('boom');
  assert.equal(translateApiError(bug, { verb: 'get', resource: 'pods' }), bug);
});

test('a DOMException\'s legacy code is no HTTP status: a watch timeout is not reported as "HTTP 23"', () => {
  // What client-node 2.x hands a watch's done callback after 30 s without a byte.
  const idle = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  assert.equal(idle.code, 23);
  // A request that times out is a lost answer (exit 8); the client re-watches a quiet watch first.
  const err = translateApiError(idle, { verb: 'watch', resource: 'pods', namespace: 'shop', name: 'p' });
  assert.ok(err instanceof UserError);
  assert.equal(err.exitCode, ExitCode.connection);
  assert.doesNotMatch(err.message, /HTTP 23/);
  assert.equal(isWatchIdleTimeout(idle), true);
  assert.equal(isWatchIdleTimeout(new DOMException('aborted', 'AbortError')), false);
  assert.equal(isWatchIdleTimeout(status(500, 'InternalError', 'etcd is down')), false);
  assert.equal(isWatchIdleTimeout(undefined), false);
});

test('a namespace being deleted is said to be Terminating, not missing RBAC', () => {
  // The API server's answer as its NamespaceLifecycle admission builds it (the e2e errors test
  // checks the real one).
  const e = translated(
    new ApiException(
      403,
      'HTTP error',
      JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        message:
          'pods "netns-web-abc" is forbidden: unable to create new content in namespace shop because it is being terminated',
        reason: 'Forbidden',
        details: {
          name: 'netns-web-abc',
          kind: 'pods',
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: 'namespace shop is being terminated',
              field: 'metadata.namespace',
            },
          ],
        },
        code: 403,
      }),
      {},
    ),
  );
  assert.equal(e.exitCode, ExitCode.forbidden);
  assert.equal(e.message, 'cannot create pods in namespace "shop": the namespace is being deleted (Terminating)');
  assert.match(e.hint ?? '', /--debug-namespace/);
  assert.doesNotMatch(`${e.message} ${e.hint}`, /RBAC|can-i/);
});
