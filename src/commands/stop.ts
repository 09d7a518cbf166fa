// `kubectl netns stop ID`: ends a detached capture (SIGINT to each of its tcpdumps, which write
// their last packet whole and their counts) and keeps what it captured on the node until it is
// fetched or its debug pods reach their deadline; --discard deletes it all at once instead.
import { defineCommand } from '../cli/command.ts';
import { runContext } from '../cli/global.ts';
import { info } from '../log.ts';
import { collectOk } from '../node/agent-ops.ts';
import { stopArgv } from '../node/agent.ts';
import { findDetached, podAgent, podSpools } from '../kube/detached.ts';
import { deleteDebugPod } from '../kube/leftovers.ts';
import { detachedNamespace, withDetachedId, type DetachedArgs } from './shared/detached-args.ts';

interface StopArgs extends DetachedArgs {
  discard: boolean;
}

export const stop = defineCommand<StopArgs>({
  name: 'stop',
  positionals: '<id>',
  summary: 'End a detached capture; its packets stay on the node until fetched',
  usage: 'stop ID [-n NAMESPACE | -A] [--discard]',
  examples: [
    ['End detached capture 7f3a9c21 and keep its packets for fetch', 'stop 7f3a9c21'],
    ['End it and delete its packets and debug pod now', 'stop 7f3a9c21 --discard'],
  ],
  builder: (y) =>
    withDetachedId(y).option('discard', {
      type: 'boolean',
      default: false,
      describe: 'Also delete its debug pods, and the packets they hold, now',
    }),
  run: runStop,
});

async function runStop(a: StopArgs): Promise<number> {
  const ctx = await runContext(a);
  const pods = await findDetached(ctx.client, detachedNamespace(ctx, a), a.id);
  let stopped = 0;
  for (const pod of pods) {
    for (const s of await podSpools(ctx.client, pod)) {
      if (!s.spool.state.running) continue;
      await collectOk(podAgent(ctx.client, pod), stopArgv(s.spool.id), 'stop');
      stopped++;
    }
  }
  if (a.discard) {
    for (const pod of pods) await deleteDebugPod(ctx.client, pod.metadata!.namespace!, pod.metadata!.name!);
    info(
      `detached capture ${a.id}: stopped ${stopped} capture(s) and deleted ${pods.length} debug pod(s) with their packets`,
    );
    return 0;
  }
  info(
    stopped > 0
      ? `detached capture ${a.id}: stopped ${stopped} capture(s); the packets stay on the node until fetched (kubectl netns fetch ${a.id}) or its deadline`
      : `detached capture ${a.id} had already ended; fetch it with kubectl netns fetch ${a.id}`,
  );
  return 0;
}
