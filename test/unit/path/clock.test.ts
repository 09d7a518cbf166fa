import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateOffset, millisDecimals, roundMs } from '../../../src/path/clock.ts';

test('the offset lies between the fastest crossing each way; its uncertainty is half that interval', () => {
  // Node B is 250 ms ahead; one-way delays 0.1..0.4 ms out, 0.2..0.5 ms back.
  const theta = 250e6;
  const out = [0.1e6, 0.3e6, 0.4e6].map((d) => ({ outbound: true, rawNs: d + theta }));
  const back = [0.2e6, 0.5e6].map((d) => ({ outbound: false, rawNs: d - theta }));
  const e = estimateOffset([...out, ...back])!;
  // θ ∈ [-(0.2e6 - θ), 0.1e6 + θ] = [θ - 0.2 ms, θ + 0.1 ms]: middle θ - 0.05 ms, half-width 0.15 ms.
  assert.equal(e.offsetNs, theta - 0.05e6);
  assert.equal(e.uncertaintyNs, 0.15e6);
  assert.ok(Math.abs(e.offsetNs - theta) <= e.uncertaintyNs);
  assert.deepEqual([e.outbound, e.inbound], [3, 2]);
});

test('without crossings both ways there is no estimate', () => {
  assert.equal(estimateOffset([{ outbound: true, rawNs: 5 }]), undefined);
  assert.equal(estimateOffset([]), undefined);
});

test('figures are never shown finer than their uncertainty', () => {
  assert.equal(millisDecimals(0), 3);
  assert.equal(millisDecimals(37_000), 1); // ±0.037 ms: tenths of a ms
  assert.equal(millisDecimals(4_000), 2);
  assert.equal(millisDecimals(2_000_000), -1); // ±2 ms: tens of ms
  assert.equal(roundMs(1_234_567, 1), 1.2);
  assert.equal(roundMs(1_234_567, 3), 1.235);
  assert.equal(roundMs(17_000_000, -1), 20);
});
