// The merger's heap: whatever order items go in, they come out sorted.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MinHeap } from '../../../src/pcap/min-heap.ts';

describe('MinHeap', () => {
  test('pops in ascending order for random pushes interleaved with pops', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed);
    const heap = new MinHeap<number>((a, b) => a < b);
    const model: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (rand() % 3 === 0 && model.length > 0) {
        model.sort((a, b) => a - b);
        assert.equal(heap.pop(), model.shift());
      } else {
        const v = rand() % 1000; // many duplicates
        heap.push(v);
        model.push(v);
      }
      assert.equal(heap.size, model.length);
    }
    model.sort((a, b) => a - b);
    const rest: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) rest.push(v);
    assert.deepEqual(rest, model);
  });

  test('empty heap: peek and pop give undefined', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    assert.equal(heap.peek(), undefined);
    assert.equal(heap.pop(), undefined);
    heap.push(3);
    assert.equal(heap.peek(), 3);
    assert.equal(heap.pop(), 3);
    assert.equal(heap.size, 0);
  });
});
