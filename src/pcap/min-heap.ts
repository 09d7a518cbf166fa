// A binary min-heap over an array: O(log n) push and pop, for the packet merger's reorder buffer
// (sorting on every push would be O(n log n) per packet).

/** A min-heap ordered by `less`; ties come out in no particular order unless `less` breaks them. */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The smallest item without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent] as T;
      if (!this.#less(item, p)) break;
      a[i] = p;
      i = parent;
    }
    a[i] = item;
  }

  /** Removes and returns the smallest item. */
  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    // Sift the last item down from the root.
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && this.#less(a[r] as T, a[l] as T) ? r : l;
      const c = a[child] as T;
      if (!this.#less(c, last)) break;
      a[i] = c;
      i = child;
    }
    a[i] = last;
    return top;
  }
}
