// The first step of every command that acts on one pod: resolve what the user typed to a running
// pod, and tell them which pod a workload resolved to and what may surprise them about it.
import type { RunContext } from '../../cli/global.ts';
import { info, warn } from '../../log.ts';
import { parseTarget, resolveTarget, type ResolvedTarget } from '../../kube/target.ts';

/** Resolves TEXT (POD, deploy/NAME, ...) in the run's namespace and says what it chose. */
export async function resolveOneTarget(
  ctx: RunContext,
  text: string,
  container: string | undefined,
): Promise<ResolvedTarget> {
  const target = await resolveTarget(ctx.client, parseTarget(text), ctx.cfg.namespace, container);
  if (target.via) info(`${target.via}: using pod ${target.pod}`);
  for (const w of target.warnings) warn(w);
  return target;
}
