// Turns what the API server (or the network) said into one message a person can act on. Known
// causes get a specific hint; this is the only place that reads HTTP status codes.
import { ExitCode, UserError } from '../errors.ts';

/** What we were doing when the error happened, for the message. */
export interface ApiAction {
  verb: string; // get, list, create, delete, watch, exec
  resource: string; // pods, pods/exec, deployments, namespaces, nodes
  namespace?: string | undefined;
  name?: string | undefined;
  /** The request's time limit, for the message when it ran out. */
  timeoutMs?: number | undefined;
}

interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: Array<{ type?: string; reason?: string }> };
}

/** The Kubernetes Status object carried by an ApiException, if any. */
function statusOf(err: unknown): { code: number; status: StatusBody } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; body?: unknown };
  // Only an HTTP status: a DOMException carries a small legacy number in `code` too (23 for a
  // TimeoutError, 20 for an AbortError), which is no answer from the API server.
  if (typeof e.code !== 'number' || e.code < 100 || e.code > 599) return undefined;
  let status: StatusBody = {};
  if (typeof e.body === 'string') {
    try {
      status = JSON.parse(e.body) as StatusBody;
    } catch {
      status = { message: e.body };
    }
  } else if (typeof e.body === 'object' && e.body !== null) {
    status = e.body;
  }
  return { code: e.code, status };
}

/** Network-level failure code (ECONNREFUSED, ENOTFOUND, certificate errors), if any. */
function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function where(a: ApiAction): string {
  const obj = a.name ? `${a.resource} "${a.name}"` : a.resource;
  return a.namespace ? `${obj} in namespace "${a.namespace}"` : obj;
}

/**
 * True for client-node's end of a watch that received nothing for a while (a TimeoutError after
 * 30 s of silence). For a pod that is still waiting (a long image pull, a node whose kubelet has
 * gone) silence is normal, not a failure.
 */
export function isWatchIdleTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}

/** True for an API "not found", raw (a 404 status) or already translated. */
export function isNotFound(err: unknown): boolean {
  if (err instanceof UserError) return err.exitCode === ExitCode.notFound;
  return statusOf(err)?.code === 404;
}

/** Translates any error from an API call into a UserError; unknown shapes pass through unchanged. */
export function translateApiError(err: unknown, action: ApiAction, server?: string): unknown {
  if (err instanceof UserError) return err;
  const st = statusOf(err);
  if (st) {
    const msg = st.status.message ?? `HTTP ${st.code}`;
    if (st.code === 404) {
      return new UserError(`${where(action)} not found`, {
        exitCode: ExitCode.notFound,
        hint: action.namespace
          ? `check the name and namespace (kubectl get ${action.resource.split('/')[0]} -n ${action.namespace})`
          : undefined,
        cause: err,
      });
    }
    if (st.code === 401) {
      return new UserError(
        `the API server rejected our credentials (Unauthorized) while trying to ${action.verb} ${where(action)}`,
        {
          exitCode: ExitCode.config,
          hint: 'your token or certificate may have expired; check `kubectl auth whoami` with the same --context',
          cause: err,
        },
      );
    }
    if (st.code === 403) {
      // The namespace lifecycle admission, not RBAC: nothing new may be made in a namespace being deleted.
      const causes = st.status.details?.causes ?? [];
      if (
        causes.some((c) => (c.type ?? c.reason) === 'NamespaceTerminating') ||
        /because it is being terminated/.test(msg)
      ) {
        const namespace = /in namespace (\S+) because/.exec(msg)?.[1] ?? action.namespace;
        return new UserError(
          `cannot ${action.verb} ${action.resource} in namespace "${namespace}": the namespace is being deleted (Terminating)`,
          {
            exitCode: ExitCode.forbidden,
            hint: `nothing new can start there until it is gone (kubectl get namespace ${namespace} shows what holds it); run the debug pod in another namespace with --debug-namespace`,
            cause: err,
          },
        );
      }
      if (/PodSecurity/.test(msg)) {
        const level = /violates PodSecurity "([a-z]+)(?::[^"]*)?"/.exec(msg)?.[1] ?? 'restricted';
        return new UserError(
          `the debug pod was rejected in namespace "${action.namespace}": its PodSecurity level is "${level}", and capturing needs hostPID and extra capabilities (the "privileged" level)`,
          {
            exitCode: ExitCode.forbidden,
            hint: `run debug pods in a namespace of their own that allows privileged pods: --debug-namespace kubectl-netns-debug (deploy/debug-namespace.yaml creates it; never a system namespace)`,
            cause: err,
          },
        );
      }
      const sub = action.resource.includes('/') ? action.resource : `${action.resource}`;
      return new UserError(
        `forbidden: you cannot ${action.verb} ${where(action)} (needs "${action.verb}" on "${sub}")`,
        {
          exitCode: ExitCode.forbidden,
          hint: `ask for RBAC that allows it, e.g. kubectl auth can-i ${action.verb} ${sub}${action.namespace ? ` -n ${action.namespace}` : ''}`,
          cause: err,
        },
      );
    }
    if (st.code === 409) {
      return new UserError(`${where(action)} already exists`, { exitCode: ExitCode.debugPod, cause: err });
    }
    if (st.code === 422 || st.code === 400) {
      return new UserError(`the API server refused to ${action.verb} ${where(action)}: ${msg}`, {
        exitCode: ExitCode.debugPod,
        cause: err,
      });
    }
    return new UserError(`cannot ${action.verb} ${where(action)}: ${msg} (HTTP ${st.code})`, {
      exitCode: st.code >= 500 ? ExitCode.connection : ExitCode.internal,
      cause: err,
    });
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    const limit = action.timeoutMs ? ` within ${Math.round(action.timeoutMs / 1000)}s` : '';
    return new UserError(
      `the API server${server ? ` at ${server}` : ''} did not answer${limit} while trying to ${action.verb} ${where(action)}`,
      {
        exitCode: ExitCode.connection,
        hint: 'check your network/VPN to the cluster; --request-timeout sets how long to wait',
        cause: err,
      },
    );
  }
  const code = networkCode(err);
  if (code) {
    const target = server ? ` at ${server}` : '';
    const hints: Record<string, string> = {
      ECONNREFUSED: 'is the cluster running? `kubectl cluster-info` with the same --context tells',
      ENOTFOUND: 'the server name does not resolve; check the cluster entry in your kubeconfig',
      ETIMEDOUT: 'the server did not answer; check your network/VPN and the --context',
      ECONNRESET: 'the connection was reset; retry, and check proxies between you and the cluster',
      DEPTH_ZERO_SELF_SIGNED_CERT:
        'the server certificate is not trusted; check certificate-authority in the kubeconfig',
      UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        'the server certificate is not trusted; check certificate-authority in the kubeconfig',
      SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate is not trusted; check certificate-authority in the kubeconfig',
      ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not match the server address in the kubeconfig',
    };
    return new UserError(
      `cannot reach the API server${target} (${code}) while trying to ${action.verb} ${where(action)}`,
      {
        exitCode: ExitCode.connection,
        hint: hints[code] ?? 'check that the cluster is reachable with `kubectl cluster-info`',
        cause: err,
      },
    );
  }
  return err;
}
