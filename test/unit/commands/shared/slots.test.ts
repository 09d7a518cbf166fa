// At most N at once: the others wait, in order, and a failure frees its slot too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slots } from '../../../../src/commands/shared/slots.ts';

test('never more than N running; every one runs; a failure frees its slot', async () => {
  const slots = new Slots(3);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const jobs = Array.from({ length: 10 }, (_, i) =>
    slots.run(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5 + (i % 3) * 5));
      running--;
      order.push(i);
      if (i === 4) throw new Error('boom');
      return i;
    }),
  );
  const results = await Promise.allSettled(jobs);
  assert.equal(most, 3);
  assert.equal(order.length, 10);
  assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
  assert.equal(running, 0);
});
