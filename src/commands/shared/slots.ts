// At most N of something at once: the others wait for a slot, in the order they asked.
export class Slots {
  readonly #max: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(max: number) {
    this.#max = max;
  }

  /** Runs FN once a slot is free; the slot is free again when FN's promise settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy--;
    }
  }
}
