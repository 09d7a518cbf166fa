// Asking before acting: the rights a command needs are checked with SelfSubjectAccessReviews
// before anything is created, so a missing right never shows up after a node-root debug pod exists,
// and every missing right is named at once.
import { ExitCode, UserError } from '../errors.ts';
import { debug } from '../log.ts';
import type { KubeClient, ResourceRight } from './client.ts';

export type { ResourceRight };

/** What running a debug pod in NAMESPACE takes: create, watch it start, exec into it, delete it. */
export function debugPodRights(namespace: string): ResourceRight[] {
  return [
    { verb: 'create', resource: 'pods', namespace },
    { verb: 'get', resource: 'pods', namespace },
    { verb: 'watch', resource: 'pods', namespace },
    { verb: 'delete', resource: 'pods', namespace },
    // The exec websocket is a GET: the API server authorizes it as "get" (newer ones also "create").
    { verb: 'create', resource: 'pods', subresource: 'exec', namespace },
    { verb: 'get', resource: 'pods', subresource: 'exec', namespace },
  ];
}

/** `create pods/exec in namespace "x"`, `list nodes` (cluster-wide). Pure. */
export function describeRight(r: ResourceRight): string {
  const resource = `${r.group ? `${r.resource}.${r.group}` : r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
  return `${r.verb} ${resource}${r.namespace ? ` in namespace "${r.namespace}"` : ' (cluster-wide)'}`;
}

/** Checks rights once per run: each right is reviewed at most once, however many nodes need it. */
export class RightsCheck {
  private readonly client: KubeClient;
  private readonly seen = new Map<string, Promise<boolean>>();

  constructor(client: KubeClient) {
    this.client = client;
  }

  /**
   * Throws one forbidden error naming every right in RIGHTS the user lacks. When the reviews
   * themselves cannot be made (an old or locked-down API server), it says nothing and lets the
   * command's own calls find out.
   */
  async assert(rights: readonly ResourceRight[]): Promise<void> {
    let allowed: boolean[];
    try {
      allowed = await Promise.all(rights.map((r) => this.review(r)));
    } catch (err) {
      debug(`cannot check RBAC rights up front (${err instanceof Error ? err.message : String(err)}); going ahead`);
      return;
    }
    assertAllowed(rights, allowed);
  }

  /**
   * Starts the reviews of RIGHTS without waiting, so they overlap with other requests (e.g. the
   * target's lookup); a later assert() of the same rights uses their answers.
   */
  prefetch(rights: readonly ResourceRight[]): void {
    for (const r of rights) void this.review(r).catch(() => {});
  }

  /** One review per right and run, shared by every caller. */
  private review(r: ResourceRight): Promise<boolean> {
    const key = describeRight(r);
    let p = this.seen.get(key);
    if (!p) {
      p = this.client.canI(r);
      this.seen.set(key, p);
    }
    return p;
  }
}

/** Throws when any of RIGHTS is not ALLOWED (same order), naming them all. Pure. */
export function assertAllowed(rights: readonly ResourceRight[], allowed: readonly boolean[]): void {
  const missing = rights.filter((_, i) => !allowed[i]);
  if (missing.length === 0) return;
  throw new UserError(
    `forbidden: you are missing ${missing.length === 1 ? 'a right' : `${missing.length} rights`} kubectl-netns needs: ${missing.map(describeRight).join(', ')}`,
    {
      exitCode: ExitCode.forbidden,
      hint: 'ask a cluster admin to bind the shipped roles (deploy/rbac in the kubectl-netns repository); check with kubectl auth can-i',
    },
  );
}
