/**
 * A first-in first-out ring of items, without shifting: the playout queue (fixed capacity: a push
 * into a full ring drops the oldest item and returns it) and the far end's unacknowledged frames
 * (growable: a push into a full ring doubles it).
 */
export class Ring<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  readonly #growable: boolean;

  constructor(capacity: number, growable = false) {
    this.#items = new Array<T | undefined>(Math.max(1, capacity)).fill(undefined);
    this.#growable = growable;
  }

  get size(): number {
    return this.#size;
  }

  get capacity(): number {
    return this.#items.length;
  }

  /** Appends `item`; in a full fixed ring the oldest item makes room and is returned. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.#size === this.#items.length) {
      if (this.#growable) this.#grow();
      else dropped = this.shift();
    }
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
    return dropped;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  /** Removes every item, oldest first, handing each to `each`. */
  drain(each: (item: T) => void): void {
    for (let item = this.shift(); item !== undefined; item = this.shift()) each(item);
  }

  #grow(): void {
    const items = new Array<T | undefined>(this.#items.length * 2).fill(undefined);
    for (let i = 0; i < this.#size; i++) items[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = items;
    this.#head = 0;
  }
}
